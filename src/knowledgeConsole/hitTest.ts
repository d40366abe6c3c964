import type { Answer } from '../answer/types.js';
import { redactPii } from '../privacy/redact.js';
import { CONFIDENCE } from '../retrieval/confidence.js';
import type { KnowledgeIndex } from '../retrieval/knowledgeIndex.js';
import type { IndexedChunk, LegHit, RetrievalLeg } from '../retrieval/types.js';
import { foldDiacritics } from '../text/vietnamese.js';
import { ConsoleError } from './errors.js';

export interface HitRow {
  rank: number;
  score: number;
  chunkId: string;
  docId: string;
  title: string;
  headingPath: string[];
  snippet: string;
}

export interface HitTestResult {
  version: string;
  query: string;
  normalized: string;
  folded: string;
  expansions: { matched: string; added: string[] }[];
  legs: Record<RetrievalLeg, HitRow[]>;
  fused: (HitRow & { ranks: Partial<Record<RetrievalLeg, number>> })[];
  confidence: number;
  threshold: number;
  signals: Record<string, number>;
  faqMatch?: { chunkId: string; docId?: string; similarity: number; question: string };
  answer: {
    answered: boolean;
    text: string;
    sources: { title: string; file: string; section: string }[];
    confidence: number;
    mode: Answer['mode'];
  };
}

const round = (x: number) => Math.round(x * 10000) / 10000;

export function snippet(text: string, max = 240): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

function row(chunk: IndexedChunk | undefined, chunkId: string, rank: number, score: number): HitRow {
  return {
    rank,
    score: round(score),
    chunkId,
    docId: chunk?.docId ?? '',
    title: chunk?.title ?? '',
    headingPath: chunk?.headingPath ?? [],
    snippet: snippet(chunk?.text ?? ''),
  };
}

/**
 * Hit testing: what each retrieval leg found for a question, the fused ranking, the confidence,
 * and the answer the bot would give (the same AnswerService, no history, on the redacted text as
 * the bot sees it).
 */
export async function hitTest(o: {
  index: KnowledgeIndex | undefined;
  answers: { answer(request: { question: string }): Promise<Answer> };
  q: unknown;
  k?: unknown;
  maxChars: number;
}): Promise<HitTestResult> {
  const q = typeof o.q === 'string' ? o.q.trim() : '';
  if (!q) throw new ConsoleError(400, 'BadArgument', 'q (the question) is required');
  if (q.length > o.maxChars) {
    throw new ConsoleError(400, 'BadArgument', `q is longer than ${o.maxChars} characters`);
  }
  const k = o.k === undefined || o.k === null ? 10 : Number(o.k);
  if (!Number.isInteger(k) || k < 1 || k > 40) throw new ConsoleError(400, 'BadArgument', 'k must be 1–40');
  const index = o.index;
  if (!index) throw new ConsoleError(503, 'ServiceUnavailable', 'the knowledge index is not loaded yet');

  const r = await index.retriever.retrieve(q, { k });
  const chunk = (id: string) => index.retriever.chunkById(id);
  const leg = (hits: LegHit[]) =>
    hits.slice(0, k).map((h) => row(chunk(h.chunkId), h.chunkId, h.rank, h.score));
  const answer = await o.answers.answer({ question: redactPii(q).text });
  return {
    version: index.version,
    query: q,
    normalized: r.normalized,
    folded: foldDiacritics(r.normalized),
    expansions: r.expansions,
    legs: { lexical: leg(r.legs.lexical), vector: leg(r.legs.vector), faq: leg(r.legs.faq) },
    fused: r.hits.map((h, i) => ({ ...row(h.chunk, h.chunk.id, i + 1, h.score), ranks: h.ranks })),
    confidence: round(r.confidence),
    threshold: CONFIDENCE.answerThreshold,
    signals: Object.fromEntries(Object.entries(r.signals).map(([key, v]) => [key, round(v)])),
    faqMatch: r.faqMatch
      ? { ...r.faqMatch, similarity: round(r.faqMatch.similarity), docId: chunk(r.faqMatch.chunkId)?.docId }
      : undefined,
    answer: {
      answered: answer.answered,
      text: answer.text,
      sources: answer.sources.map(({ title, file, section }) => ({ title, file, section })),
      confidence: round(answer.confidence),
      mode: answer.mode,
    },
  };
}
