import { describe, expect, it } from 'vitest';
import {
  analyze,
  DEFINITION_TOKEN,
  bigrams,
  canonicalSyllable,
  foldDiacritics,
  foldToken,
  hasDiacritics,
  normalizeText,
  STOPWORDS_FOLDED,
  tokenize,
  tokenizeWithOffsets,
  toNfc,
} from '../../src/text/vietnamese.js';

/** Tone marks: huyền, sắc, hỏi, ngã, nặng. */
const TONES = ['\u0300', '\u0301', '\u0309', '\u0303', '\u0323'];
/** Vowel letters (vowel marks included) and the base letter each folds to. */
const VOWELS: [string, string][] = [
  ['a', 'a'],
  ['ă', 'a'],
  ['â', 'a'],
  ['e', 'e'],
  ['ê', 'e'],
  ['i', 'i'],
  ['o', 'o'],
  ['ô', 'o'],
  ['ơ', 'o'],
  ['u', 'u'],
  ['ư', 'u'],
  ['y', 'y'],
];

/** Every vowel × (no tone + 5 tones) × (lower, upper), as [letter in NFC, expected fold]. */
function vowelTable(): [string, string][] {
  const rows: [string, string][] = [];
  for (const [vowel, base] of VOWELS) {
    for (const tone of ['', ...TONES]) {
      const lower = (vowel + tone).normalize('NFC');
      rows.push([lower, base]);
      rows.push([lower.toLocaleUpperCase('vi'), base.toUpperCase()]);
    }
  }
  return rows;
}

describe('toNfc', () => {
  it('composes NFD input', () => {
    const nfd = 'Chữ ký số'.normalize('NFD');
    expect(nfd).not.toBe('Chữ ký số');
    expect(toNfc(nfd)).toBe('Chữ ký số');
  });

  it('removes zero-width characters, also between a letter and its mark', () => {
    expect(toNfc('dịch\u200B vụ\u200C công\u200D\uFEFF')).toBe('dịch vụ công');
    expect(toNfc('chu\u200B\u031B\u0303')).toBe('chữ');
  });

  it('turns control characters into spaces but keeps newlines and tabs', () => {
    expect(toNfc('a\u0000b\u0007c\u001Bd\u007Fe\u0085f')).toBe('a b c d e f');
    expect(toNfc('dòng 1\ndòng\t2\r\n')).toBe('dòng 1\ndòng\t2 \n');
  });
});

describe('normalizeText', () => {
  it('lowercases Vietnamese capitals, collapses whitespace and trims', () => {
    expect(normalizeText('  ĐĂNG   KÝ\n\tVNeID  MỨC 2 ')).toBe('đăng ký vneid mức 2');
    expect(normalizeText('ỦY BAN NHÂN DÂN Xã')).toBe('ủy ban nhân dân xã');
  });

  it('gives the same result for NFC and NFD input', () => {
    const s = 'Tôi QUÊN Mật Khẩu VNeID, phải làm thế nào?';
    expect(normalizeText(s.normalize('NFD'))).toBe(normalizeText(s));
    expect(normalizeText(s.normalize('NFD'))).toBe(normalizeText(s).normalize('NFC'));
  });

  it('removes invisible characters pasted from web pages', () => {
    expect(normalizeText('căn\u200Bcước \uFEFFcông\u00A0dân')).toBe('căncước công dân');
  });
});

describe('foldDiacritics', () => {
  const table = vowelTable();

  it('covers the whole table: 12 vowels × 6 tones × 2 cases', () => {
    expect(table).toHaveLength(12 * 6 * 2);
    expect(new Set(table.map(([letter]) => letter)).size).toBe(table.length);
  });

  it.each(table)('folds %s to %s', (letter, base) => {
    expect(letter).toHaveLength(1); // NFC: one precomposed character
    expect(foldDiacritics(letter)).toBe(base);
    expect(foldDiacritics(letter.normalize('NFD'))).toBe(base);
  });

  it('maps đ and Đ (and the legacy look-alike Ð) to d and D', () => {
    expect(foldDiacritics('đ')).toBe('d');
    expect(foldDiacritics('Đ')).toBe('D');
    expect(foldDiacritics('ĐĂNG KÝ đường dây nóng')).toBe('DANG KY duong day nong');
    expect(foldDiacritics('ÐỊNH DANH')).toBe('DINH DANH');
  });

  it('handles stacked marks in either order', () => {
    for (const [marks, base] of [
      ['e\u0323\u0302', 'e'],
      ['e\u0302\u0323', 'e'],
      ['o\u0302\u0323', 'o'],
      ['u\u031B\u0303', 'u'],
      ['U\u0303\u031B', 'U'],
    ]) {
      expect(foldDiacritics(marks!)).toBe(base);
    }
    expect(foldDiacritics('Nghệ An, Bình Định, chữ ký số, một cửa')).toBe(
      'Nghe An, Binh Dinh, chu ky so, mot cua',
    );
  });

  it('leaves text without diacritics, digits and punctuation unchanged', () => {
    expect(foldDiacritics('VNeID 4G 2FA, 128/KH-UBND: 10.000đ')).toBe('VNeID 4G 2FA, 128/KH-UBND: 10.000d');
  });

  it('folds a whole Vietnamese pangram', () => {
    const s = 'Thủy thủ Ðặng Ngọc Ẩn ước mở quán phở bò Huế, ở đây giữ ưu đãi kỹ';
    expect(foldDiacritics(s)).toBe('Thuy thu Dang Ngoc An uoc mo quan pho bo Hue, o day giu uu dai ky');
    expect(foldDiacritics(s.normalize('NFD'))).toBe(foldDiacritics(s));
  });
});

describe('hasDiacritics', () => {
  it('is true for any tone, vowel mark or đ, in NFC or NFD', () => {
    for (const [letter, base] of vowelTable()) {
      expect(hasDiacritics(letter)).toBe(letter !== base);
      expect(hasDiacritics(letter.normalize('NFD'))).toBe(letter !== base);
    }
    expect(hasDiacritics('dang ky đ')).toBe(true);
    expect(hasDiacritics('DANG KY Đ')).toBe(true);
    expect(hasDiacritics('dang ky vneid muc 2')).toBe(false);
    expect(hasDiacritics('')).toBe(false);
  });
});

describe('canonicalSyllable', () => {
  it.each([
    ['ky', 'ki'],
    ['ly', 'li'],
    ['my', 'mi'],
    ['sy', 'si'],
    ['ty', 'ti'],
    ['hy', 'hi'],
    ['quy', 'qui'],
    ['thy', 'thi'],
    ['KY', 'KI'],
  ])('%s → %s (y after a consonant onset)', (input, expected) => {
    expect(canonicalSyllable(input)).toBe(expected);
  });

  it.each([
    'huy',
    'tuy',
    'thuy',
    'uy',
    'ay',
    'y',
    'nguy',
    'khuy',
    'duy',
    'yeu',
    'kyc',
    'ki',
    'qui',
    'vneid',
    '2fa',
  ])('%s stays', (input) => {
    expect(canonicalSyllable(input)).toBe(input);
  });

  it('merges the spelling variants citizens mix', () => {
    const pairs = [
      ['ký', 'kí'],
      ['lý', 'lí'],
      ['Mỹ', 'Mĩ'],
      ['sỹ', 'sĩ'],
      ['quý', 'quí'],
      ['kỳ', 'kì'],
      ['hy', 'hi'],
    ];
    for (const [a, b] of pairs) expect(foldToken(a!.toLowerCase())).toBe(foldToken(b!.toLowerCase()));
    // ...but not distinct words: "tùy" keeps its y, "ấy" is not "ai".
    expect(foldToken('tùy')).toBe('tuy');
    expect(foldToken('ấy')).toBe('ay');
  });
});

describe('tokenize', () => {
  const tok = (s: string) => tokenize(normalizeText(s));

  it('splits on punctuation and keeps letter-digit words whole', () => {
    expect(tok('VNeID, 4G và 2FA!')).toEqual(['vneid', '4g', 'và', '2fa']);
    expect(tok('Kế hoạch 128/KH-UBND')).toEqual(['kế', 'hoạch', '128', 'kh', 'ubnd']);
    expect(tok('dichvucong.gov.vn')).toEqual(['dichvucong', 'gov', 'vn']);
    expect(tok('(chữ_ký) "số" — ok?')).toEqual(['chữ', 'ký', 'số', 'ok']);
    expect(tok('xin chào 👋🏻 bạn')).toEqual(['xin', 'chào', 'bạn']);
  });

  it('joins thousands groups but not dates or decimals', () => {
    expect(tok('10.000 đồng')).toEqual(['10000', 'đồng']);
    expect(tok('1.000.000 và 1,500,000')).toEqual(['1000000', 'và', '1500000']);
    expect(tok('ngày 04/7/2022 hoặc 04.07.2022')).toEqual([
      'ngày',
      '04',
      '7',
      '2022',
      'hoặc',
      '04',
      '07',
      '2022',
    ]);
    expect(tok('tăng 3,5% hay 1.25')).toEqual(['tăng', '3', '5', 'hay', '1', '25']);
    expect(tok('1.2345')).toEqual(['1', '2345']);
    expect(tok('gọi 0912.345.678')).toEqual(['gọi', '0912345678']);
    expect(tok('phiên bản.000')).toEqual(['phiên', 'bản', '000']);
  });

  it('tokenizes NFD input like NFC', () => {
    const s = 'Chữ ký số';
    expect(tok(s.normalize('NFD'))).toEqual(tok(s));
    expect(tok(s.normalize('NFD'))).toEqual(['chữ', 'ký', 'số']);
    // Even without normalizing first, combining marks stay inside the word.
    expect(tokenize(s.normalize('NFD'))).toHaveLength(3);
  });

  it('works on folded text, as the hashing embeddings use it', () => {
    expect(tokenize(foldDiacritics(normalizeText('Đăng ký VNeID mức 2')))).toEqual([
      'dang',
      'ky',
      'vneid',
      'muc',
      '2',
    ]);
  });

  it('reports offsets that cut the token out of the text', () => {
    const s = 'stk: 0123 và 10.000đ';
    const spans = tokenizeWithOffsets(s);
    expect(spans.map((t) => t.token)).toEqual(['stk', '0123', 'và', '10000đ']);
    expect(spans.map((t) => s.slice(t.start, t.end))).toEqual(['stk', '0123', 'và', '10.000đ']);
  });

  it('returns nothing for empty or punctuation-only text', () => {
    expect(tok('')).toEqual([]);
    expect(tok(' ?!… -- ')).toEqual([]);
  });
});

describe('STOPWORDS_FOLDED', () => {
  it('holds only folded, canonical, lowercase forms', () => {
    for (const w of STOPWORDS_FOLDED) {
      expect(w).toBe(foldToken(normalizeText(w)));
      expect(tokenize(w)).toEqual([w]);
    }
  });

  it('contains common function words', () => {
    for (const w of [
      'la',
      'va',
      'cua',
      'thi',
      'duoc',
      'cac',
      'nhung',
      'mot',
      'nay',
      'o',
      'toi',
      'gi',
      'nao',
      'vay',
      'a',
      'oi',
      'nhe',
    ]) {
      expect(STOPWORDS_FOLDED.has(w), w).toBe(true);
    }
  });

  it('keeps words that matter in this domain', () => {
    for (const w of [
      'ki', // ký
      'so', // số
      'dich',
      'vu',
      'cong',
      'tien',
      'chuyen',
      'khoan',
      'mat',
      'khau',
      'ma', // mã OTP, mã QR
      'the', // thẻ
      'can', // cần, căn cước
      'cuoc',
      'goi',
      'co', // cơ quan
      'ban', // văn bản, ủy ban
      'anh', // ảnh chụp
      'minh', // chứng minh
      'chi', // địa chỉ
      'khong', // không dùng tiền mặt
      'lam', // làm căn cước
      'muc',
      'otp',
      'vneid',
    ]) {
      expect(STOPWORDS_FOLDED.has(w), w).toBe(false);
    }
  });
});

describe('analyze', () => {
  it('gives the same folded tokens for "Chu ki so" and "chữ ký số"', () => {
    expect(analyze('Chu ki so').folded).toEqual(analyze('chữ ký số').folded);
    expect(analyze('CHỮ KÍ SỐ').folded).toEqual(analyze('chu ky so').folded);
    expect(analyze('chữ ký số').folded).toEqual(['chu', 'ki', 'so', 'chu_ki', 'ki_so']);
  });

  it('gives identical streams for NFD and NFC input', () => {
    const s = 'Làm sao để đăng ký Chữ ký số từ xa trên điện thoại?';
    expect(analyze(s.normalize('NFD'))).toEqual(analyze(s));
  });

  it('keeps diacritics in the accented stream only', () => {
    const a = analyze('Chữ ký số dùng để làm gì vậy?');
    expect(a.accented).toEqual([
      'chữ',
      'ký',
      'số',
      'dùng',
      'để',
      'làm',
      'chữ_ký',
      'ký_số',
      'số_dùng',
      'dùng_để',
      'để_làm',
    ]);
    expect(a.folded).toEqual([
      'chu',
      'ki',
      'so',
      'dung',
      'de',
      'lam',
      'chu_ki',
      'ki_so',
      'so_dung',
      'dung_de',
      'de_lam',
    ]);
  });

  it('marks a "là gì" (what is) question in the folded stream, though both words are stopwords', () => {
    expect(analyze('Chữ ký số là gì vậy?').folded).toEqual([
      'chu',
      'ki',
      'so',
      'chu_ki',
      'ki_so',
      DEFINITION_TOKEN,
    ]);
    expect(analyze('DVC la gi').folded).toContain(DEFINITION_TOKEN);
    expect(analyze('Cổng Dịch vụ công quốc gia là gì').folded).toContain(DEFINITION_TOKEN);
    // Not when the two words are apart, nor in the accented stream.
    expect(analyze('chữ ký số là cái gì').folded).not.toContain(DEFINITION_TOKEN);
    expect(analyze('Chữ ký số là gì').accented).not.toContain(DEFINITION_TOKEN);
  });

  it('removes stopwords, with or without diacritics', () => {
    const withMarks = analyze('Tôi đã được cấp căn cước của công dân rồi ạ');
    const without = analyze('toi da duoc cap can cuoc cua cong dan roi a');
    expect(withMarks.folded).toEqual(without.folded);
    for (const w of ['toi', 'da', 'duoc', 'cua', 'roi', 'a']) expect(withMarks.folded).not.toContain(w);
    expect(withMarks.folded.slice(0, 5)).toEqual(['cap', 'can', 'cuoc', 'cong', 'dan']);
  });

  it('forms bigrams over the stopword-filtered sequence', () => {
    const a = analyze('đăng ký và kích hoạt');
    expect(a.folded).toEqual(['dang', 'ki', 'kich', 'hoat', 'dang_ki', 'ki_kich', 'kich_hoat']);
    expect(a.accented).toContain('ký_kích');
  });

  it('keeps "mã" (OTP code) and its bigrams', () => {
    const a = analyze('Không chia sẻ mã OTP cho ai');
    expect(a.folded).toContain('ma');
    expect(a.folded).toContain('ma_otp');
    expect(a.accented).toContain('mã_otp');
  });

  it('handles abbreviations, numbers and document references', () => {
    expect(analyze('KH 190/KH-UBND 2024').folded).toEqual([
      'kh',
      '190',
      'kh',
      'ubnd',
      '2024',
      'kh_190',
      '190_kh',
      'kh_ubnd',
      'ubnd_2024',
    ]);
    expect(analyze('học phí 1.500.000đ').folded).toEqual([
      'hoc',
      'phi',
      '1500000d',
      'hoc_phi',
      'phi_1500000d',
    ]);
  });

  it('returns empty streams for empty or stopword-only text', () => {
    expect(analyze('')).toEqual({ accented: [], folded: [] });
    expect(analyze('là gì vậy ạ?')).toEqual({ accented: [], folded: [] });
    expect(analyze('quên')).toEqual({ accented: ['quên'], folded: ['quen'] });
  });

  it('bigrams() pairs neighbours', () => {
    expect(bigrams(['a', 'b', 'c'])).toEqual(['a_b', 'b_c']);
    expect(bigrams(['a'])).toEqual([]);
  });
});
