/**
 * A small Okapi BM25 index over pre-analysed token streams. Vietnamese analysis (folding,
 * syllables, bigrams, stopwords) happens before this; here a token is an opaque string.
 */
export interface Bm25Params {
  k1: number;
  b: number;
}

interface Posting {
  docs: number[];
  tfs: number[];
}

export interface ScoredIndex {
  index: number;
  score: number;
}

export class Bm25Index {
  private readonly postings = new Map<string, Posting>();
  private readonly docLengths: Float64Array;
  private readonly avgLength: number;
  private readonly scores: Float64Array;
  readonly size: number;

  constructor(
    docs: readonly (readonly string[])[],
    private readonly params: Bm25Params = { k1: 1.2, b: 0.75 },
  ) {
    this.size = docs.length;
    this.docLengths = new Float64Array(docs.length);
    this.scores = new Float64Array(docs.length);
    let total = 0;
    docs.forEach((tokens, d) => {
      this.docLengths[d] = tokens.length;
      total += tokens.length;
      const counts = new Map<string, number>();
      for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const [t, tf] of counts) {
        let p = this.postings.get(t);
        if (!p) this.postings.set(t, (p = { docs: [], tfs: [] }));
        p.docs.push(d);
        p.tfs.push(tf);
      }
    });
    this.avgLength = docs.length ? total / docs.length : 0;
  }

  /** Number of documents containing the term. */
  docFrequency(term: string): number {
    return this.postings.get(term)?.docs.length ?? 0;
  }

  /** BM25 idf (the Lucene variant, always positive); unseen terms get the idf of a df=0 term. */
  idf(term: string): number {
    const df = this.docFrequency(term);
    return Math.log(1 + (this.size - df + 0.5) / (df + 0.5));
  }

  /** True when the document at `index` contains `term`. */
  contains(index: number, term: string): boolean {
    const p = this.postings.get(term);
    return p ? p.docs.includes(index) : false;
  }

  /**
   * Scores documents for a bag of weighted query terms and returns the top `k`, best first.
   * A weight lets expanded synonyms count less than the words the citizen typed.
   */
  search(terms: ReadonlyMap<string, number>, k: number): ScoredIndex[] {
    const { k1, b } = this.params;
    const touched: number[] = [];
    for (const [term, weight] of terms) {
      const p = this.postings.get(term);
      if (!p) continue;
      const idf = this.idf(term) * weight;
      for (let i = 0; i < p.docs.length; i++) {
        const d = p.docs[i]!;
        const tf = p.tfs[i]!;
        const norm = tf + k1 * (1 - b + (b * this.docLengths[d]!) / (this.avgLength || 1));
        if (this.scores[d] === 0) touched.push(d);
        this.scores[d]! += (idf * tf * (k1 + 1)) / norm;
      }
    }
    const results = touched.map((index) => ({ index, score: this.scores[index]! }));
    for (const d of touched) this.scores[d] = 0;
    results.sort((x, y) => y.score - x.score || x.index - y.index);
    return results.slice(0, k);
  }
}
