import { afterEach, describe, expect, it } from 'vitest';
import { DirectLineClient } from '../helpers/directLineClient.js';
import { postEvent, startFakeZalo, textEvent, type FakeZalo } from '../helpers/fakeZalo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { onPostgres, startApp, type RunningApp } from '../helpers/testApp.js';
import { prebuiltDataDir } from './service.js';

/**
 * The Zalo API down: a Zalo citizen's message is still received (200 on the webhook), its reply
 * waits in the persisted outbox and is retried (attempts grow; it survives a restart),
 * web chat citizens meanwhile get answers at normal speed, and once Zalo is back the reply is
 * delivered exactly once.
 */
const APP_ID = '1234567890123456789';
const OA_SECRET = 'oa-secret-key';
const APP_SECRET = 'app-secret-key';
const USER = '5510185758261927916';
const WEB_CHAT_BUDGET_MS = 2000;

// The restarted service finds the same store: the same DATA_DIR, or the same PostgreSQL database.
const env = (f: FakeZalo, dataDir: string) => ({
  DATA_DIR: dataDir,
  ...(database ? { DATABASE_URL: database.url } : {}),
  ZALO_APP_ID: APP_ID,
  ZALO_OA_SECRET_KEY: OA_SECRET,
  ZALO_APP_SECRET: APP_SECRET,
  ZALO_ACCESS_TOKEN: 'env-access',
  ZALO_REFRESH_TOKEN: 'env-refresh',
  ZALO_API_BASE: f.url,
  ZALO_OAUTH_BASE: f.url,
});

interface OutboxRow {
  id: number;
  status: string;
  attempts: number;
  text: string | null;
}
const outbox = (r: RunningApp) =>
  r.app.assistant.sql.all<OutboxRow>(
    'SELECT id, status, attempts, text FROM zalo_outbox WHERE user_id = ? ORDER BY id',
    [USER],
  );

async function until<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A web chat question; resolves with how long the answer took. */
async function webChatLatency(url: string, userId: string): Promise<number> {
  const dl = new DirectLineClient(url, userId);
  await dl.generate();
  await dl.start();
  await dl.waitFor((bot) => bot.length > 0);
  const t0 = Date.now();
  expect((await dl.post('lam sao kich hoat vneid muc 2')).status).toBe(200);
  await dl.waitFor((bot) => bot.some((b) => /Nguồn: /.test(b.text ?? '')), 5000);
  return Date.now() - t0;
}

const running: RunningApp[] = [];
let fake: FakeZalo | undefined;
let database: TestDatabase | undefined;
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop().catch(() => undefined);
  await fake?.close();
  fake = undefined;
  await database?.drop();
  database = undefined;
});

describe('Zalo API down', () => {
  it('keeps and retries the reply, web chat unaffected, delivers exactly once when Zalo is back', async () => {
    const f = (fake = await startFakeZalo({
      accessToken: 'env-access',
      refreshToken: 'env-refresh',
      appSecret: APP_SECRET,
    }));
    // Down: the connection is cut (network error), then HTTP 500s.
    f.script('down');
    f.state.defaultOutcome = 'http500';
    const dataDir = await prebuiltDataDir('tlcds-zalo-down-');
    database = onPostgres ? await createTestDatabase() : undefined;
    const first = await startApp(env(f, dataDir));
    running.push(first);

    const webhook = await postEvent(first.url, textEvent(APP_ID, USER, 'chu ky so la gi', 'm-down-1'), {
      appId: APP_ID,
      oaSecretKey: OA_SECRET,
    });
    expect(webhook.status).toBe(200);

    // The reply is queued and retried with backoff (1 s, 2 s…): attempts grow, nothing is dropped.
    const retried = await until(
      async () => {
        const rows = await outbox(first);
        return rows.length > 0 && rows.every((r) => r.status === 'pending') && rows[0]!.attempts >= 2 && rows;
      },
      5000,
      'two failed attempts',
    );
    expect(f.delivered(USER)).toHaveLength(0);
    expect(f.cs.map((c) => c.outcome).slice(0, 2)).toEqual(['down', 'http500']);

    // Meanwhile a web chat citizen is answered at normal speed, and the service is ready.
    const latency = await webChatLatency(first.url, 'web-citizen-1');
    expect(latency).toBeLessThan(WEB_CHAT_BUDGET_MS);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);

    // A restart while Zalo is down: the queued reply survives (persisted outbox); Zalo comes back
    // meanwhile, and the restarted service delivers it.
    await first.stop();
    running.splice(running.indexOf(first), 1);
    const restartAt = Date.now();
    f.state.defaultOutcome = 'ok';
    const second = await startApp(env(f, dataDir));
    running.push(second);
    const sent = await until(
      async () => {
        const rows = await outbox(second);
        return rows.every((r) => r.status === 'sent') && rows;
      },
      8000,
      'delivery once Zalo is back',
    );
    expect(sent.map((r) => r.id)).toEqual(retried.map((r) => r.id));
    expect(f.delivered(USER).every((d) => d.at >= restartAt)).toBe(true);
    const latencyAfter = await webChatLatency(second.url, 'web-citizen-2');
    expect(latencyAfter).toBeLessThan(WEB_CHAT_BUDGET_MS);

    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
    const delivered = f.delivered(USER);
    expect(delivered).toHaveLength(sent.length);
    expect(new Set(delivered.map((d) => d.body.message.text)).size).toBe(delivered.length);
    expect(delivered[0]!.body.message.text).toMatch(/chữ ký số/i);
    const attempts = f.cs.filter((c) => c.body.recipient.user_id === USER).length;
    console.info(
      `Zalo down: ${attempts} attempts for ${sent.length} part(s), delivered once after recovery; ` +
        `web chat answered in ${latency} ms and ${latencyAfter} ms (budget ${WEB_CHAT_BUDGET_MS} ms)`,
    );
  }, 30_000);
});
