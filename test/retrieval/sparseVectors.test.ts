import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvertedVectors, squaredNorm, type SparseVector } from '../../src/retrieval/sparseVectors.js';

const dense = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) s += a[i]! * b[i]!;
  return s;
};

/** The non-zero values of a dense vector, as a SparseVector. */
const toSparse = (v: readonly number[]): SparseVector => {
  const at = [...v.keys()].filter((d) => v[d] !== 0);
  return { indices: Int32Array.from(at), values: Float64Array.from(at, (d) => v[d]!) };
};

/** Sparse-ish vectors: mostly zeros, a few values. */
const sparseVector = (dims: number) =>
  fc.array(fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, fc.double({ min: -1, max: 1, noNaN: true })), {
    minLength: dims,
    maxLength: dims,
  });

describe('InvertedVectors', () => {
  it('gives exactly the dense dot product of the query with every vector', () => {
    fc.assert(
      fc.property(fc.array(sparseVector(16), { minLength: 1, maxLength: 12 }), sparseVector(16), (vs, q) => {
        const inverted = new InvertedVectors(vs);
        const dots = inverted.dots(q);
        expect([...dots]).toEqual(vs.map((v) => dense(q, v) + 0));
      }),
    );
  });

  it('gives a sparse query exactly the dot products of its dense form, and the same norm', () => {
    fc.assert(
      fc.property(fc.array(sparseVector(16), { minLength: 1, maxLength: 12 }), sparseVector(20), (vs, q) => {
        const inverted = new InvertedVectors(vs);
        expect([...inverted.dots(toSparse(q))]).toEqual([...inverted.dots(q)]);
        expect(squaredNorm(toSparse(q))).toBe(dense(q, q) + 0);
      }),
    );
  });

  it('measures the share of non-zero values', () => {
    const inverted = new InvertedVectors([
      [0, 1, 0, 0],
      [2, 0, 0, 3],
    ]);
    expect(inverted.density).toBe(3 / 8);
    expect(new InvertedVectors([]).density).toBe(0);
  });

  it('ignores query dimensions no vector has', () => {
    const inverted = new InvertedVectors([[1, 0]]);
    expect([...inverted.dots([1, 5, 7, 9])]).toEqual([1]);
  });
});
