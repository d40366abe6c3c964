/**
 * Vectors inverted by dimension: for each dimension, which vectors have a non-zero value there and
 * what it is. The dot product of a query with every vector then only visits the dimensions the
 * query uses, and for each only the vectors that use it too. With the offline hashing embedding
 * (a few hundred non-zero values out of 2048) that is exact and some fifty times cheaper than a
 * dense scan or an approximate graph search over a knowledge base of this size.
 */
export class InvertedVectors {
  /** For each dimension, the vectors (by position) with a non-zero value there, and those values. */
  private readonly byDimension: { items: Int32Array; values: Float64Array }[];
  readonly size: number;
  /** Share of non-zero values among all values (0 when there are no vectors). */
  readonly density: number;

  constructor(vectors: readonly ArrayLike<number>[]) {
    this.size = vectors.length;
    const dimensions = Math.max(0, ...vectors.map((v) => v.length));
    const items: number[][] = Array.from({ length: dimensions }, () => []);
    const values: number[][] = Array.from({ length: dimensions }, () => []);
    let nonZero = 0;
    vectors.forEach((v, n) => {
      for (let d = 0; d < v.length; d++) {
        const x = v[d]!;
        if (x === 0) continue;
        items[d]!.push(n);
        values[d]!.push(x);
        nonZero += 1;
      }
    });
    this.byDimension = items.map((list, d) => ({
      items: Int32Array.from(list),
      values: Float64Array.from(values[d]!),
    }));
    this.density = dimensions && vectors.length ? nonZero / (dimensions * vectors.length) : 0;
  }

  /**
   * The dot product of `query` with every vector, by position. Each one is summed in dimension
   * order, as a full dot product would be (the skipped terms are zeros), so the values are the same.
   */
  dots(query: ArrayLike<number>): Float64Array {
    const sums = new Float64Array(this.size);
    const dims = Math.min(query.length, this.byDimension.length);
    for (let d = 0; d < dims; d++) {
      const q = query[d]!;
      if (q === 0) continue;
      const { items, values } = this.byDimension[d]!;
      for (let j = 0; j < items.length; j++) sums[items[j]!]! += q * values[j]!;
    }
    return sums;
  }
}

/** Vectors are sparse enough for `InvertedVectors` to beat a graph search below this density. */
export const SPARSE_DENSITY = 0.25;
