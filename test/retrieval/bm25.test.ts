import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bm25Index, topByScore } from '../../src/retrieval/bm25.js';
import { analyze } from '../../src/text/vietnamese.js';

const terms = (...list: string[]) => new Map(list.map((t) => [t, 1]));

describe('Bm25Index', () => {
  const docs = [
    ['vneid', 'mat', 'khau', 'quen'],
    ['chu', 'ky', 'so', 'dang', 'ky'],
    ['chu', 'ky', 'so', 'tu', 'xa', 'dien', 'thoai'],
    ['chuyen', 'khoan', 'vietqr', 'ngan', 'hang', 'dien', 'thoai'],
  ];
  const index = new Bm25Index(docs);

  it('counts documents and document frequencies', () => {
    expect(index.size).toBe(4);
    expect(index.docFrequency('chu')).toBe(2);
    expect(index.docFrequency('vietqr')).toBe(1);
    expect(index.docFrequency('xo')).toBe(0);
    expect(index.contains(2, 'xa')).toBe(true);
    expect(index.contains(1, 'xa')).toBe(false);
  });

  it('gives rarer terms a higher idf, unseen terms the highest, and never a negative one', () => {
    expect(index.idf('vietqr')).toBeGreaterThan(index.idf('chu'));
    expect(index.idf('unseen-term')).toBeGreaterThan(index.idf('vietqr'));
    // A term in every document still counts a little (Lucene idf).
    const everywhere = new Bm25Index([['a'], ['a', 'b'], ['a']]);
    expect(everywhere.idf('a')).toBeGreaterThan(0);
  });

  it('finds nothing for terms no document contains', () => {
    expect(index.search(terms('xo', 'so-xo'), 10)).toEqual([]);
    expect(index.search(new Map(), 10)).toEqual([]);
  });

  it('ranks the document with the rare term first and returns at most k results, best first', () => {
    const results = index.search(terms('chu', 'ky', 'so', 'xa'), 10);
    expect(results.map((r) => r.index)).toEqual([2, 1]);
    expect(results[0]!.score).toBeGreaterThan(results[1]!.score);
    expect(index.search(terms('chu', 'ky', 'so', 'xa'), 1)).toHaveLength(1);
  });

  it('prefers the shorter document when both contain the term once', () => {
    const lengths = new Bm25Index([
      ['dien', 'thoai', 'x', 'y', 'z', 'w'],
      ['dien', 'thoai'],
    ]);
    expect(lengths.search(terms('dien'), 10).map((r) => r.index)).toEqual([1, 0]);
  });

  it('lets a query term weigh less (expanded synonyms count less than typed words)', () => {
    const full = index.search(new Map([['vietqr', 1]]), 1)[0]!.score;
    const weighted = index.search(new Map([['vietqr', 0.5]]), 1)[0]!.score;
    expect(weighted).toBeCloseTo(full * 0.5, 10);
  });

  it('gives the same scores on repeated searches (no score left over from an earlier query)', () => {
    const first = index.search(terms('chu', 'ky'), 10);
    index.search(terms('dien', 'thoai', 'vietqr'), 10);
    expect(index.search(terms('chu', 'ky'), 10)).toEqual(first);
  });

  it('works over analysed Vietnamese text, with or without diacritics', () => {
    const texts = ['Cách lấy lại mật khẩu VNeID', 'Chữ ký số là gì', 'Chuyển khoản bằng mã VietQR'];
    const folded = new Bm25Index(texts.map((t) => analyze(t).folded));
    for (const q of ['chữ ký số', 'chu ky so']) {
      const query = new Map(analyze(q).folded.map((t) => [t, 1]));
      expect(folded.search(query, 3)[0]!.index).toBe(1);
    }
  });

  it('handles an empty corpus', () => {
    const empty = new Bm25Index([]);
    expect(empty.size).toBe(0);
    expect(empty.search(terms('a'), 5)).toEqual([]);
  });
});

describe('topByScore', () => {
  it('gives what a full sort (score descending, then item ascending) cut to k gives', () => {
    // Few distinct scores, so ties are common.
    const scores = fc.array(fc.constantFrom(0, 0.5, 1, 1.5, 2, 2.25, 7), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(scores, fc.integer({ min: 0, max: 70 }), fc.boolean(), (values, k, shuffle) => {
        const s = Float64Array.from(values);
        const items = [...s.keys()];
        if (shuffle) items.reverse();
        const expected = [...items].sort((a, b) => s[b]! - s[a]! || a - b).slice(0, k);
        expect(topByScore(Int32Array.from(items), k, s)).toEqual(expected);
      }),
    );
  });
});
