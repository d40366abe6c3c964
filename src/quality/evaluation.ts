import fs from 'node:fs';
import path from 'node:path';
import { detectIntent } from '../../dialogs/intents.js';
import type { Answer } from '../answer/types.js';
import type { RetrievalResult, Retriever } from '../retrieval/types.js';
import { hasDiacritics } from '../text/vietnamese.js';
import type { EvalItem } from './evalSet.js';

/** One evaluated question. Ranks are 1-based document ranks; Infinity when not in the top 10. */
export interface EvalRow {
  item: EvalItem;
  rank: number;
  baselineRank: number;
  answered: boolean;
  /** The assistant asked which of the nearest entries the citizen means instead of answering. */
  clarified: boolean;
  /** For an answered question: whether the answer's first source is an expected document. */
  firstRight: boolean;
  /** The document the answer's first source comes from (answered questions only). */
  firstDoc?: string;
  /** For a clarified question: whether one of the suggestions is an expected document. */
  suggestionRight: boolean;
  /** The dialogs would route it as out of scope (and the answer is not sure enough to override). */
  routedOut: boolean;
  confidence: number;
}

interface RetrievalFigures {
  recallAt1: number;
  recallAt5: number;
  mrrAt10: number;
  recallAt5WithDiacritics: number;
  recallAt5WithoutDiacritics: number;
}

/** The content of `DATA_DIR/eval/<version>.json` (the shape `npm run eval` has always written). */
export interface EvalMetrics {
  version: string;
  embedder: string;
  questions: { inScope: number; withDiacritics: number; withoutDiacritics: number; outOfScope: number };
  ours: RetrievalFigures & {
    answeredInScope: number;
    /** Of the in-scope questions answered outright, the share whose first source was expected. */
    answeredRight?: number;
    /** In-scope questions met with "did you mean" suggestions instead of an answer. */
    clarifiedInScope?: number;
    /** Of those, the share where a suggestion was an expected document. */
    clarifiedWithRightSuggestion?: number;
    rejectedOutOfScope: number;
    rejectedOutOfScopeByConfidenceAlone: number;
  };
  /** LangChain's BM25Retriever on the same chunks (`npm run eval` only). */
  baselineBm25?: RetrievalFigures;
  at: string;
  /** What ran it: "npm run eval", "console" (after a re-index) or "npm run kb". */
  source?: string;
  /** "extractive" when the answers were written without a language model. */
  answers?: string;
}

/** The figures the knowledge console shows per index version. */
export interface EvalFigures {
  version: string;
  createdAt: string;
  recallAt1: number;
  recallAt5: number;
  mrr: number;
  recallAt5Diacritics: number;
  recallAt5NoDiacritics: number;
  answeredInScope: number;
  outOfScopeRejected: number;
  questions: number;
  source?: string;
}

export interface EvaluateOptions {
  retriever: Retriever;
  answers: { answer(request: { question: string }): Promise<Answer> };
  items: readonly EvalItem[];
  version: string;
  embedder: string;
  /** Document ids ranked by a baseline retriever, best first (for the side-by-side in `npm run eval`). */
  baseline?: (question: string) => Promise<string[]>;
  /** Stops the run (it then throws the signal's reason). */
  signal?: AbortSignal;
  /**
   * Awaited before each question: inside the service it lets chat turns run in between, and waits
   * while a re-index is building.
   */
  pause?: () => Promise<void>;
  source?: string;
  answersMode?: string;
}

/** Retrieval and answer-policy quality over an eval set. */
export async function evaluate(o: EvaluateOptions): Promise<{ rows: EvalRow[]; metrics: EvalMetrics }> {
  // Loaded here, not at the top: the dialogs load the Bot Framework, which `npm run kb -- list` need not.
  const { OUT_OF_SCOPE_OVERRIDE } = await import('../../dialogs/mainDialog.js');
  const rows: EvalRow[] = [];
  for (const item of o.items) {
    o.signal?.throwIfAborted();
    if (o.pause) {
      await o.pause();
      o.signal?.throwIfAborted();
    }
    const retrieval = await o.retriever.retrieve(item.q, { k: 10 });
    const answer = await o.answers.answer({ question: item.q });
    // An FAQ entry that condenses a guide answers for that guide too.
    const docs = [...new Set(retrieval.hits.map((h) => `${h.chunk.docId}|${h.chunk.source ?? ''}`))];
    const baseDocs = o.baseline ? [...new Set(await o.baseline(item.q))] : [];
    const rankOf = (list: string[]) => {
      const i = list.findIndex((d) => d.split('|').some((x) => x && item.expected?.includes(x)));
      return i < 0 ? Infinity : i + 1;
    };
    const intent = detectIntent(item.q).kind;
    const isExpected = (chunkIds: readonly string[]) =>
      answer.retrieval.hits.some(
        (h) =>
          chunkIds.includes(h.chunk.id) &&
          [h.chunk.docId, h.chunk.source].some((d) => d && item.expected?.includes(d)),
      );
    const first = answer.answered ? answer.retrieval.hits[0]?.chunk : undefined;
    rows.push({
      item,
      rank: rankOf(docs),
      baselineRank: rankOf(baseDocs),
      answered: answer.answered,
      clarified: answer.mode === 'clarify',
      firstRight: first !== undefined && isExpected([first.id]),
      firstDoc: first?.docId,
      suggestionRight: isExpected((answer.suggestions ?? []).map((s) => s.chunkId)),
      routedOut:
        intent === 'out_of_scope' && !(answer.answered && answer.confidence >= OUT_OF_SCOPE_OVERRIDE),
      confidence: retrieval.confidence,
    });
  }

  const inScope = rows.filter((r) => r.item.scope === 'in');
  const outScope = rows.filter((r) => r.item.scope === 'out');
  const withD = inScope.filter((r) => hasDiacritics(r.item.q));
  const withoutD = inScope.filter((r) => !hasDiacritics(r.item.q));
  const figures = (key: 'rank' | 'baselineRank'): RetrievalFigures => ({
    recallAt1: recallAt(inScope, 1, key),
    recallAt5: recallAt(inScope, 5, key),
    mrrAt10: mrr(inScope, key),
    recallAt5WithDiacritics: recallAt(withD, 5, key),
    recallAt5WithoutDiacritics: recallAt(withoutD, 5, key),
  });
  const metrics: EvalMetrics = {
    version: o.version,
    embedder: o.embedder,
    questions: {
      inScope: inScope.length,
      withDiacritics: withD.length,
      withoutDiacritics: withoutD.length,
      outOfScope: outScope.length,
    },
    ours: {
      ...figures('rank'),
      answeredInScope: inScope.filter((r) => r.answered && !r.routedOut).length / (inScope.length || 1),
      answeredRight: share(
        inScope.filter((r) => r.answered && !r.routedOut),
        (r) => r.firstRight,
      ),
      clarifiedInScope: share(inScope, (r) => r.clarified && !r.routedOut),
      clarifiedWithRightSuggestion: share(
        inScope.filter((r) => r.clarified && !r.routedOut),
        (r) => r.suggestionRight,
      ),
      rejectedOutOfScope: outScope.filter((r) => !r.answered || r.routedOut).length / (outScope.length || 1),
      rejectedOutOfScopeByConfidenceAlone:
        outScope.filter((r) => !r.answered).length / (outScope.length || 1),
    },
    baselineBm25: o.baseline ? figures('baselineRank') : undefined,
    at: new Date().toISOString(),
    source: o.source,
    answers: o.answersMode,
  };
  return { rows, metrics };
}

function share<T>(rows: readonly T[], test: (row: T) => boolean): number {
  return rows.filter(test).length / (rows.length || 1);
}

export function recallAt(rows: readonly EvalRow[], k: number, key: 'rank' | 'baselineRank' = 'rank'): number {
  return rows.filter((r) => r[key] <= k).length / (rows.length || 1);
}

export function mrr(rows: readonly EvalRow[], key: 'rank' | 'baselineRank' = 'rank'): number {
  return rows.reduce((s, r) => s + (r[key] <= 10 ? 1 / r[key] : 0), 0) / (rows.length || 1);
}

/**
 * A retriever that runs each query once: the eval asks for the top 10 and the answer policy for the
 * top 5 of the same question, and the top 5 of a top-10 result are the same hits.
 */
export function memoizingRetriever(inner: Retriever): Retriever {
  let last: { query: string; k: number; result: Promise<RetrievalResult> } | undefined;
  return {
    async retrieve(query, options) {
      const k = options?.k ?? 5;
      if (!last || last.query !== query || last.k < k) {
        last = { query, k: Math.max(k, 10), result: inner.retrieve(query, { k: Math.max(k, 10) }) };
      }
      const result = await last.result;
      return { ...result, hits: result.hits.slice(0, k) };
    },
  };
}

export function figuresOf(m: EvalMetrics): EvalFigures {
  return {
    version: m.version,
    createdAt: m.at,
    recallAt1: m.ours.recallAt1,
    recallAt5: m.ours.recallAt5,
    mrr: m.ours.mrrAt10,
    recallAt5Diacritics: m.ours.recallAt5WithDiacritics,
    recallAt5NoDiacritics: m.ours.recallAt5WithoutDiacritics,
    answeredInScope: m.ours.answeredInScope,
    outOfScopeRejected: m.ours.rejectedOutOfScope,
    questions: m.questions.inScope + m.questions.outOfScope,
    source: m.source,
  };
}

export function evalDir(dataDir: string): string {
  return path.join(dataDir, 'eval');
}

/** Writes `DATA_DIR/eval/<version>.json` atomically; returns its path. */
export function writeEvalRun(dataDir: string, metrics: EvalMetrics): string {
  const dir = evalDir(dataDir);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${metrics.version}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(metrics, null, 2));
  fs.renameSync(tmp, file);
  return file;
}

export function readEvalRun(dataDir: string, version: string): EvalMetrics | undefined {
  if (!/^[\w.-]+$/.test(version)) return undefined;
  try {
    const m = JSON.parse(
      fs.readFileSync(path.join(evalDir(dataDir), `${version}.json`), 'utf8'),
    ) as EvalMetrics;
    return m?.ours && m.questions ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Every stored eval run, newest first. */
export function listEvalRuns(dataDir: string): EvalFigures[] {
  const dir = evalDir(dataDir);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const m = readEvalRun(dataDir, f.slice(0, -'.json'.length));
      return m ? [figuresOf(m)] : [];
    })
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.version.localeCompare(a.version));
}
