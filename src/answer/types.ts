import type { RetrievalResult } from '../retrieval/types.js';

export interface AnswerSource {
  title: string;
  file: string;
  section: string;
  score: number;
}

/** `clarify`: not sure enough to answer; the citizen is asked which of the `suggestions` they mean. */
export type AnswerMode = 'faq' | 'extractive' | 'generative' | 'clarify' | 'none';

/** One of the nearest entries, offered when the assistant is not sure what the citizen means. */
export interface AnswerSuggestion {
  /** What the citizen reads on the button: the FAQ entry's question, or the guide and its section. */
  label: string;
  chunkId: string;
  file: string;
}

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
  /** For `clarify`: the nearest entries, best first, at most three. */
  suggestions?: AnswerSuggestion[];
  /** Set when a configured model failed and the extractive answer was used instead. */
  fallbackReason?: string;
  retrieval: RetrievalResult;
}
