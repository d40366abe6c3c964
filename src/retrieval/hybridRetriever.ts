import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import type { HNSWLib } from '@langchain/community/vectorstores/hnswlib';
import {
  analyze,
  canonicalSyllable,
  foldDiacritics,
  hasDiacritics,
  normalizeText,
  STOPWORDS_FOLDED,
  tokenize,
} from '../text/vietnamese.js';
import type { SynonymMap } from '../text/synonyms.js';
import { Bm25Index, topByScore } from './bm25.js';
import { computeConfidence } from './confidence.js';
import {
  InvertedVectors,
  isSparse,
  SPARSE_DENSITY,
  squaredNorm,
  type SparseVector,
} from './sparseVectors.js';
import type { IndexedChunk, LegHit, RetrievalHit, RetrievalResult, Retriever } from './types.js';

export interface FaqQuestion {
  chunkId: string;
  question: string;
}

/** An index version's vectors, as `HybridRetrieverParts.vectors` gives them. */
export interface IndexVectors {
  /** The FAQ questions' vectors, in the order of `faqQuestions`. */
  faq: readonly ArrayLike<number>[];
  /**
   * The chunks' vectors, in chunk order. When they are sparse (the offline hashing embedding), the
   * vector leg is an exact cosine search over them instead of the approximate graph search in
   * `vectorStore`; dense model embeddings keep the graph search.
   */
  chunks?: readonly ArrayLike<number>[];
}

export interface HybridRetrieverParts {
  chunks: readonly IndexedChunk[];
  /**
   * The graph search of dense (model) embeddings, or how to open it when first needed; not needed
   * when the chunks' vectors are sparse.
   */
  vectorStore?: HNSWLib | (() => Promise<HNSWLib>);
  embeddings: EmbeddingsInterface;
  synonyms: SynonymMap;
  faqQuestions: readonly FaqQuestion[];
  /**
   * Reads the vectors, when the search structures are built (`prepare()` or the first retrieval).
   * They are not kept: the structures hold them by dimension. So an index only read for its chunks
   * (the service, while a retrieval thread answers) never reads them, and one that answers holds
   * them once (about 14 MB of dense float32 for 1,700 vectors of the offline embedding).
   */
  vectors: () => IndexVectors;
}

/** Tunables of the fusion; the defaults were chosen on the eval set (see `npm run eval`). */
export const FUSION = {
  rrfK: 60,
  weights: { lexical: 1.0, vector: 0.8, faq: 1.2 },
  /** Weight of words added by synonym expansion, relative to the words the citizen typed. */
  expansionWeight: 0.6,
  /** Extra weight of accented tokens when the citizen typed diacritics. */
  accentedWeight: 0.5,
  /** An FAQ paraphrase this similar to the question wins outright. */
  faqStrong: 0.72,
  legDepth: 40,
};

/** The text a chunk is indexed and embedded under. */
export function indexText(
  chunk: Pick<IndexedChunk, 'title' | 'headingPath' | 'text' | 'questions' | 'keywords'>,
): string {
  return [
    chunk.title,
    ...chunk.headingPath,
    ...(chunk.questions ?? []),
    ...(chunk.keywords ?? []),
    chunk.text,
  ].join('\n');
}

/**
 * Question words, politeness and family words that say nothing about the subject ("mẹ tôi hỏi
 * làm sao để … được không ạ"): left out when measuring how much of a question a passage covers.
 */
const QUERY_FILLER = new Set(
  (
    'bao nhieu khong ko k hok hong co phai can muon lam the nhu nao dau ai j ha chua thi duoc biet giup hoi cho ' +
    'minh ban anh chi me bo ba ong chau con vo chong tui tao oi nha nhe di luon gio bay ve de ma kieu nhi sao vay ' +
    'xin vui long cam on dum gium voi hay ah uh a cai do nay kia ay nguoi ta phai khong'
  ).split(' '),
);

/** Folded content syllables (no stopwords): the unit of "did the passage mention what was asked". */
export function contentSyllables(text: string): string[] {
  return tokenize(foldDiacritics(normalizeText(text)))
    .map(canonicalSyllable)
    .filter((t) => !STOPWORDS_FOLDED.has(t));
}

/**
 * Hybrid retrieval: BM25 over an accent-folded and an accented field, a vector leg in hnswlib,
 * and FAQ paraphrase matching, fused with weighted reciprocal rank fusion.
 */
export class HybridRetriever implements Retriever {
  readonly chunks: readonly IndexedChunk[];
  private readonly byId = new Map<string, number>();
  /** Built at the first retrieval, or by `prepare()`: see `SearchStructures`. */
  private structures: SearchStructures | undefined;
  /** The vector store once opened (see `graph`). */
  private opened: Promise<HNSWLib> | undefined;

  constructor(private readonly parts: HybridRetrieverParts) {
    this.chunks = parts.chunks;
    parts.chunks.forEach((c, i) => this.byId.set(c.id, i));
  }

  /**
   * Builds the search structures now rather than at the first retrieval (an index about to answer
   * questions); an index only read for its chunks (the service, while a retrieval thread answers:
   * see threadedRetriever.ts) never builds them.
   */
  prepare(): this {
    void this.s;
    return this;
  }

  private get s(): SearchStructures {
    return (this.structures ??= buildSearchStructures(this.parts));
  }

  /**
   * The chunk after `id` in the same document, for "bước tiếp theo?". An FAQ entry is one short
   * passage that condenses a guide: what comes after it is that guide, from its start.
   */
  nextChunk(id: string): IndexedChunk | undefined {
    const i = this.byId.get(id);
    if (i === undefined) return undefined;
    const chunk = this.chunks[i]!;
    const next = this.chunks[i + 1];
    if (next && next.docId === chunk.docId) return next;
    if (chunk.kind === 'faq' && chunk.source) return this.chunks.find((c) => c.docId === chunk.source);
    return undefined;
  }

  /** The position of chunk `id` in `chunks`. */
  chunkIndex(id: string): number | undefined {
    return this.byId.get(id);
  }

  chunkById(id: string): IndexedChunk | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.chunks[i];
  }

  async retrieve(query: string, options: { k?: number } = {}): Promise<RetrievalResult> {
    const k = options.k ?? 5;
    const normalized = normalizeText(query);
    const expansion = this.parts.synonyms.expand(normalized);
    const added = expansion.expansions.flatMap((e) => e.added).join(' ');

    const lexical = this.lexicalLeg(normalized, added);
    const queryVector = await this.embedQuery(expansion.text);
    const vector = await this.vectorLeg(queryVector);
    // The question's content words, folded: for the FAQ lookup and the coverage signal.
    const asked = contentSyllables(normalized);
    const faq = this.faqLeg(queryVector, asked);

    const fused = new Map<number, { score: number; ranks: RetrievalHit['ranks'] }>();
    const fuse = (leg: 'lexical' | 'vector' | 'faq', hits: LegHit[]) => {
      for (const h of hits) {
        const i = this.byId.get(h.chunkId);
        if (i === undefined) continue;
        const entry = fused.get(i) ?? { score: 0, ranks: {} };
        entry.score += FUSION.weights[leg] / (FUSION.rrfK + h.rank);
        entry.ranks[leg] = h.rank;
        fused.set(i, entry);
      }
    };
    fuse('lexical', lexical);
    fuse('vector', vector);
    fuse('faq', faq);

    const faqTop = faq[0];
    // A strong FAQ match wins; when several FAQ entries match strongly, all legs decide between them.
    const fusedScore = (h: LegHit) => fused.get(this.byId.get(h.chunkId)!)?.score ?? 0;
    const strongFaq = faq
      .filter((h) => h.score >= FUSION.faqStrong)
      .sort((a, b) => fusedScore(b) - fusedScore(a) || b.score - a.score)[0];
    const ordered = [...fused.entries()].sort((a, b) => {
      if (strongFaq) {
        const fa = this.chunks[a[0]]!.id === strongFaq.chunkId ? 1 : 0;
        const fb = this.chunks[b[0]]!.id === strongFaq.chunkId ? 1 : 0;
        if (fa !== fb) return fb - fa;
      }
      return b[1].score - a[1].score || a[0] - b[0];
    });
    const hits: RetrievalHit[] = ordered
      .slice(0, k)
      .map(([i, e]) => ({ chunk: this.chunks[i]!, score: e.score, ranks: e.ranks }));

    const top = ordered[0]?.[0];
    const vectorTop =
      top === undefined ? 0 : (vector.find((v) => v.chunkId === this.chunks[top]!.id)?.score ?? 0);
    const faqSimilarity = faqTop?.score ?? 0;
    const topId = top === undefined ? undefined : this.chunks[top]!.id;
    const topDoc = top === undefined ? undefined : this.chunks[top]!.docId;
    const inTop3 = (leg: LegHit[]) =>
      leg.slice(0, 3).some((h) => this.chunkById(h.chunkId)?.docId === topDoc);
    const signals = {
      coverage: top === undefined ? 0 : this.coverage(asked, expansion.expansions, top),
      vectorSimilarity: vectorTop,
      faqSimilarity: strongFaq && topId === strongFaq.chunkId ? strongFaq.score : 0,
      faqBest: faqSimilarity,
      agreement: topDoc !== undefined && inTop3(lexical) && inTop3(vector) ? 1 : 0,
    };
    const faqQuestion = strongFaq
      ? this.parts.faqQuestions.find((q) => q.chunkId === strongFaq.chunkId)
      : undefined;
    return {
      query,
      normalized,
      expansions: expansion.expansions,
      hits,
      legs: { lexical, vector, faq },
      confidence: hits.length ? computeConfidence(signals) : 0,
      faqMatch: strongFaq
        ? { chunkId: strongFaq.chunkId, similarity: strongFaq.score, question: faqQuestion?.question ?? '' }
        : undefined,
      signals,
    };
  }

  /**
   * The query's vector: sparse when the embedding offers it and the vector leg can use it (the
   * exact search over sparse chunk vectors), else LangChain's dense `embedQuery`.
   */
  private async embedQuery(text: string): Promise<number[] | SparseVector> {
    const { embeddings } = this.parts;
    if (this.s.exactVectors && hasSparseEmbedding(embeddings)) return embeddings.embedSparse(text);
    return embeddings.embedQuery(text);
  }

  private lexicalLeg(normalized: string, added: string): LegHit[] {
    const typed = analyze(normalized);
    const extra = analyze(added);
    const foldedTerms = new Map<string, number>();
    for (const t of extra.folded) foldedTerms.set(t, FUSION.expansionWeight);
    for (const t of typed.folded) foldedTerms.set(t, 1);
    // Both fields' scores summed per chunk (BM25 scores are positive: 0 means not found yet).
    const scores = new Float64Array(this.chunks.length);
    const found: number[] = [];
    for (const r of this.s.folded.search(foldedTerms, FUSION.legDepth * 2)) {
      scores[r.index] = r.score;
      found.push(r.index);
    }
    if (hasDiacritics(normalized)) {
      const accentedTerms = new Map<string, number>();
      for (const t of typed.accented) accentedTerms.set(t, FUSION.accentedWeight);
      for (const r of this.s.accented.search(accentedTerms, FUSION.legDepth * 2)) {
        if (scores[r.index] === 0) found.push(r.index);
        scores[r.index]! += r.score;
      }
    }
    return topByScore(found, FUSION.legDepth, scores).map((i, r) => ({
      chunkId: this.chunks[i]!.id,
      score: scores[i]!,
      rank: r + 1,
    }));
  }

  private async vectorLeg(queryVector: number[] | SparseVector): Promise<LegHit[]> {
    const k = Math.min(FUSION.legDepth, this.chunks.length);
    if (k === 0) return [];
    if (this.s.exactVectors) return this.exactVectorLeg(queryVector, k);
    // embedQuery gives a sparse vector only when there are exact vectors.
    if (isSparse(queryVector)) throw new Error('a sparse query vector needs the exact vector leg');
    const results = await (await this.graph()).similaritySearchVectorWithScore(queryVector, k);
    return results.map(([doc, distance], r) => ({
      chunkId: String(doc.metadata.chunkId),
      score: 1 - distance,
      rank: r + 1,
    }));
  }

  /** The vector store, opened at the first call when the parts give how to open it. */
  private graph(): Promise<HNSWLib> {
    const store = this.parts.vectorStore;
    if (!store) return Promise.reject(new Error('dense vectors need the vector store'));
    if (typeof store !== 'function') return Promise.resolve(store);
    // A failed open is not kept: the next question tries again.
    this.opened ??= store().catch((err: unknown) => {
      this.opened = undefined;
      throw err;
    });
    return this.opened;
  }

  /** The `k` chunks of highest cosine similarity, computed exactly over the inverted vectors. */
  private exactVectorLeg(queryVector: number[] | SparseVector, k: number): LegHit[] {
    const { inverted, norms } = this.s.exactVectors!;
    const queryNorm = Math.sqrt(squaredNorm(queryVector));
    if (queryNorm === 0) return [];
    const sims = inverted.dots(queryVector);
    const candidates: number[] = [];
    for (let i = 0; i < sims.length; i++) {
      sims[i] = norms[i] ? sims[i]! / (norms[i]! * queryNorm) : 0;
      if (sims[i]! > 0) candidates.push(i);
    }
    const top = topByScore(candidates, k, sims);
    return top.map((i, r) => ({ chunkId: this.chunks[i]!.id, score: sims[i]!, rank: r + 1 }));
  }

  private faqLeg(queryVector: number[] | SparseVector, asked: readonly string[]): LegHit[] {
    // The dot product of the query with every FAQ question (exact: see InvertedVectors).
    const questions = this.parts.faqQuestions;
    const sims = this.s.faqVectors.dots(queryVector);
    // A paraphrase typed word for word is the same question, whatever synonyms the query vector
    // gained ("ma otp la gi" is a paraphrase; with the synonyms of "otp" added it is less alike).
    for (const n of this.s.faqByWords.get(asked.join(' ')) ?? []) sims[n] = 1;
    // The best question of each FAQ entry; entries in the order their first positive question
    // comes (the order ties keep).
    const slotCount = this.s.faqSlotChunkIds.length;
    const best = new Float64Array(slotCount);
    const first = new Int32Array(slotCount).fill(-1);
    for (let n = 0; n < questions.length; n++) {
      const slot = this.s.faqSlots[n]!;
      const sim = sims[n]!;
      if (sim > best[slot]!) {
        if (first[slot] === -1) first[slot] = n;
        best[slot] = sim;
      }
    }
    const matched: number[] = [];
    for (let slot = 0; slot < slotCount; slot++) if (best[slot]! >= 0.35) matched.push(slot);
    return matched
      .sort((a, b) => best[b]! - best[a]! || first[a]! - first[b]!)
      .slice(0, 5)
      .map((slot, r) => ({ chunkId: this.s.faqSlotChunkIds[slot]!, score: best[slot]!, rank: r + 1 }));
  }

  /**
   * Share of what the citizen asked (idf-weighted content syllables) that the passage mentions;
   * a syllable also counts as mentioned when a synonym of the phrase it belongs to is there.
   */
  private coverage(
    asked: readonly string[],
    expansions: RetrievalResult['expansions'],
    index: number,
  ): number {
    // What was asked, in order ("chính trị", "giá vàng": its adjacent pairs count below).
    const sequence = asked.filter((t) => !QUERY_FILLER.has(t));
    const terms = [...new Set(sequence)];
    if (!terms.length) return 0;
    const present = this.s.syllableSets[index]!;
    const viaSynonym = new Set<string>();
    for (const e of expansions) {
      const alternatives = e.added.map((a) => contentSyllables(a));
      if (alternatives.some((alt) => alt.length > 0 && alt.every((t) => present.has(t)))) {
        for (const t of contentSyllables(e.matched)) viaSynonym.add(t);
      }
    }
    let total = 0;
    let covered = 0;
    for (const t of terms) {
      const w = this.s.folded.idf(t);
      total += w;
      if (present.has(t) || viaSynonym.has(t)) covered += w;
    }
    const unigram = total ? covered / total : 0;
    // Adjacent pairs of what was asked: single syllables match by chance.
    const pairs = sequence.slice(1).map((t, i) => [sequence[i]!, t] as const);
    if (!pairs.length) return unigram;
    const pairHits = pairs.filter(
      ([a, b]) => present.has(`${a}_${b}`) || (viaSynonym.has(a) && viaSynonym.has(b)),
    ).length;
    return 0.5 * unigram + 0.5 * (pairHits / pairs.length);
  }
}

/** An embedding that also gives its vectors sparse (HashingEmbeddings). */
export function hasSparseEmbedding(
  e: EmbeddingsInterface,
): e is EmbeddingsInterface & { embedSparse(text: string): SparseVector } {
  return typeof (e as { embedSparse?: unknown }).embedSparse === 'function';
}

/**
 * What retrieval searches, derived from the index version's chunks and vectors: BM25 over the
 * folded and the accented text, each chunk's content syllables (coverage), the FAQ questions' vectors
 * by dimension, and the chunks' vectors by dimension when they are sparse.
 */
interface SearchStructures {
  folded: Bm25Index;
  accented: Bm25Index;
  syllableSets: Set<string>[];
  /** For each FAQ question, the number of its entry (chunk) among `faqSlotChunkIds`. */
  faqSlots: Int32Array;
  faqSlotChunkIds: string[];
  /** The FAQ question vectors by dimension (see `faqLeg`). */
  faqVectors: InvertedVectors;
  /**
   * FAQ questions by their folded content words in order (`contentSyllables`, joined by spaces):
   * two questions with the same words are typed alike.
   */
  faqByWords: Map<string, number[]>;
  /** The chunk vectors by dimension and their norms, when they are sparse (see `vectorLeg`). */
  exactVectors?: { inverted: InvertedVectors; norms: Float64Array };
}

function buildSearchStructures(parts: HybridRetrieverParts): SearchStructures {
  const vectors = parts.vectors();
  if (vectors.faq.length !== parts.faqQuestions.length)
    throw new Error(`${vectors.faq.length} FAQ vectors for ${parts.faqQuestions.length} FAQ questions`);
  const analysed = parts.chunks.map((c) => analyze(indexText(c)));
  const syllableSets = parts.chunks.map((c) => {
    const syllables = contentSyllables(indexText(c));
    return new Set([...syllables, ...syllables.slice(1).map((t, i) => `${syllables[i]}_${t}`)]);
  });
  const faqByWords = new Map<string, number[]>();
  parts.faqQuestions.forEach((q, n) => {
    const key = contentSyllables(q.question).join(' ');
    if (key) faqByWords.set(key, [...(faqByWords.get(key) ?? []), n]);
  });
  let exactVectors: SearchStructures['exactVectors'];
  const chunkVectors = vectors.chunks;
  if (chunkVectors && chunkVectors.length === parts.chunks.length && chunkVectors.length > 0) {
    const inverted = new InvertedVectors(chunkVectors);
    if (inverted.density < SPARSE_DENSITY) {
      const norms = Float64Array.from(chunkVectors, (v) => Math.sqrt(squaredNorm(v)));
      exactVectors = { inverted, norms };
    }
  }
  const slots = new Map<string, number>();
  const faqSlots = Int32Array.from(parts.faqQuestions, (q) => {
    if (!slots.has(q.chunkId)) slots.set(q.chunkId, slots.size);
    return slots.get(q.chunkId)!;
  });
  return {
    folded: new Bm25Index(analysed.map((a) => a.folded)),
    accented: new Bm25Index(analysed.map((a) => a.accented)),
    syllableSets,
    faqSlots,
    faqSlotChunkIds: [...slots.keys()],
    faqVectors: new InvertedVectors(vectors.faq),
    faqByWords,
    exactVectors,
  };
}
