import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIDENCE } from '../../src/retrieval/confidence.js';
import { FUSION } from '../../src/retrieval/hybridRetriever.js';
import type { HybridRetriever } from '../../src/retrieval/hybridRetriever.js';
import * as vietnamese from '../../src/text/vietnamese.js';
import { buildRealIndex, hitDocs, makeTempDir, removeDir, type BuiltIndex } from '../helpers/knowledge.js';

let built: BuiltIndex;
let retriever: HybridRetriever;

beforeAll(async () => {
  built = await buildRealIndex();
  retriever = built.index.retriever;
});
afterAll(() => removeDir(built?.dataDir));

interface EvalItem {
  q: string;
  scope: 'in' | 'out';
  expected?: string[];
}

function loadEvalItems(): EvalItem[] {
  const dir = path.resolve('test/fixtures/eval');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) =>
      fs
        .readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as EvalItem),
    );
}

const KICH_HOAT = 'guides/vneid-dang-ky-va-kich-hoat-muc-2.md';
const withDiacritics = 'Làm sao kích hoạt tài khoản VNeID mức 2 trên điện thoại?';

describe('hybrid retrieval over the real knowledge base', () => {
  it.each([
    ['with diacritics', withDiacritics, KICH_HOAT],
    ['without diacritics', 'lam sao kich hoat tai khoan vneid muc 2 tren dien thoai', KICH_HOAT],
    ['in NFD (decomposed diacritics)', withDiacritics.normalize('NFD'), KICH_HOAT],
    [
      'with DVC',
      'nộp phí hồ sơ DVC qua ví điện tử hay CK NH được không',
      'guides/dvc-thanh-toan-le-phi-truc-tuyen.md',
    ],
    ['with CCCD', 'đăng ký VNeID mức 2 cần mang CCCD gắn chip với gì nữa', KICH_HOAT],
    ['with CKS', 'CKS dùng để làm gì hả bạn', 'guides/cks-chu-ky-so-la-gi.md'],
    [
      'with a typo (nhâp, đc)',
      'đăng nhâp dich vụ công không nhận đc mã otp',
      'guides/dvc-dang-nhap-bang-vneid.md',
    ],
    ['with a typo (cưu for cứu)', 'tra cưu hồ sơ TTHC nhập mã ko ra', 'guides/dvc-tra-cuu-ho-so.md'],
    ['with a typo (vnied for vneid)', 'quen mat khau vnied', 'guides/vneid-quen-mat-khau.md'],
  ])('finds the expected guide in the top 3 for a question %s', async (_style, question, expected) => {
    const result = await retriever.retrieve(question, { k: 5 });
    expect(hitDocs(result.hits, 3)).toContain(expected);
    expect(result.confidence).toBeGreaterThanOrEqual(CONFIDENCE.answerThreshold);
  });

  it('gives the same hits for NFC and NFD input', async () => {
    const nfc = await retriever.retrieve(withDiacritics);
    const nfd = await retriever.retrieve(withDiacritics.normalize('NFD'));
    expect(nfd.normalized).toBe(nfc.normalized);
    expect(nfd.hits.map((h) => h.chunk.id)).toEqual(nfc.hits.map((h) => h.chunk.id));
  });

  it('returns hits with title, section path, file, date and score, best first', async () => {
    const result = await retriever.retrieve('các bước kích hoạt tài khoản VNeID mức 2', { k: 5 });
    expect(result.hits).toHaveLength(5);
    // FAQ entries come first; a guide's section carries its heading path.
    const guideHit = result.hits.find((h) => h.chunk.docId.startsWith('guides/vneid-'));
    expect(guideHit).toBeDefined();
    expect(guideHit!.chunk.title).toMatch(/VNeID/);
    expect(guideHit!.chunk.headingPath.length).toBeGreaterThan(0);
    expect(guideHit!.chunk.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const h of result.hits) {
      expect(h.chunk.docId).toMatch(/^(guides|faq|plans)\/[\w-]+\.md$/);
      expect(h.score).toBeGreaterThan(0);
      expect(Object.keys(h.ranks).length).toBeGreaterThan(0);
    }
    const scores = result.hits.map((h) => h.score);
    // Ordered best first, except that a strong FAQ match may be lifted to the top.
    const rest = result.faqMatch ? scores.slice(1) : scores;
    expect(rest).toEqual([...rest].sort((a, b) => b - a));
  });

  it('honours k', async () => {
    expect((await retriever.retrieve('chữ ký số', { k: 2 })).hits).toHaveLength(2);
    expect((await retriever.retrieve('chữ ký số', { k: 8 })).hits).toHaveLength(8);
  });

  it('is not confident about an out-of-scope question and is about in-scope ones', async () => {
    const gold = await retriever.retrieve('giá vàng hôm nay bao nhiêu');
    expect(gold.confidence).toBeLessThan(CONFIDENCE.answerThreshold);
    for (const q of ['quên mật khẩu VNeID phải làm sao', 'chuyen khoan bang ma vietqr', 'CKS là gì']) {
      const r = await retriever.retrieve(q);
      expect(r.confidence, q).toBeGreaterThanOrEqual(CONFIDENCE.answerThreshold);
    }
  });

  it('holds its quality over the whole eval set (a regression guard; npm run eval has the details)', async () => {
    const items = loadEvalItems();
    let top3 = 0;
    let confidentIn = 0;
    let unsureOut = 0;
    const inScope = items.filter((i) => i.scope === 'in');
    const outScope = items.filter((i) => i.scope === 'out');
    for (const item of inScope) {
      const r = await retriever.retrieve(item.q, { k: 5 });
      if (item.expected!.some((e) => hitDocs(r.hits, 3).includes(e))) top3 += 1;
      if (r.confidence >= CONFIDENCE.answerThreshold) confidentIn += 1;
    }
    for (const item of outScope) {
      if ((await retriever.retrieve(item.q)).confidence < CONFIDENCE.answerThreshold) unsureOut += 1;
    }
    // On 2026-11-23: 90.9 % in the top 3, 97.2 % confident in scope, 84.4 % unsure out of scope
    // (the router's out-of-scope rules reject most of the rest).
    expect(top3 / inScope.length).toBeGreaterThanOrEqual(0.88);
    expect(confidentIn / inScope.length).toBeGreaterThanOrEqual(0.95);
    expect(unsureOut / outScope.length).toBeGreaterThanOrEqual(0.8);
  });

  it('puts a strong FAQ match first and reports it', async () => {
    const result = await retriever.retrieve('lệ phí thủ tục bao nhiêu tiền');
    expect(result.faqMatch).toBeDefined();
    expect(result.faqMatch!.similarity).toBeGreaterThanOrEqual(FUSION.faqStrong);
    expect(result.hits[0]!.chunk.id).toBe(result.faqMatch!.chunkId);
    expect(result.hits[0]!.chunk.kind).toBe('faq');
    expect(result.hits[0]!.chunk.source).toBe('guides/dvc-thanh-toan-le-phi-truc-tuyen.md');
    expect(result.hits[0]!.chunk.questions).toContain(result.faqMatch!.question);
  });

  it('matches a paraphrase typed word for word, although synonyms were added to the query', async () => {
    // "ma otp la gi" is a paraphrase of the OTP entry; "otp" expands to other words for the other legs.
    const result = await retriever.retrieve('ma otp la gi');
    expect(result.expansions.length).toBeGreaterThan(0);
    expect(result.faqMatch!.similarity).toBeGreaterThan(0.99);
    expect(result.hits[0]!.chunk.docId).toBe('faq/at-khong-chia-se-otp-mat-khau.md');
  });

  it('answers "X là gì" with the entry that says what X is, not another entry about X', async () => {
    for (const q of ['DVC la gi', 'dịch vụ công là gì']) {
      const result = await retriever.retrieve(q);
      expect(result.hits[0]!.chunk.source, q).toBe('guides/dvc-cong-dich-vu-cong-quoc-gia-la-gi.md');
    }
  });

  it('picks the better of two strong FAQ matches by all legs, not by a hair of similarity', async () => {
    // "cách nộp hồ sơ trực tuyến" is close to two FAQ entries: how to submit a dossier online,
    // and how to sign a dossier digitally. The first is what was asked.
    const result = await retriever.retrieve('cách nộp hồ sơ trực tuyến');
    expect(result.hits[0]!.chunk.docId).toBe('faq/dvc-nop-ho-so-truc-tuyen.md');
  });

  it('reports the synonym expansion it used, in both directions', async () => {
    const abbreviated = await retriever.retrieve('CKS là gì');
    const cks = abbreviated.expansions.find((e) => e.matched === 'cks');
    expect(cks?.added).toContain('chữ ký số');

    const spelled = await retriever.retrieve('đăng nhập dịch vụ công');
    const dvc = spelled.expansions.find((e) => e.added.includes('dvc'));
    expect(dvc).toBeDefined();

    const none = await retriever.retrieve('giá vàng hôm nay');
    expect(none.expansions).toEqual([]);
  });

  it('keeps the next part of the same guide for "bước tiếp theo"', () => {
    const chunks = retriever.chunks.filter((c) => c.docId === KICH_HOAT);
    expect(chunks.length).toBeGreaterThan(1);
    expect(retriever.nextChunk(chunks[0]!.id)?.id).toBe(chunks[1]!.id);
    expect(retriever.nextChunk(chunks.at(-1)!.id)).toBeUndefined();
    expect(retriever.nextChunk('no-such-chunk')).toBeUndefined();
  });

  it('ranks the vector leg by exact cosine similarity, and the graph search agrees on the best hit', async () => {
    const { readVectors } = await import('../../src/retrieval/indexLoader.js');
    const { IndexVersions } = await import('../../src/retrieval/indexVersions.js');
    const { entries, vectors } = readVectors(new IndexVersions(built.dataDir).dir(built.manifest.version));
    const byChunk = new Map(
      entries.flatMap((e, i) => (e.question ? [] : [[e.chunkId, vectors[i]!] as const])),
    );
    const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let i = 0; i < a.length; i++) {
        ab += a[i]! * b[i]!;
        aa += a[i]! * a[i]!;
        bb += b[i]! * b[i]!;
      }
      return ab / Math.sqrt(aa * bb);
    };
    for (const q of ['quen mat khau vnied', 'Chuyển khoản bằng mã VietQR thế nào?', 'CKS là gì']) {
      const r = await retriever.retrieve(q);
      const query = built.embeddings.embed(r.expansions.length ? expandedText(q) : q);
      const brute = retriever.chunks
        .map((c) => ({ id: c.id, sim: cosine(query, byChunk.get(c.id)!) }))
        .filter((x) => x.sim > 0)
        .sort((a, b) => b.sim - a.sim);
      expect(r.legs.vector.map((h) => h.chunkId)).toEqual(brute.slice(0, FUSION.legDepth).map((x) => x.id));
      expect(r.legs.vector[0]!.score).toBeCloseTo(brute[0]!.sim, 6);
      const store = (
        retriever as unknown as {
          parts: { vectorStore: () => Promise<import('@langchain/community/vectorstores/hnswlib').HNSWLib> };
        }
      ).parts.vectorStore;
      const graph = await (await store()).similaritySearchVectorWithScore(query, 3);
      expect(graph[0]![0].metadata.chunkId).toBe(brute[0]!.id);
    }
  });
});

describe('the hnswlib graph with the offline embedding', () => {
  it('is not read to load a version or to answer, yet opens when asked', async () => {
    const { IndexVersions } = await import('../../src/retrieval/indexVersions.js');
    const { loadIndexVersion } = await import('../../src/retrieval/indexLoader.js');
    const copy = makeTempDir('tlcds-graph-');
    try {
      fs.cpSync(new IndexVersions(built.dataDir).dir(built.manifest.version), copy, { recursive: true });
      const graphFile = path.join(copy, 'hnsw', 'hnswlib.index');
      const graphBytes = fs.readFileSync(graphFile);
      fs.writeFileSync(graphFile, ''); // a graph that cannot be read
      const loaded = await loadIndexVersion(copy, built.embeddings);
      const q = 'Chuyển khoản bằng mã VietQR thế nào?';
      expect(hitDocs((await loaded.retriever.retrieve(q)).hits)).toEqual(
        hitDocs((await retriever.retrieve(q)).hits),
      );

      // Through the retriever's own opener: a failed open must not be kept for later questions.
      type Graph = { graph(): Promise<{ similaritySearch(q: string, k: number): Promise<unknown[]> }> };
      const open = () => (loaded.retriever as unknown as Graph).graph();
      await expect(open()).rejects.toThrow();
      fs.writeFileSync(graphFile, graphBytes);
      expect(await (await open()).similaritySearch(q, 3)).toHaveLength(3);

      fs.rmSync(graphFile); // but a version that lost it is not loaded (corruptIndex.test.ts)
      await expect(loadIndexVersion(copy, built.embeddings)).rejects.toThrow(/hnsw\/hnswlib.index/);
    } finally {
      removeDir(copy);
    }
  });
});

/** The text the retriever embeds: the normalized question with its synonym expansions. */
function expandedText(q: string): string {
  const { normalizeText } = vietnamese;
  return (
    retriever as unknown as { parts: { synonyms: { expand(t: string): { text: string } } } }
  ).parts.synonyms.expand(normalizeText(q)).text;
}
