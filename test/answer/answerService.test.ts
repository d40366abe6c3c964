import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerService, CLARIFY_INTRO, NOT_ANSWERED_TEXT } from '../../src/answer/answerService.js';
import { PII_PLACEHOLDERS, redactPii } from '../../src/privacy/redact.js';
import { CONFIDENCE } from '../../src/retrieval/confidence.js';
import { buildRealIndex, removeDir, silentLogger, type BuiltIndex } from '../helpers/knowledge.js';

const MAX_CHARS = 700;
let built: BuiltIndex;
let answers: AnswerService;

beforeAll(async () => {
  built = await buildRealIndex();
  answers = new AnswerService({
    retriever: built.index.retriever,
    maxChars: MAX_CHARS,
    logger: silentLogger(),
  });
});
afterAll(() => removeDir(built?.dataDir));

describe('AnswerService offline (no model configured)', () => {
  it('answers from the passages with the sources line, within the phone length', async () => {
    const answer = await answers.answer({ question: 'kiểm tra giao dịch chuyển khoản đã thành công chưa' });
    expect(answer.answered).toBe(true);
    expect(['extractive', 'faq']).toContain(answer.mode);
    expect(answer.confidence).toBeGreaterThanOrEqual(CONFIDENCE.answerThreshold);
    expect(answer.body.length).toBeLessThanOrEqual(MAX_CHARS);
    expect(answer.sources[0]!.file).toBe(answer.retrieval.hits[0]!.chunk.docId);
    expect(answer.text).toBe(`${answer.body}\n\n${answer.text.split('\n\n').at(-1)}`);
    expect(answer.text.split('\n').at(-1)).toMatch(/^Nguồn: /);
    expect(answer.topic).toBe(answer.retrieval.hits[0]!.chunk.topic);
  });

  it('answers a strong FAQ match with that entry alone', async () => {
    const answer = await answers.answer({ question: 'lệ phí thủ tục bao nhiêu tiền' });
    expect(answer.mode).toBe('faq');
    expect(answer.sources).toHaveLength(1);
    expect(answer.sources[0]!.file).toBe('faq/dvc-thanh-toan-le-phi-truc-tuyen.md');
  });

  it('says honestly that it does not know an out-of-scope question', async () => {
    const answer = await answers.answer({ question: 'giá vàng hôm nay bao nhiêu' });
    expect(answer).toMatchObject({ answered: false, mode: 'none', text: NOT_ANSWERED_TEXT, sources: [] });
    expect(answer.confidence).toBeLessThan(CONFIDENCE.answerThreshold);
  });

  it('does not search the words of a privacy placeholder', async () => {
    // What the bot passes on after redaction: the phone number became "[số điện thoại]".
    const unknown = redactPii('thủ tục nhận nuôi chó mèo ở nước ngoài thế nào, gọi tôi số 0912345678').text;
    expect(unknown).toContain(PII_PLACEHOLDERS.phone);
    const answer = await answers.answer({ question: unknown });
    expect(answer.answered).toBe(false);
    expect(answer.retrieval.query).not.toContain('điện thoại');

    const known = redactPii('tôi quên mật khẩu VNeID, số điện thoại của tôi là 0912345678').text;
    const answered = await answers.answer({ question: known });
    expect(answered.answered).toBe(true);
    expect(answered.sources[0]!.file).toMatch(/vneid-quen-mat-khau/);
  });

  it('carries the previous question into a follow-up when there is no model to rewrite it', async () => {
    const answer = await answers.answer({
      question: 'còn trên điện thoại thì sao?',
      previousQuestion: 'cách ký số hồ sơ dịch vụ công',
    });
    expect(answer.retrieval.query).toBe('còn trên điện thoại thì sao? cách ký số hồ sơ dịch vụ công');
    expect(answer.answered).toBe(true);
    expect(answer.sources[0]!.file).toMatch(/cks-/);
  });

  it('respects a configured answer threshold', async () => {
    const strict = new AnswerService({
      retriever: built.index.retriever,
      maxChars: MAX_CHARS,
      logger: silentLogger(),
      answerThreshold: 1.01,
    });
    const answer = await strict.answer({ question: 'quên mật khẩu VNeID phải làm sao' });
    expect(answer.answered).toBe(false);
  });
});

describe('AnswerService offline, when it is not sure what the citizen means', () => {
  // Reissuing a school diploma is not in the knowledge; the nearest entries are about reissuing
  // other papers. (Sweep 8's fee exemption for poor households, asked here before, now has an entry.)
  const UNCOVERED = 'làm lại bằng tốt nghiệp online ở đâu';

  it('asks which of the nearest entries the citizen means instead of answering from one', async () => {
    const answer = await answers.answer({ question: UNCOVERED });
    expect(answer).toMatchObject({ answered: false, mode: 'clarify', sources: [] });
    expect(answer.confidence).toBeGreaterThanOrEqual(CONFIDENCE.answerThreshold);
    expect(answer.confidence).toBeLessThan(CONFIDENCE.clarifyBelow);
    const suggestions = answer.suggestions!;
    expect(suggestions.length).toBeGreaterThanOrEqual(1);
    expect(suggestions.length).toBeLessThanOrEqual(3);
    expect(answer.text.split('\n')).toEqual([
      CLARIFY_INTRO,
      ...suggestions.map((s, i) => `${i + 1}. ${s.label}`),
    ]);
    // One suggestion per subject: a document once, and never a guide beside an FAQ entry condensing it.
    const chunks = suggestions.map((s) => answer.retrieval.hits.find((h) => h.chunk.id === s.chunkId)!.chunk);
    const docs = chunks.map((c) => c.docId);
    expect(new Set(docs).size).toBe(docs.length);
    for (const c of chunks) if (c.source) expect(docs).not.toContain(c.source);
    for (const s of suggestions) expect(s.label.length).toBeLessThanOrEqual(80);
    expect(answer.text).not.toMatch(/Nguồn:/);
  });

  it('answers from the entry the citizen chose, and from nothing once it is gone', async () => {
    const question = 'cán bộ xã nói hồ sơ chưa đủ, tui phải làm chi tiếp';
    const asked = await answers.answer({ question });
    expect(asked.mode).toBe('clarify');
    const supplement = asked.suggestions!.find((s) => /bổ sung/i.test(s.label));
    expect(supplement).toBeDefined();

    const chosen = await answers.answerChosen(question, supplement!.chunkId);
    expect(chosen).toMatchObject({ answered: true });
    expect(chosen!.sources[0]!.file).toBe(supplement!.file);
    expect(chosen!.body).toMatch(/bổ sung/i);
    expect(chosen!.text.split('\n').at(-1)).toMatch(/^Nguồn: /);

    expect(await answers.answerChosen(question, 'guides/khong-co.md#0')).toBeUndefined();
  });

  it('answers outright below the bar when the lexical and vector legs agree on the document', async () => {
    const question = 'ĐT mới mua đặt mật khẩu màn hình ở đâu';
    const answer = await answers.answer({ question });
    expect(answer.retrieval.signals.agreement).toBe(1);
    expect(answer.confidence).toBeLessThan(CONFIDENCE.clarifyBelow);
    expect(answer.answered).toBe(true);
    expect(answer.sources[0]!.file).toBe('guides/cb-su-dung-dien-thoai-thong-minh.md');

    const withoutTheRule = new AnswerService({
      retriever: built.index.retriever,
      maxChars: MAX_CHARS,
      logger: silentLogger(),
      clarifyBelowWhenLegsAgree: CONFIDENCE.clarifyBelow,
    });
    expect((await withoutTheRule.answer({ question })).mode).toBe('clarify');
  });
});
