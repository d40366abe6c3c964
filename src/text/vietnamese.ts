/**
 * Vietnamese text handling used at every boundary (ingest, query, logs).
 *
 * Citizens type on phones: with or without diacritics, sometimes in NFD (some keyboards and
 * copy-paste from PDFs), with "y"/"i" spelling variants (ký/kí, quy/qui) and abbreviations. The
 * functions here turn all of that into stable token streams. They are pure and keep no state.
 */

/** Zero-width characters that only break words apart invisibly (plus soft hyphen and word joiner). */
const INVISIBLE = /[\u200B-\u200D\uFEFF\u2060\u00AD]/g;
/** C0/C1 control characters except \t (U+0009) and \n (U+000A). */
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
/** Combining diacritical marks; Vietnamese tone and vowel marks all live in this block. */
const COMBINING_MARKS = /[\u0300-\u036f]/g;
const HAS_COMBINING_MARK = /[\u0300-\u036f]/;
/**
 * đ/Đ, plus the look-alike eth letters Ð/ð (U+00D0/U+00F0) that legacy Vietnamese keyboards and
 * fonts (VNI, TCVN3 conversions) still produce for Đ.
 */
const D_STROKE_LOWER = /[\u0111\u00F0]/g;
const D_STROKE_UPPER = /[\u0110\u00D0]/g;
const HAS_D_STROKE = /[\u0110\u0111\u00D0\u00F0]/;
const NON_ASCII = /[^\u0000-\u007F]/;

/** True when the text is plain ASCII: nothing to fold, and lowercasing keeps every offset. */
export function isAscii(s: string): boolean {
  return !NON_ASCII.test(s);
}

/**
 * NFC with the invisible noise removed: zero-width characters (U+200B–U+200D, U+FEFF, and also
 * U+2060 word joiner and U+00AD soft hyphen) are dropped, and control characters other than
 * \n and \t become spaces.
 */
export function toNfc(s: string): string {
  return s.replace(INVISIBLE, '').replace(CONTROL, ' ').normalize('NFC');
}

/** toNfc + Vietnamese lowercase + whitespace collapsed to single spaces + trimmed. */
export function normalizeText(s: string): string {
  return toNfc(s).toLocaleLowerCase('vi').normalize('NFC').replace(/\s+/g, ' ').trim();
}

/**
 * Removes every Vietnamese diacritic (tone marks and the vowel marks of ă â ê ô ơ ư) and maps
 * đ→d, Đ→D. Robust to NFD input and to stacked marks in any order (ệ, ộ, ữ…); keeps the casing.
 */
export function foldDiacritics(s: string): string {
  // Most citizens type without diacritics: plain ASCII has nothing to fold.
  if (isAscii(s)) return s;
  return s
    .normalize('NFD')
    .replace(COMBINING_MARKS, '')
    .replace(D_STROKE_LOWER, 'd')
    .replace(D_STROKE_UPPER, 'D')
    .normalize('NFC');
}

/** True when the text contains any diacritic (tone or vowel mark, NFC or NFD) or đ/Đ. */
export function hasDiacritics(s: string): boolean {
  return HAS_D_STROKE.test(s) || HAS_COMBINING_MARK.test(s.normalize('NFD'));
}

/**
 * A bare `y` after a consonant onset. The onsets are the Vietnamese initial consonants, with
 * "qu" treated as one onset (so "quy" is onset "qu" + "y").
 */
const CONSONANT_ONSET_Y = /^(?:b|c|ch|d|g|gh|gi|h|k|kh|l|m|n|ng|ngh|nh|p|ph|qu|r|s|t|th|tr|v|x)y$/i;

/**
 * Canonical spelling of a FOLDED syllable, for the i/y variants citizens mix freely:
 * a final `y` directly after a consonant onset becomes `i`, so ký/kí, lý/lí, mỹ/mĩ, sỹ/sĩ,
 * công ty/công ti, hy/hi vọng and quy/qui định meet ("ky"→"ki", "quy"→"qui").
 *
 * `y` after a vowel is part of a diphthong and stays: "huy", "tuy", "thuy", "uy", "ay" (also from
 * "ây"). A lone "y" stays. Casing is preserved ("KY"→"KI"). Anything else is returned unchanged.
 */
export function canonicalSyllable(folded: string): string {
  if (!CONSONANT_ONSET_Y.test(folded)) return folded;
  const last = folded.endsWith('Y') ? 'I' : 'i';
  return folded.slice(0, -1) + last;
}

/**
 * A text as its folded, canonical words joined by single spaces ("Kích hoạt  VNeID?" → "kich hoat
 * vneid"): the form rule-based patterns (intents, side questions) are written against.
 */
export function foldedWords(text: string): string {
  const cached = recentlyFolded.get(text);
  if (cached !== undefined) return cached;
  const folded = tokenize(foldDiacritics(normalizeText(text)))
    .map(canonicalSyllable)
    .join(' ');
  if (text.length <= FOLD_CACHE_MAX_CHARS) {
    if (recentlyFolded.size >= FOLD_CACHE_SIZE) recentlyFolded.delete(recentlyFolded.keys().next().value!);
    recentlyFolded.set(text, folded);
  }
  return folded;
}

/**
 * The last texts `foldedWords` folded (oldest first): a turn folds the citizen's message in
 * several places (intents, the answer policy, the safety checks), 2.6 % of the main thread's busy
 * time in the bench profile when each folded it again. Held in memory only, a few messages long.
 */
const recentlyFolded = new Map<string, string>();
const FOLD_CACHE_SIZE = 32;
const FOLD_CACHE_MAX_CHARS = 2000;

/** A token with its position (UTF-16 offsets) in the text it came from. */
export interface TokenSpan {
  token: string;
  /** Offset of the first character of the token. */
  start: number;
  /** Offset just past the last character of the token. */
  end: number;
}

/** A letter of any script (with combining marks, so NFD survives) or a digit. */
const WORD_CHAR = /[\p{L}\p{M}\p{N}]/u;

function isAsciiWordChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}

/** ASCII digit; false for NaN (charCodeAt out of range). */
function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Three ASCII digits at `at`, not followed by a fourth. */
function isThousandsGroupAt(s: string, at: number): boolean {
  return (
    isDigit(s.charCodeAt(at)) &&
    isDigit(s.charCodeAt(at + 1)) &&
    isDigit(s.charCodeAt(at + 2)) &&
    !isDigit(s.charCodeAt(at + 3))
  );
}

/**
 * Like `tokenize`, with offsets. Digit groups separated by a single "." or "," are joined when
 * the group after the separator is exactly three digits ("10.000" → "10000", "1,500,000" →
 * "1500000"); the span then covers the separators too.
 */
export function tokenizeWithOffsets(s: string): TokenSpan[] {
  const out: TokenSpan[] = [];
  let start = -1;
  let token = '';
  const flush = (end: number) => {
    if (start >= 0) out.push({ token, start, end });
    start = -1;
    token = '';
  };
  for (let i = 0; i < s.length;) {
    const code = s.codePointAt(i)!;
    const width = code > 0xffff ? 2 : 1;
    if (code < 128 ? isAsciiWordChar(code) : WORD_CHAR.test(String.fromCodePoint(code))) {
      if (start < 0) start = i;
      token += s.slice(i, i + width);
    } else if (
      start >= 0 &&
      (code === 46 || code === 44) && // "." or ","
      isDigit(s.charCodeAt(i - 1)) &&
      isThousandsGroupAt(s, i + 1)
    ) {
      // Skip the separator; the thousands group continues this token.
    } else {
      flush(i);
    }
    i += width;
  }
  flush(s.length);
  return out;
}

/**
 * Splits normalized text into syllable tokens: runs of letters (Vietnamese letters included) and
 * digits, so "vneid", "4g", "2fa" stay whole; everything else separates ("128/kh-ubnd" → "128",
 * "kh", "ubnd"). Thousands groups are joined ("10.000" → "10000"); see `tokenizeWithOffsets`.
 * Expects text that went through `normalizeText` (it does not lowercase by itself).
 */
export function tokenize(s: string): string[] {
  return tokenizeWithOffsets(s).map((t) => t.token);
}

/**
 * Vietnamese function words, in folded (and canonical) form, dropped from the lexical index.
 *
 * Folding merges words, so a folded form is listed only when its function-word reading dominates
 * and the content words it also stands for are rare here or rescued by a synonym group. The list
 * is short on purpose: BM25 idf already discounts common words, while a wrongly dropped syllable
 * is lost for good. Deliberately NOT stopwords (each folds together with a domain word):
 *   ma    — "mà" (but) vs "mã" (mã OTP, mã QR, mã hồ sơ, mã PIN); the code reading wins.
 *   the   — "thế" (thế nào) vs "thẻ" (bank card, thẻ BHYT) and "thể" (có thể).
 *   co    — "có" vs "cơ" (cơ quan, cơ sở, cơ bản); "có" is in nearly every passage, so its idf is ~0.
 *   do    — "đó" vs "độ" (mức độ), "đỡ" (giúp đỡ), "đô" (đô thị).
 *   cho   — "cho" vs "chờ" (hồ sơ đang chờ xử lý).
 *   lam   — "làm" is the verb of most procedures (làm căn cước, làm lại thẻ).
 *   minh  — "mình" vs "minh" (chứng minh nhân dân, điện thoại thông minh).
 *   ban   — "bạn" vs "bản" (văn bản, bản sao, bản điện tử), "ban" (ủy ban, ban hành), "bàn".
 *   anh   — "anh" vs "ảnh" (ảnh chụp, ảnh scan); chi — "chị" vs "chỉ"/"chi" (địa chỉ, chi trả).
 *   nha   — "nha" vs "nhà" (nhà mạng, nhà cung cấp).
 * Known costs of what IS dropped: "cửa" (một cửa — the synonym group adds "bộ phận một cửa"),
 * "lạ" (link lạ), "thị" (thị xã, hiển thị), "tối" (tối thiểu), "sao" (bản sao), "vay" (vay tiền).
 */
export const STOPWORDS_FOLDED: ReadonlySet<string> = new Set([
  // Conjunctions, prepositions, copula
  'la', // là
  'va', // và
  'voi', // với
  'cua', // của
  'thi', // thì
  'hoac', // hoặc
  'neu', // nếu
  'khi', // khi
  'hay', // hay, hãy
  'rang', // rằng
  // Determiners, quantifiers, demonstratives
  'cac', // các
  'nhung', // những, nhưng
  'mot', // một
  'nay', // này
  'kia', // kia
  'ay', // ấy
  'o', // ở
  // Aspect and modal particles
  'duoc', // được
  'dc', // "đc", "dc": được, as typed on phones
  'da', // đã
  'roi', // rồi
  'nua', // nữa
  // Pronouns (first/second person as citizens write them; see above for anh, chị, bạn, mình)
  'toi', // tôi
  'em', // em
  // Question words
  'gi', // gì
  'nao', // nào
  'sao', // sao (làm sao, thì sao)
  'vay', // vậy
  // Sentence-final particles and interjections
  'a', // ạ, à, á
  'oi', // ơi
  'nhe', // nhé
  'nhi', // nhỉ
  'ah',
  'uh',
  'uhm',
  'um',
]);

/** The folded-field token for "là gì" (what is …), kept although both syllables are stopwords. */
export const DEFINITION_TOKEN = 'la_gi';

/** Token streams for the lexical index: unigrams followed by adjacent bigrams joined by "_". */
export interface AnalyzedText {
  /** Lowercase NFC tokens as written (diacritics kept). */
  accented: string[];
  /** Tokens folded to base letters and canonical y/i spelling. */
  folded: string[];
}

/** Joins each token with the next one: ["a","b","c"] → ["a_b","b_c"]. */
export function bigrams(tokens: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) out.push(`${tokens[i]}_${tokens[i + 1]}`);
  return out;
}

/** The folded, canonical form of one token: what stopwords and the folded index compare. */
export function foldToken(token: string): string {
  return canonicalSyllable(foldDiacritics(token));
}

/**
 * normalizeText → tokenize → drop stopwords (checked on the folded form) → unigrams plus adjacent
 * bigrams, for the accented tokens and for the folded+canonical tokens. Bigrams are formed over
 * the stopword-filtered sequence, so "đăng ký và kích hoạt" gives the bigram "ki_kich".
 */
export function analyze(text: string): AnalyzedText {
  const accented: string[] = [];
  const folded: string[] = [];
  // "X là gì" asks what X is: both words are stopwords, but the pair marks definitions.
  const definitions: string[] = [];
  let previous = '';
  for (const token of tokenize(normalizeText(text))) {
    const f = foldToken(token);
    if (f === 'gi' && previous === 'la') definitions.push(DEFINITION_TOKEN);
    previous = f;
    if (STOPWORDS_FOLDED.has(f)) continue;
    accented.push(token);
    folded.push(f);
  }
  return {
    accented: [...accented, ...bigrams(accented)],
    // "là gì" alone asks about nothing.
    folded: folded.length ? [...folded, ...bigrams(folded), ...definitions] : [],
  };
}
