import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { phraseKey, SynonymMap } from '../../src/text/synonyms.js';

const YAML = `
# Same shape as knowledge/synonyms.yaml
title: "Từ viết tắt và từ đồng nghĩa"
updated: 2026-11-23
owner: "Nhóm biên tập"
groups:
  - ["dịch vụ công", "dvc", "dv công", "dich vu cong"]
  - ["dịch vụ công trực tuyến", "dvctt", "dvc trực tuyến"]
  - ["căn cước công dân", "cccd", "căn cước", "thẻ căn cước", "cc"]
  - ["chữ ký số", "cks", "chữ kí số", "ký số", "chu ky so"]
  - ["mã otp", "otp", "mã xác thực"]
  - ["ủy ban nhân dân", "ubnd", "uỷ ban nhân dân"]
  - ["bộ phận một cửa", "một cửa", "trung tâm phục vụ hành chính công"]
  - ["thanh toán không dùng tiền mặt", "ttkdtm", "thanh toán điện tử"]
  - ["cổng dịch vụ công quốc gia", "dvcqg", "dichvucong.gov.vn"]
  - ["mạng internet", "internet", "wi-fi", "4g"]
  - ["mức 2", "mức độ 2", "level 2"]
`;

const map = SynonymMap.parse(YAML);
const addedFor = (query: string) => map.expand(query).expansions.flatMap((e) => e.added);

describe('phraseKey', () => {
  it('folds, lowercases and canonicalizes', () => {
    expect(phraseKey('Chữ Ký Số')).toBe('chu ki so');
    expect(phraseKey('chu ki so')).toBe('chu ki so');
    expect(phraseKey('  DVC ')).toBe('dvc');
    expect(phraseKey('dichvucong.gov.vn')).toBe('dichvucong gov vn');
    expect(phraseKey('...')).toBe('');
  });
});

describe('SynonymMap.expand', () => {
  it('expands an abbreviation to the full form, whatever its casing', () => {
    for (const q of ['dvc là gì', 'DVC là gì', 'Dvc la gi']) {
      const r = map.expand(q);
      expect(r.expansions).toEqual([{ matched: 'dvc', added: ['dịch vụ công', 'dv công'] }]);
      expect(r.text).toBe(`${q} dịch vụ công dv công`);
    }
  });

  it('expands the full form to the abbreviation, with or without diacritics', () => {
    for (const q of [
      'dịch vụ công là gì',
      'dich vu cong la gi',
      'DỊCH VỤ CÔNG?',
      'dịch vụ công'.normalize('NFD'),
    ]) {
      const r = map.expand(q);
      expect(r.expansions).toHaveLength(1);
      expect(r.expansions[0]!.added).toEqual(['dvc', 'dv công']);
    }
    expect(map.expand('dich vu cong la gi').expansions[0]!.matched).toBe('dich vu cong');
    expect(map.expand('Dịch Vụ Công').expansions[0]!.matched).toBe('dịch vụ công');
  });

  it('treats i/y spelling variants as the same form', () => {
    for (const q of ['chu ki so', 'chữ kí số', 'Chữ ký số', 'CHU KY SO']) {
      expect(addedFor(q)).toEqual(['cks', 'ký số']);
    }
    expect(addedFor('cks')).toEqual(['chữ ký số', 'ký số']);
    expect(addedFor('ki so tu xa')).toEqual(['chữ ký số', 'cks']);
  });

  it('adds accented forms even when the file lists the folded spelling too', () => {
    const m = SynonymMap.fromGroups([['chu ky so', 'chữ ký số', 'cks']]);
    expect(m.expand('cks').expansions[0]!.added).toEqual(['chữ ký số']);
  });

  it('prefers the longest match', () => {
    const r = map.expand('nộp hồ sơ trên dịch vụ công trực tuyến');
    expect(r.expansions).toEqual([
      { matched: 'dịch vụ công trực tuyến', added: ['dvctt', 'dvc trực tuyến'] },
    ]);
    expect(map.expand('cổng dịch vụ công quốc gia').expansions.map((e) => e.matched)).toEqual([
      'cổng dịch vụ công quốc gia',
    ]);
  });

  it('matches phrases longer than five syllables', () => {
    expect(addedFor('thanh toan khong dung tien mat duoc khong')).toEqual(['ttkdtm', 'thanh toán điện tử']);
    expect(addedFor('trung tam phuc vu hanh chinh cong o dau')).toEqual(['bộ phận một cửa', 'một cửa']);
  });

  it('finds several non-overlapping phrases in text order', () => {
    const r = map.expand('Làm CCCD ở một cửa UBND xã rồi đăng ký chữ ký số');
    expect(r.expansions.map((e) => e.matched)).toEqual(['cccd', 'một cửa', 'ubnd', 'chữ ký số']);
    expect(r.text.startsWith('Làm CCCD ở một cửa UBND xã rồi đăng ký chữ ký số ')).toBe(true);
    expect(r.text).toContain('căn cước công dân');
    expect(r.text).toContain('ủy ban nhân dân');
    expect(r.text).toContain('cks');
  });

  it('matches whole tokens only', () => {
    expect(map.expand('dvctt').expansions.map((e) => e.matched)).toEqual(['dvctt']);
    expect(map.expand('cccd').expansions.map((e) => e.matched)).toEqual(['cccd']);
    expect(map.expand('acc, cc0, ccc, otp2').expansions).toEqual([]);
    expect(map.expand('dvcx ubndx').expansions).toEqual([]);
  });

  it('matches across punctuation inside a phrase and tokens with digits', () => {
    expect(map.expand('vào dichvucong.gov.vn').expansions[0]).toEqual({
      matched: 'dichvucong.gov.vn',
      added: ['cổng dịch vụ công quốc gia', 'dvcqg'],
    });
    expect(addedFor('không có 4G thì sao')).toEqual(['mạng internet', 'internet', 'wi-fi']);
    expect(addedFor('wifi')).toEqual([]);
    expect(addedFor('wi-fi yếu')).toEqual(['mạng internet', 'internet', '4g']);
    expect(addedFor('lên mức độ 2')).toEqual(['mức 2', 'level 2']);
  });

  it('reports a phrase typed twice once, and does not re-add what the query contains', () => {
    const r = map.expand('otp là mã otp hả');
    expect(r.expansions.map((e) => e.matched)).toEqual(['otp', 'mã otp']);
    expect(r.text).toBe('otp là mã otp hả mã xác thực');
    const twice = map.expand('cccd và cccd');
    expect(twice.expansions).toHaveLength(1);
  });

  it('leaves a query without any group form untouched', () => {
    expect(map.expand('giá vàng hôm nay')).toEqual({ text: 'giá vàng hôm nay', expansions: [] });
    expect(map.expand('')).toEqual({ text: '', expansions: [] });
  });

  it('unions the groups that share a form', () => {
    const m = SynonymMap.fromGroups([
      ['chuyển khoản', 'ck'],
      ['chứng khoán', 'ck'],
    ]);
    expect(m.expand('ck').expansions[0]!.added).toEqual(['chuyển khoản', 'chứng khoán']);
    expect(m.expand('chứng khoán').expansions[0]!.added).toEqual(['ck']);
  });

  it('ignores groups with a single distinct form', () => {
    const m = SynonymMap.fromGroups([['căn cước', 'can cuoc', 'CĂN CƯỚC'], []]);
    expect(m.size).toBe(0);
    expect(m.expand('căn cước').expansions).toEqual([]);
  });

  it('expands a 2,000-character query in well under a millisecond', () => {
    const sentence = 'Tôi muốn đăng ký chữ ký số và làm CCCD ở bộ phận một cửa UBND xã, thanh toán qua dvc. ';
    const query = sentence.repeat(Math.ceil(2000 / sentence.length)).slice(0, 2000);
    expect(query).toHaveLength(2000);
    for (let i = 0; i < 50; i++) map.expand(query); // warm-up
    // Best of several batches, so that a busy machine does not fail the test by accident.
    const batches: number[] = [];
    for (let b = 0; b < 5; b++) {
      const t0 = performance.now();
      for (let i = 0; i < 40; i++) map.expand(query);
      batches.push((performance.now() - t0) / 40);
    }
    expect(Math.min(...batches)).toBeLessThan(1);
    expect(map.expand(query).expansions.length).toBeGreaterThan(3);
  });
});

describe('SynonymMap.parse', () => {
  it('ignores the front-matter-like keys', () => {
    expect(map.size).toBeGreaterThan(20);
  });

  it('accepts numbers as forms', () => {
    const m = SynonymMap.parse('groups:\n  - ["mức 2", 2]\n');
    expect(m.expand('2').expansions[0]!.added).toEqual(['mức 2']);
  });

  it('returns an empty map for an empty document', () => {
    expect(SynonymMap.parse('').size).toBe(0);
    expect(SynonymMap.parse('# only a comment\n').size).toBe(0);
    expect(SynonymMap.parse('groups: []\n').size).toBe(0);
  });

  it('throws on a malformed file instead of silently dropping synonyms', () => {
    expect(() => SynonymMap.parse('title: x\ngroup:\n  - [a, b]\n')).toThrow(/groups/);
    expect(() => SynonymMap.parse('groups: "dvc"\n')).toThrow(/list/);
    expect(() => SynonymMap.parse('groups:\n  - dvc\n')).toThrow(/group 1/);
    expect(() => SynonymMap.parse('groups:\n  - [dvc, {a: 1}]\n')).toThrow(/group 1, form 2/);
    expect(() => SynonymMap.parse('- [a, b]\n')).toThrow(/groups/);
    expect(() => SynonymMap.parse('groups: [[a, b]\n')).toThrow();
  });

  it('loads the real knowledge/synonyms.yaml', () => {
    const file = fileURLToPath(new URL('../../knowledge/synonyms.yaml', import.meta.url));
    if (!fs.existsSync(file)) return;
    const real = SynonymMap.parse(fs.readFileSync(file, 'utf8'));
    expect(real.size).toBeGreaterThan(0);
    const r = real.expand('DVC là gì');
    expect(r.expansions[0]?.added).toContain('dịch vụ công');
  });
});
