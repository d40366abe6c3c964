import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings';
import {
  canonicalSyllable,
  foldDiacritics,
  normalizeText,
  STOPWORDS_FOLDED,
  tokenize,
} from '../text/vietnamese.js';
import type { SparseVector } from './sparseVectors.js';

export interface HashingEmbeddingsParams extends EmbeddingsParams {
  /** Vector size; a power of two keeps collisions rare for a corpus of this size. */
  dimensions?: number;
}

/**
 * The offline embedding: feature hashing of accent-folded syllables, syllable bigrams and
 * character trigrams, so that queries typed without diacritics or with small typos land near the
 * passages they mean. Needs no model file and no network; the same text always gives the same
 * vector, so vectors of unchanged chunks can be reused between index versions.
 */
export class HashingEmbeddings extends Embeddings {
  readonly dimensions: number;
  /** Identifies the vector space; a change here invalidates cached vectors. */
  readonly modelId: string;

  constructor(params: HashingEmbeddingsParams = {}) {
    super(params);
    this.dimensions = params.dimensions ?? 2048;
    this.modelId = `hashing-v1-${this.dimensions}`;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.embed(t));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.embed(text);
  }

  /** Synchronous embedding (dense, as LangChain's Embeddings return it). */
  embed(text: string): number[] {
    const { indices, values } = this.embedSparse(text);
    const vector = new Array<number>(this.dimensions).fill(0);
    for (let i = 0; i < indices.length; i++) vector[indices[i]!] = values[i]!;
    return vector;
  }

  /**
   * The same vector as `embed`, as its non-zero values in dimension order: the hot path of
   * retrieval, which would otherwise allocate and scan the whole dense vector for a query that
   * uses a few dozen of its dimensions.
   */
  embedSparse(text: string): SparseVector {
    const counts = new Map<number, number>();
    const add = (feature: string, weight: number) => {
      const h = fnv1a(feature);
      const slot = h % this.dimensions;
      const sign = h & 0x80000000 ? -1 : 1;
      counts.set(slot, (counts.get(slot) ?? 0) + sign * weight);
    };
    const words = tokenize(foldDiacritics(normalizeText(text)))
      .map(canonicalSyllable)
      .filter((w) => !STOPWORDS_FOLDED.has(w));
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      add(`w:${w}`, 1);
      if (i + 1 < words.length) add(`b:${w}_${words[i + 1]!}`, 0.8);
      if (w.length >= 3) {
        const padded = `<${w}>`;
        for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, 0.25);
      }
    }
    let norm = 0;
    // Summed in the order the features came (as the dense vector always was), so the norm, and
    // with it every stored vector, stays bit for bit what it was.
    for (const [slot, value] of counts) {
      // Sublinear term frequency, keeping the hashed sign.
      const v = Math.sign(value) * Math.log1p(Math.abs(value));
      // A slot whose weights cancelled out is a zero, not a non-zero value.
      if (v === 0) counts.delete(slot);
      else counts.set(slot, v);
      norm += v * v;
    }
    norm = Math.sqrt(norm) || 1;
    const indices = Int32Array.from(counts.keys()).sort();
    const values = Float64Array.from(indices, (slot) => counts.get(slot)! / norm);
    return { indices, values };
  }
}

/** 32-bit FNV-1a over UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
