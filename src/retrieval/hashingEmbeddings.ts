import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings';
import {
  canonicalSyllable,
  foldDiacritics,
  normalizeText,
  STOPWORDS_FOLDED,
  tokenize,
} from '../text/vietnamese.js';

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

  /** Synchronous embedding, for the hot path of retrieval. */
  embed(text: string): number[] {
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
    const vector = new Array<number>(this.dimensions).fill(0);
    let norm = 0;
    for (const [slot, value] of counts) {
      // Sublinear term frequency, keeping the hashed sign.
      const v = Math.sign(value) * Math.log1p(Math.abs(value));
      vector[slot] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
    return vector;
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
