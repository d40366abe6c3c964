import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AnswerService, NOT_ANSWERED_TEXT } from '../../src/answer/answerService.js';
import { createGroundedModel, NO_ANSWER_TOKEN } from '../../src/answer/groundedGenerator.js';
import { loadConfig } from '../../src/config.js';
import { chatMessages, startFakeOpenAI, type ChatMessage, type FakeOpenAI } from '../helpers/fakeOpenAI.js';
import { buildRealIndex, removeDir, silentLogger, type BuiltIndex } from '../helpers/knowledge.js';

const MAX_CHARS = 700;
/** A question no FAQ entry matches strongly, so the model writes the answer. */
const QUESTION = 'kiểm tra giao dịch chuyển khoản đã thành công chưa';

let built: BuiltIndex;
let fake: FakeOpenAI;

beforeAll(async () => {
  [built, fake] = await Promise.all([buildRealIndex(), startFakeOpenAI()]);
});
afterEach(() => fake.reset());
afterAll(async () => {
  await fake?.close();
  removeDir(built?.dataDir);
});

/** The answer service as the assistant builds it, with the model on the fake server. */
function service(timeoutMs = 5000): AnswerService {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: built.dataDir,
    OPENAI_BASE_URL: fake.url,
    OPENAI_API_KEY: 'test-key',
    OPENAI_MODEL: 'fake-chat-model',
    LLM_TIMEOUT_MS: String(timeoutMs),
  });
  const model = createGroundedModel(config.llm!, MAX_CHARS);
  return new AnswerService({
    retriever: built.index.retriever,
    maxChars: MAX_CHARS,
    logger: silentLogger(),
    generator: model,
    rewriter: model,
    generatorTimeoutMs: config.llm!.timeoutMs,
  });
}

const system = (messages: ChatMessage[]) => messages.find((m) => m.role === 'system')?.content ?? '';
const user = (messages: ChatMessage[]) => messages.find((m) => m.role === 'user')?.content ?? '';
const isRewrite = (messages: ChatMessage[]) => /Viết lại câu hỏi nối tiếp/.test(system(messages));

describe('grounded answers with an OpenAI-compatible model', () => {
  it('answers from the passages the model cites, and names them as sources', async () => {
    fake.onChat(() => ({
      content:
        'Bạn mở ứng dụng ngân hàng, vào lịch sử giao dịch và xem trạng thái "thành công" [2]. Nếu chưa rõ, gọi tổng đài ngân hàng [2].',
    }));
    const answer = await service().answer({ question: QUESTION });

    expect(answer.retrieval.faqMatch).toBeUndefined();
    expect(answer.answered).toBe(true);
    expect(answer.mode).toBe('generative');
    expect(answer.body).toContain('lịch sử giao dịch');
    expect(answer.body).not.toMatch(/\[\d\]/);
    const cited = answer.retrieval.hits[1]!.chunk;
    expect(answer.sources).toHaveLength(1);
    expect(answer.sources[0]!.file).toBe(cited.docId);
    expect(answer.sources[0]!.title).toBe(cited.title);
    expect(answer.text).toMatch(/\n\nNguồn: /);

    // What the model was sent: the configured model, the rules, the numbered passages, the question.
    const [request] = fake.chatRequests();
    expect(fake.chatRequests()).toHaveLength(1);
    expect(request!.body.model).toBe('fake-chat-model');
    expect(request!.authorization).toBe('Bearer test-key');
    const messages = chatMessages(request!);
    expect(system(messages)).toContain(NO_ANSWER_TOKEN);
    expect(user(messages)).toContain(`[1] ${answer.retrieval.hits[0]!.chunk.title}`);
    expect(user(messages)).toContain(`[2] ${cited.title}`);
    expect(user(messages)).toContain(`Câu hỏi: ${QUESTION}`);
  });

  it('uses the first passage as the source when the model cites none that exists', async () => {
    fake.onChat(() => ({ content: 'Bạn xem lịch sử giao dịch trong ứng dụng ngân hàng [9].' }));
    const answer = await service().answer({ question: QUESTION });
    expect(answer.mode).toBe('generative');
    expect(answer.sources.map((s) => s.file)).toEqual([answer.retrieval.hits[0]!.chunk.docId]);
  });

  it('says it does not know when the model finds no answer in the passages', async () => {
    fake.onChat(() => ({ content: NO_ANSWER_TOKEN }));
    const answer = await service().answer({ question: QUESTION });
    expect(answer.answered).toBe(false);
    expect(answer.mode).toBe('none');
    expect(answer.text).toBe(NOT_ANSWERED_TEXT);
    expect(answer.sources).toEqual([]);
  });

  it('falls back to the extractive answer when the model fails with HTTP 500', async () => {
    fake.onChat(() => ({ status: 500 }));
    const answer = await service().answer({ question: QUESTION });
    expect(answer.answered).toBe(true);
    expect(answer.mode).toBe('extractive');
    expect(answer.fallbackReason).toBeTruthy();
    expect(answer.sources[0]!.file).toBe(answer.retrieval.hits[0]!.chunk.docId);
    expect(answer.text).toContain('Nguồn: ');
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('falls back to the extractive answer when the model is slower than the time budget', async () => {
    fake.onChat(() => ({ content: 'Trả lời quá muộn [1].', delayMs: 2000 }));
    const answer = await service(300).answer({ question: QUESTION });
    expect(answer.answered).toBe(true);
    expect(answer.mode).toBe('extractive');
    expect(answer.fallbackReason).toMatch(/300 ms|time|abort/i);
    expect(answer.body).not.toContain('quá muộn');
  });

  it('lets the model judge a question the offline policy is not sure about, and asks when it is down', async () => {
    // Offline this gets "did you mean" suggestions (confidence between the two thresholds).
    const unsure = 'làm lại bằng tốt nghiệp online ở đâu';
    fake.onChat(() => ({ content: NO_ANSWER_TOKEN }));
    const judged = await service().answer({ question: unsure });
    expect(fake.chatRequests()).toHaveLength(1);
    expect(judged).toMatchObject({ answered: false, mode: 'none' });

    fake.reset();
    fake.onChat(() => ({ status: 500 }));
    const fallback = await service().answer({ question: unsure });
    expect(fallback).toMatchObject({ answered: false, mode: 'clarify' });
    expect(fallback.fallbackReason).toBeTruthy();
    expect(fallback.suggestions!.length).toBeGreaterThan(0);
  });

  it('answers a strong FAQ match itself, without calling the model', async () => {
    fake.onChat(() => ({ content: 'không nên được dùng [1]' }));
    const answer = await service().answer({ question: 'lệ phí thủ tục bao nhiêu tiền' });
    expect(answer.mode).toBe('faq');
    expect(answer.sources[0]!.file).toBe('faq/dvc-thanh-toan-le-phi-truc-tuyen.md');
    expect(fake.chatRequests()).toHaveLength(0);
  });

  it('keeps a long Markdown reply readable on a phone: no markup, at most the answer length', async () => {
    const steps = Array.from(
      { length: 30 },
      (_, i) =>
        `${i + 1}. **Bước ${i + 1}**: mở ứng dụng ngân hàng, chọn mục lịch sử giao dịch và kiểm tra [1].`,
    );
    fake.onChat(() => ({ content: `## Cách kiểm tra\n\n${steps.join('\n')}` }));
    const answer = await service().answer({ question: QUESTION });
    expect(answer.mode).toBe('generative');
    expect(answer.body.length).toBeLessThanOrEqual(MAX_CHARS);
    expect(answer.body).not.toMatch(/\*\*|^#/m);
    expect(answer.body).toMatch(/^1\. Bước 1: /m);
    expect(answer.body.endsWith('…')).toBe(true);
    // Cut between steps, never inside one.
    const lines = answer.body.split('\n').filter((l) => /^\d+\. /.test(l));
    for (const line of lines) expect(line).toMatch(/kiểm tra\.$/);
  });
});

describe('follow-up questions with a model', () => {
  const PREVIOUS = 'cách nộp hồ sơ trực tuyến';
  const FOLLOW_UP = 'còn lệ phí thì sao?';
  const REWRITTEN = 'Lệ phí khi nộp hồ sơ trực tuyến trên Cổng Dịch vụ công là bao nhiêu và trả thế nào?';

  it('has the model rewrite the follow-up and retrieves the rewritten question', async () => {
    fake.onChat((messages) =>
      isRewrite(messages) ? { content: REWRITTEN } : { content: 'Bạn bấm thanh toán trong hồ sơ [1].' },
    );
    const answer = await service().answer({ question: FOLLOW_UP, previousQuestion: PREVIOUS });

    const rewrite = fake.chatRequests().map(chatMessages).find(isRewrite);
    expect(rewrite).toBeDefined();
    expect(user(rewrite!)).toContain(`Câu hỏi trước: ${PREVIOUS}`);
    expect(user(rewrite!)).toContain(`Câu hỏi nối tiếp: ${FOLLOW_UP}`);
    expect(answer.retrieval.query).toBe(REWRITTEN);
    expect(answer.answered).toBe(true);
    expect(answer.sources[0]!.file).toMatch(/thanh-toan-le-phi/);
  });

  it('still answers when the rewrite fails, with both questions as the query', async () => {
    fake.onChat((messages) => (isRewrite(messages) ? { status: 500 } : { content: NO_ANSWER_TOKEN }));
    const answer = await service().answer({ question: FOLLOW_UP, previousQuestion: PREVIOUS });
    expect(answer.retrieval.query).toContain(FOLLOW_UP);
    expect(answer.retrieval.query).toContain(PREVIOUS);
    expect(fake.chatRequests().map(chatMessages).some(isRewrite)).toBe(true);
  });
});
