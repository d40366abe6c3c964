import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectLineClient } from '../helpers/directLineClient.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fakeOpenAI.js';
import { startApp, type RunningApp } from '../helpers/testApp.js';
import { prebuiltDataDir } from './service.js';

/**
 * The model endpoint down or slow, end to end over HTTP: the citizen still gets the extractive
 * answer (with its source) within the model's time budget plus a small margin, and the service
 * stays ready.
 */
const LLM_TIMEOUT_MS = 800;
const MARGIN_MS = 1500;
/** A question no FAQ entry matches strongly, so the model is asked to write the answer. */
const QUESTION = 'kiểm tra giao dịch chuyển khoản đã thành công chưa';
const MODEL_TEXT = 'Bạn mở ứng dụng ngân hàng, vào lịch sử giao dịch [1].';

const env = async (baseUrl: string) => ({
  DATA_DIR: await prebuiltDataDir(),
  OPENAI_BASE_URL: baseUrl,
  OPENAI_API_KEY: 'test-key',
  OPENAI_MODEL: 'fake-chat-model',
  LLM_TIMEOUT_MS: String(LLM_TIMEOUT_MS),
});

/** Asks QUESTION in a new conversation; resolves with the answer text and how long it took. */
async function ask(url: string, userId: string): Promise<{ text: string; ms: number }> {
  const dl = new DirectLineClient(url, userId);
  await dl.generate();
  await dl.start();
  await dl.waitFor((bot) => bot.length > 0);
  const t0 = Date.now();
  expect((await dl.post(QUESTION)).status).toBe(200);
  const all = await dl.waitFor((bot) => bot.length > 1, 10_000);
  const ms = Date.now() - t0;
  const bot = all.filter((a) => a.from.role === 'bot' && a.type === 'message');
  return { text: bot[1]!.text ?? '', ms };
}

const readyz = async (url: string) => (await fetch(`${url}/readyz`)).status;

describe('model endpoint down or slow', () => {
  let fake: FakeOpenAI;
  let app: RunningApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    app = await startApp(await env(fake.url));
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  it('uses the model while it is up (so the cases below do exercise the fallback)', async () => {
    fake.onChat(() => ({ content: MODEL_TEXT }));
    const { text } = await ask(app.url, 'model-up');
    expect(text).toContain('lịch sử giao dịch');
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('answers extractively at once when the model answers HTTP 500', async () => {
    fake.reset();
    fake.onChat(() => ({ status: 500 }));
    const { text, ms } = await ask(app.url, 'model-500');
    expect(fake.chatRequests()).toHaveLength(1); // no retries
    expect(text).toContain('Nguồn: ');
    expect(text).not.toContain(MODEL_TEXT);
    expect(ms).toBeLessThan(LLM_TIMEOUT_MS + MARGIN_MS);
    console.info(`model HTTP 500: extractive answer in ${ms} ms`);
    expect(await readyz(app.url)).toBe(200);
  });

  it('answers extractively within the time budget when the model hangs, and stays ready', async () => {
    fake.reset();
    fake.onChat(() => ({ content: 'Trả lời quá muộn [1].', delayMs: 30_000 }));
    const pending = ask(app.url, 'model-hangs');
    // While the model call hangs, the service is ready and other routes answer.
    await new Promise((r) => setTimeout(r, 200));
    expect(await readyz(app.url)).toBe(200);
    const { text, ms } = await pending;
    expect(fake.chatRequests()).toHaveLength(1);
    expect(text).toContain('Nguồn: ');
    expect(text).not.toContain('quá muộn');
    expect(ms).toBeGreaterThanOrEqual(LLM_TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(LLM_TIMEOUT_MS + MARGIN_MS);
    console.info(`model hangs: extractive answer in ${ms} ms (budget ${LLM_TIMEOUT_MS} + ${MARGIN_MS} ms)`);
    expect(await readyz(app.url)).toBe(200);
  });

  it('answers extractively at once when the model endpoint refuses connections', async () => {
    // A port nobody listens on.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));

    const down = await startApp(await env(`http://127.0.0.1:${port}/v1`));
    try {
      const { text, ms } = await ask(down.url, 'model-refused');
      expect(text).toContain('Nguồn: ');
      expect(ms).toBeLessThan(LLM_TIMEOUT_MS + MARGIN_MS);
      console.info(`model connection refused: extractive answer in ${ms} ms`);
      expect(await readyz(down.url)).toBe(200);
    } finally {
      await down.stop();
    }
  });
});
