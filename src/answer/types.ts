import type { RetrievalResult } from '../retrieval/types.js';

export interface AnswerSource {
  title: string;
  file: string;
  section: string;
  score: number;
}

export type AnswerMode = 'faq' | 'extractive' | 'generative' | 'none';

export interface Answer {
  id: string;
  answered: boolean;
  /** What the citizen reads: the answer, then its sources. */
  text: string;
  /** The answer without the sources line. */
  body: string;
  sources: AnswerSource[];
  confidence: number;
  mode: AnswerMode;
  /** Topic of the best source (guide front matter), for follow-ups and the team inbox. */
  topic?: string;
  /** Set when a configured model failed and the extractive answer was used instead. */
  fallbackReason?: string;
  retrieval: RetrievalResult;
}
