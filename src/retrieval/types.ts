import type { ConfidenceSignals } from './confidence.js';
import type { DocumentKind } from '../ingest/loaders.js';

/** A chunk as stored in an index version and shown to citizens and ICT staff. */
export interface IndexedChunk {
  id: string;
  docId: string;
  kind: DocumentKind;
  title: string;
  headingPath: string[];
  text: string;
  topic?: string;
  updated?: string;
  /** For FAQ entries: the guide the answer condenses (front matter `source`). */
  source?: string;
  /** The document's `keywords` front matter: everyday words citizens use for its subject. */
  keywords?: string[];
  /** For FAQ entries: the question and its paraphrases. */
  questions?: string[];
  /** sha256 of what was embedded, to reuse vectors of unchanged chunks. */
  embedHash: string;
}

export type RetrievalLeg = 'lexical' | 'vector' | 'faq';

export interface LegHit {
  chunkId: string;
  score: number;
  rank: number;
}

export interface RetrievalHit {
  chunk: IndexedChunk;
  /** Fused score (higher is better); comparable only within one query. */
  score: number;
  /** Rank of this chunk in each leg, 1-based, when the leg found it. */
  ranks: Partial<Record<RetrievalLeg, number>>;
}

export interface RetrievalResult {
  query: string;
  normalized: string;
  /** Abbreviations and synonyms added to the query. */
  expansions: { matched: string; added: string[] }[];
  hits: RetrievalHit[];
  legs: Record<RetrievalLeg, LegHit[]>;
  /** 0..1: how sure retrieval is that the best hit answers the question. */
  confidence: number;
  /** Set when an FAQ entry matched the question strongly. */
  faqMatch?: { chunkId: string; similarity: number; question: string };
  /** The features behind `confidence`, for hit testing. */
  signals: ConfidenceSignals;
}

export interface Retriever {
  retrieve(query: string, options?: { k?: number }): Promise<RetrievalResult>;
}
