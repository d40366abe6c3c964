/**
 * A small Okapi BM25 index over pre-analysed token streams. Vietnamese analysis (folding,
 * syllables, bigrams, stopwords) happens before this; here a token is an opaque string.
 */
export interface Bm25Params {
  k1: number;
  b: number;
}

export interface ScoredIndex {
  index: number;
  score: number;
}

export class Bm25Index {
  /**
   * The postings, packed (a Map of small objects and arrays per term would take several times
   * the memory): term → its number p; its documents (ascending) and term frequencies are
   * `docs`/`tfs` from `starts[p]` to `starts[p + 1]`.
   */
  private readonly postings = new Map<string, number>();
  private readonly starts: Int32Array;
  private readonly docs: Int32Array;
  private readonly tfs: Int32Array;
  private readonly docLengths: Float64Array;
  private readonly avgLength: number;
  /** Per document, the length part of BM25's tf normalisation, k1·(1 − b + b·len/avgLength). */
  private readonly lengthNorms: Float64Array;
  private readonly scores: Float64Array;
  /** Scratch for `search`: the documents a query touched. */
  private readonly touched: Int32Array;
  readonly size: number;

  constructor(
    docs: readonly (readonly string[])[],
    private readonly params: Bm25Params = { k1: 1.2, b: 0.75 },
  ) {
    this.size = docs.length;
    this.docLengths = new Float64Array(docs.length);
    this.scores = new Float64Array(docs.length);
    this.touched = new Int32Array(docs.length);
    let total = 0;
    const lists: { docs: number[]; tfs: number[] }[] = [];
    docs.forEach((tokens, d) => {
      this.docLengths[d] = tokens.length;
      total += tokens.length;
      const counts = new Map<string, number>();
      for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const [t, tf] of counts) {
        let p = this.postings.get(t);
        if (p === undefined) {
          p = lists.push({ docs: [], tfs: [] }) - 1;
          this.postings.set(t, p);
        }
        lists[p]!.docs.push(d);
        lists[p]!.tfs.push(tf);
      }
    });
    this.starts = new Int32Array(lists.length + 1);
    lists.forEach((l, p) => (this.starts[p + 1] = this.starts[p]! + l.docs.length));
    this.docs = new Int32Array(this.starts[lists.length]!);
    this.tfs = new Int32Array(this.docs.length);
    lists.forEach((l, p) => {
      this.docs.set(l.docs, this.starts[p]!);
      this.tfs.set(l.tfs, this.starts[p]!);
    });
    this.avgLength = docs.length ? total / docs.length : 0;
    const { k1, b } = params;
    this.lengthNorms = this.docLengths.map((len) => k1 * (1 - b + (b * len) / (this.avgLength || 1)));
  }

  /** Number of documents containing the term. */
  docFrequency(term: string): number {
    const p = this.postings.get(term);
    return p === undefined ? 0 : this.starts[p + 1]! - this.starts[p]!;
  }

  /** BM25 idf (the Lucene variant, always positive); unseen terms get the idf of a df=0 term. */
  idf(term: string): number {
    const df = this.docFrequency(term);
    return Math.log(1 + (this.size - df + 0.5) / (df + 0.5));
  }

  /** True when the document at `index` contains `term`. */
  contains(index: number, term: string): boolean {
    const p = this.postings.get(term);
    return p === undefined ? false : this.docs.subarray(this.starts[p], this.starts[p + 1]).includes(index);
  }

  /**
   * Scores documents for a bag of weighted query terms and returns the top `k`, best first.
   * A weight lets expanded synonyms count less than the words the citizen typed.
   */
  search(terms: ReadonlyMap<string, number>, k: number): ScoredIndex[] {
    const { k1 } = this.params;
    const { scores, touched, starts, docs, tfs, lengthNorms } = this;
    let touchedCount = 0;
    for (const [term, weight] of terms) {
      const p = this.postings.get(term);
      if (p === undefined) continue;
      const idf = this.idf(term) * weight;
      for (let i = starts[p]!, end = starts[p + 1]!; i < end; i++) {
        const d = docs[i]!;
        const tf = tfs[i]!;
        const norm = tf + lengthNorms[d]!;
        if (scores[d] === 0) touched[touchedCount++] = d;
        scores[d]! += (idf * tf * (k1 + 1)) / norm;
      }
    }
    // The k best by score, ties by index: a bounded selection, not a sort of every document touched.
    const top = topByScore(touched.subarray(0, touchedCount), k, scores);
    const results = top.map((index) => ({ index, score: scores[index]! }));
    for (let i = 0; i < touchedCount; i++) scores[touched[i]!] = 0;
    return results;
  }
}

/**
 * The `k` items of highest score, best first, ties by the smaller item: what sorting all of them
 * that way and keeping the first `k` gives, with a heap of `k` items. The order is written out
 * here rather than passed in, because this is the inner loop of every retrieval (three times).
 */
export function topByScore(items: ArrayLike<number>, k: number, scores: Float64Array): number[] {
  const heap: number[] = []; // the k best so far; at the root, the one ranked last among them
  /** a ranks after b */
  const after = (a: number, b: number) => scores[a]! < scores[b]! || (scores[a] === scores[b] && a > b);
  for (let n = 0; n < items.length && k > 0; n++) {
    const item = items[n]!;
    if (heap.length < k) {
      for (let i = heap.push(item) - 1; i > 0;) {
        const parent = (i - 1) >> 1;
        if (!after(heap[i]!, heap[parent]!)) break;
        heap[i] = heap[parent]!;
        heap[parent] = item;
        i = parent;
      }
    } else if (after(heap[0]!, item)) {
      heap[0] = item;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let worst = i;
        if (l < heap.length && after(heap[l]!, heap[worst]!)) worst = l;
        if (r < heap.length && after(heap[r]!, heap[worst]!)) worst = r;
        if (worst === i) break;
        const t = heap[i]!;
        heap[i] = heap[worst]!;
        heap[worst] = t;
        i = worst;
      }
    }
  }
  return heap.sort((a, b) => scores[b]! - scores[a]! || a - b);
}
