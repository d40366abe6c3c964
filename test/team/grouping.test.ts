import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { communeKey, findGroup, jaccard, normalizeQuestion } from '../../src/team/grouping.js';

const q = (id: string, text: string, commune: string, groupId = id) => ({
  id,
  text,
  normalized: normalizeQuestion(text),
  commune,
  groupId,
});

describe('grouping of near-duplicate questions', () => {
  it('folds diacritics, case and punctuation into one normalized text', () => {
    expect(normalizeQuestion('Cách cài VNeID?')).toBe(normalizeQuestion('cach cai vneid'));
    expect(communeKey('Phường Vị Thanh, Hậu Giang')).toBe(communeKey('phuong vi thanh'));
  });

  it('joins the same or a very similar question of the same commune, never another commune', () => {
    const a = q('a', 'Điểm hỗ trợ cài VNeID của xã mở cửa mấy giờ?', 'xã Long Mỹ');
    expect(
      findGroup(q('b', 'diem ho tro cai vneid cua xa mo cua may gio', 'xã Long Mỹ, Hậu Giang'), [a]),
    ).toBe('a');
    expect(findGroup(q('c', 'điểm hỗ trợ cài VNeID mở cửa mấy giờ vậy', 'xã Long Mỹ'), [a])).toBe('a');
    expect(findGroup(q('d', 'Điểm hỗ trợ cài VNeID của xã mở cửa mấy giờ?', 'phường 5'), [a])).toBe('d');
    expect(findGroup(q('e', 'cách thanh toán tiền điện bằng VietQR', 'xã Long Mỹ'), [a])).toBe('e');
  });

  it('measures Jaccard on syllable sets', () => {
    expect(jaccard(['a', 'b'], ['a', 'b'])).toBe(1);
    expect(jaccard(['a', 'b'], ['b', 'c'])).toBeCloseTo(1 / 3);
    expect(jaccard([], ['a'])).toBe(0);
  });

  it('scores a stored question from its normalized text exactly as from its text', () => {
    const syllables = fc.constantFrom(
      'cài',
      'cai',
      'VNeID',
      'điện',
      'thoại',
      'của',
      'tôi',
      'bị',
      'lỗi',
      'không',
      'được',
      'xã',
      'chữ',
      'ký',
      'số',
      'là',
      'gì',
      '[số điện thoại]',
      'Đăng',
      'nhập',
      '?',
      ',',
      'ạ',
      'nhé',
    );
    const text = fc.array(syllables, { minLength: 1, maxLength: 12 }).map((w) => w.join(' '));
    fc.assert(
      fc.property(text, fc.array(text, { minLength: 1, maxLength: 5 }), (mine, others) => {
        const stored = others.map((t, i) => q(`s${i}`, t, 'xã Long Mỹ'));
        const recomputed = stored.map((c) => ({ ...c, normalized: '' }));
        const asked = q('new', mine, 'xã Long Mỹ');
        const withNormalized = findGroup(asked, stored);
        // Equal normalized texts short-cut to a score of 1; otherwise the two paths must agree.
        if (stored.some((c) => c.normalized === asked.normalized)) return;
        expect(withNormalized).toBe(findGroup(asked, recomputed));
      }),
      { numRuns: 300 },
    );
  });
});
