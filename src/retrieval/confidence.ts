/**
 * Confidence that the best passage answers the question, from retrieval signals alone.
 * The weights and the answer threshold are calibrated on the eval set's in-scope and
 * out-of-scope questions (`npm run eval` prints the calibration).
 */
export interface ConfidenceSignals {
  /** Share of the question's content words (idf-weighted) that the best passage mentions. */
  coverage: number;
  /** Cosine similarity of the question and the best passage in the vector leg. */
  vectorSimilarity: number;
  /** Similarity of the FAQ paraphrase that won outright, else 0. */
  faqSimilarity: number;
  /** Best similarity of the question to any FAQ paraphrase. */
  faqBest: number;
  /** 1 when the best passage's document is in the top 3 of both the lexical and the vector leg. */
  agreement: number;
}

export const CONFIDENCE = {
  /** Below this the assistant says it does not know and offers the community team. */
  answerThreshold: 0.3,
  /**
   * Below this (and above `answerThreshold`) the offline answer is not given outright: the citizen
   * is asked which of the nearest entries they mean, or offered the community team. Chosen on the
   * blind sweeps of citizen questions (docs/quality/blind-sweeps-2026-12-05, sweeps 1-3) and the
   * eval set, and checked on the held-out sweep 4: below 0.8 about half the answers were wrong,
   * above it few were.
   */
  clarifyBelow: 0.8,
  /**
   * When the lexical and the vector leg agree on the best document (`agreement`), answers down
   * to this confidence were mostly right (eval: 18 of 24 between 0.3 and 0.8), so they are given.
   */
  clarifyBelowWhenLegsAgree: 0.6,
  /**
   * Logistic weights fitted with class balancing on the eval set (253 in-scope, 45 out-of-scope
   * questions, 2026-11-23). Refit when the knowledge base or the eval set changes a lot.
   */
  weights: { bias: -4.58, coverage: 5.96, vectorSimilarity: 3.73, faqBest: 4.59 },
};

export function computeConfidence(s: ConfidenceSignals): number {
  const w = CONFIDENCE.weights;
  const z =
    w.bias + w.coverage * s.coverage + w.vectorSimilarity * s.vectorSimilarity + w.faqBest * s.faqBest;
  const p = 1 / (1 + Math.exp(-z));
  // An FAQ paraphrase that matched outright is as sure as its similarity says.
  return Math.max(p, s.faqSimilarity);
}
