import { foldDiacritics, isAscii, toNfc } from '../text/vietnamese.js';

/**
 * Personal-data redaction, applied before anything a citizen typed is logged or stored.
 *
 * Three passes over the NFC text, in priority order (an earlier span wins an overlap):
 *  1. e-mail addresses;
 *  2. passwords: the token after "mật khẩu", "mk", "pass", "password", "passcode", "mã pin", "pin"…;
 *  3. numbers: digit groups (joined by spaces, dots or dashes) classified by the keyword that
 *     precedes them within a few words ("stk", "cccd", "otp", "sđt"…), else by their shape:
 *     VN phone numbers, card numbers, 12-digit CCCD / 9-digit CMND, 8–19 digit account numbers.
 * Ordinary numbers stay: years, amounts ("500.000 đồng", "10 triệu", "1.000.000"), dates
 * ("04/7/2022"), document numbers ("128/KH-UBND"), percentages, hotlines (1800/1900…).
 * Keywords are matched on an accent-folded lowercase copy, so text with or without diacritics
 * (and NFD input) behaves the same.
 */

const HAS_DIGIT = /\d/;

export type PiiKind = 'cccd' | 'phone' | 'email' | 'bank_account' | 'card' | 'otp' | 'password';

/** All kinds, in the order `kinds` are reported. */
export const PII_KINDS: readonly PiiKind[] = [
  'cccd',
  'phone',
  'email',
  'bank_account',
  'card',
  'otp',
  'password',
];

/** What replaces each kind of personal data. */
export const PII_PLACEHOLDERS: Readonly<Record<PiiKind, string>> = {
  cccd: '[số CCCD]',
  phone: '[số điện thoại]',
  email: '[email]',
  bank_account: '[số tài khoản]',
  card: '[số thẻ]',
  otp: '[mã OTP]',
  password: '[mật khẩu]',
};

export interface RedactionResult {
  /** NFC text with every detected item replaced by its placeholder. */
  text: string;
  /** Kinds found, each once, in `PII_KINDS` order. */
  kinds: PiiKind[];
}

/** Replaces personal data (see the module comment) with Vietnamese placeholders. */
export function redactPii(text: string): RedactionResult {
  const t = toNfc(text);
  const spans = findPii(t);
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += t.slice(at, s.start) + PII_PLACEHOLDERS[s.kind];
    at = s.end;
  }
  out += t.slice(at);
  return { text: out, kinds: kindsOf(spans) };
}

interface Span {
  start: number;
  end: number;
  kind: PiiKind;
}

function kindsOf(spans: readonly Span[]): PiiKind[] {
  const found = new Set(spans.map((s) => s.kind));
  return PII_KINDS.filter((k) => found.has(k));
}

/** Non-overlapping spans in text order; `t` must be NFC. */
function findPii(t: string): Span[] {
  const f = foldForMatching(t);
  const accepted: Span[] = [];
  const passes = [findEmails(t), findPasswords(t, f), findNumbers(t, f)];
  for (const spans of passes) {
    for (const s of spans) {
      if (!accepted.some((a) => s.start < a.end && a.start < s.end)) accepted.push(s);
    }
  }
  return accepted.sort((a, b) => a.start - b.start);
}

/**
 * Lowercase, accent-folded copy of `t` with the same length and offsets, so that a match found in
 * the copy can be cut out of the original. A character whose folded or lowercase form would have
 * a different length is kept as it is.
 */
export function foldForMatching(t: string): string {
  // Plain ASCII: lowercasing it keeps every offset.
  if (isAscii(t)) return t.toLowerCase();
  let out = '';
  for (let i = 0; i < t.length; i++) {
    const ch = t[i]!;
    if (ch < '\u0080') {
      out += ch.toLowerCase();
      continue;
    }
    const lower = ch.toLowerCase();
    const folded = lower.length === 1 ? foldDiacritics(lower) : '';
    out += folded.length === 1 ? folded : lower.length === 1 ? lower : ch;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// E-mail

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/gu;

function findEmails(t: string): Span[] {
  if (!t.includes('@')) return [];
  return [...t.matchAll(EMAIL)].map((m) => ({ start: m.index, end: m.index + m[0].length, kind: 'email' }));
}

// ---------------------------------------------------------------------------------------------
// Passwords

const PASSWORD_KEYWORD =
  /(?<![\p{L}\p{N}])(?:mat\s+khau|mat\s+ma|passcode|password|pass|mk|ma\s+pin|pin)(?![\p{L}\p{N}])/gu;
/** Up to this many words may sit between the keyword and "là"/":" ("mật khẩu vneid của tôi là"). */
const MAX_FILLER_WORDS = 4;
/**
 * Words between the keyword and "là"/":" that make the sentence a question or a description
 * ("mk thế nào là mạnh", "mật khẩu mạnh: dài…"): then nothing is redacted. Compared on the
 * lowercase accented word; a folded form is listed only when unambiguous ("the" could be "thẻ").
 */
const DESCRIBING_WORDS = new Set(
  'thế nào nao gì sao bao nhiêu nhieu như mạnh manh yếu yeu tốt an toàn toan dài ngắn phải phai nên cần'.split(
    ' ',
  ),
);
/**
 * Words that follow "mật khẩu là" in questions and explanations rather than a real password
 * ("mật khẩu là gì", "mk la bao nhieu ky tu", "mat khau la day so…"), in folded form.
 */
const NOT_A_SECRET = new Set([
  'gi',
  'sao',
  'the',
  'nhu',
  'bao',
  'mat',
  'ma',
  'mot',
  'cai',
  'cac',
  'nhung',
  'day',
  'chuoi',
  'so',
  'chu',
  'ky',
  'ki',
  'dung',
  'khong',
  'gom',
  'phai',
  'toi',
  'minh',
  'ban',
  'em',
  'anh',
  'chi',
  'nhieu',
  'bi',
  'duoc',
  'can',
  'co',
]);
/** Quotes, brackets and Markdown emphasis around a token. */
const LEADING_WRAPPERS = /^["'“‘«(*_`]+/u;
const TRAILING_WRAPPERS = /[.,;:!?…)"'”’»*_`]+$/u;
/** Letters only, at least one of them Vietnamese-accented: a word, not a password. */
const ACCENTED_WORD = /^(?=.*[^\p{ASCII}])\p{L}+$/u;

function findPasswords(t: string, f: string): Span[] {
  const spans: Span[] = [];
  for (const m of f.matchAll(PASSWORD_KEYWORD)) {
    const secret = secretAfter(t, f, m.index + m[0].length);
    if (secret) spans.push({ ...secret, kind: 'password' });
  }
  return spans;
}

/**
 * The secret after a password keyword. Explicit ("mk là X", "mật khẩu của tôi là X", "pass: X"):
 * X is redacted unless it is a word of an ordinary sentence. Implicit ("mk X", "pin X"): X is
 * redacted only when it looks like a secret (4+ characters with a digit or a symbol), so
 * "quên mật khẩu vneid" and "hết pin" stay readable.
 */
function secretAfter(t: string, f: string, from: number): { start: number; end: number } | undefined {
  let i = from;
  let firstWord: number | undefined;
  for (let words = 0; words <= MAX_FILLER_WORDS; words++) {
    i = skipSpaces(f, i);
    const c = f[i];
    if (c === ':' || c === '=') return secretToken(t, f, skipSpaces(f, i + 1), true);
    const word = /^[\p{L}\p{N}]+/u.exec(f.slice(i, i + 64))?.[0];
    if (!word) break;
    if (word === 'la' || word === 'is') {
      let j = skipSpaces(f, i + word.length);
      if (f[j] === ':') j = skipSpaces(f, j + 1);
      return secretToken(t, f, j, true);
    }
    if (DESCRIBING_WORDS.has(t.slice(i, i + word.length).toLowerCase())) return undefined;
    firstWord ??= i;
    i += word.length;
  }
  return firstWord === undefined ? undefined : secretToken(t, f, firstWord, false);
}

/** A quoted secret may contain spaces: 'mật khẩu là "xuan 2025"'. */
const QUOTED = /^(?:"[^"\n]{1,64}"|'[^'\n]{1,64}'|“[^”\n]{1,64}”|‘[^’\n]{1,64}’|«[^»\n]{1,64}»)\S*/u;

function secretToken(t: string, f: string, start: number, explicit: boolean) {
  const rest = t.slice(start, start + 256);
  const token = (QUOTED.exec(rest) ?? /^\S+/u.exec(rest))?.[0];
  if (!token || startsWithPlaceholder(t, start)) return undefined;
  const unwrap = (s: string) => s.replace(LEADING_WRAPPERS, '').replace(TRAILING_WRAPPERS, '');
  const core = unwrap(token);
  if (explicit) {
    const folded = unwrap(f.slice(start, start + token.length));
    if (core.length < 3 || NOT_A_SECRET.has(folded) || ACCENTED_WORD.test(core)) return undefined;
  } else if (core.length < 4 || !/\p{N}|[^\p{L}\p{N}-]/u.test(core)) {
    return undefined;
  }
  return { start, end: start + token.length };
}

function startsWithPlaceholder(t: string, at: number): boolean {
  return Object.values(PII_PLACEHOLDERS).some((p) => t.startsWith(p, at));
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && /\s/.test(s[i]!)) i++;
  return i;
}

// ---------------------------------------------------------------------------------------------
// Numbers

/**
 * A chain of digit groups joined by single spaces, dots or dashes, optionally after +84 / (+84).
 * Spaces separate blocks (a phone number may be typed "0912 345 678"); dots and dashes bind a
 * block ("0912.345.678", "4111-1111-1111-1111", "2021-2025").
 */
const NUMBER_CHAIN = /(?<prefix>(?:\(\+?84\)|\+84)[ .\-\u00A0]?)?\d+(?:[ .\-\u00A0]\d+)*/g;
const BLOCK_SEPARATOR = /[ \u00A0]/;
/** 19-digit cards and accounts, or a 12-digit landline with its 84 prefix written without +. */
const MAX_PII_DIGITS = 21;

interface Group {
  start: number;
  end: number;
  digits: string;
}

interface Chain {
  start: number;
  groups: Group[];
  /** separators[k] stands between groups[k] and groups[k + 1]. */
  separators: string[];
  /** Group indexes of each block (groups not separated by a space). */
  blocks: number[][];
  prefixed: boolean;
  leftAttached: boolean;
  rightAttached: boolean;
}

interface Segment {
  start: number;
  end: number;
  /** Digits of the segment; with the +84 prefix when it has one. */
  digits: string;
  groups: Group[];
  /** Separators between the groups of the segment. */
  separators: string[];
  prefixed: boolean;
  /** Touches a letter (or a code like "KH-", "/2022") on its left or right. */
  attached: boolean;
  /** Ends where the chain ends (so text after it is not another digit group). */
  atChainEnd: boolean;
}

type NumberVerdict = PiiKind | 'not_pii' | undefined;

const URL = /(?:https?:\/\/|www\.)\S+/giu;
const NO_CONTEXT: NumberContext = { hits: [], previousWord: '' };

function findNumbers(t: string, f: string): Span[] {
  // Every number chain starts with a digit.
  if (!HAS_DIGIT.test(t)) return [];
  const spans: Span[] = [];
  const words = indexWords(f);
  const urls = [...t.matchAll(URL)].map((m) => [m.index, m.index + m[0].length] as const);
  // Context depends only on where a segment starts, and segments of a chain share starts.
  // Inside a URL, path and parameter names are not keywords ("?ma_thu_tuc=1.001234").
  const contexts = new Map<number, NumberContext>();
  const contextAt = (at: number) => {
    let c = contexts.get(at);
    if (!c) {
      const inUrl = urls.some(([from, to]) => at > from && at < to);
      contexts.set(at, (c = inUrl ? NO_CONTEXT : contextBefore(words, at)));
    }
    return c;
  };
  for (const m of t.matchAll(NUMBER_CHAIN)) {
    const chain = parseChain(t, m.index, m[0], m.groups?.prefix?.length ?? 0);
    // Longest run of blocks first, left to right.
    for (let b = 0; b < chain.blocks.length;) {
      let consumed = 1;
      for (let e = lastBlockWithin(chain, b, MAX_PII_DIGITS); e >= b; e--) {
        const segment = makeSegment(chain, b, e);
        const verdict = classifyNumber(t, segment, contextAt);
        if (verdict) {
          if (verdict !== 'not_pii') spans.push({ start: segment.start, end: segment.end, kind: verdict });
          consumed = e - b + 1;
          break;
        }
      }
      b += consumed;
    }
  }
  return spans;
}

function parseChain(t: string, start: number, text: string, prefixLength: number): Chain {
  const digitsStart = start + prefixLength;
  const groups: Group[] = [];
  const separators: string[] = [];
  for (const g of text.slice(prefixLength).matchAll(/\d+/g)) {
    const at = digitsStart + g.index;
    if (groups.length) separators.push(t[at - 1]!);
    groups.push({ start: at, end: at + g[0].length, digits: g[0] });
  }
  const blocks: number[][] = [[0]];
  separators.forEach((sep, k) => {
    if (BLOCK_SEPARATOR.test(sep)) blocks.push([k + 1]);
    else blocks[blocks.length - 1]!.push(k + 1);
  });
  return {
    start,
    groups,
    separators,
    blocks,
    prefixed: prefixLength > 0,
    leftAttached: isAttachedLeft(t, start),
    rightAttached: isAttachedRight(t, start + text.length),
  };
}

/** The last block from `first` on such that blocks first..last hold at most `maxDigits` digits. */
function lastBlockWithin(chain: Chain, first: number, maxDigits: number): number {
  const digitsOf = (b: number) =>
    chain.blocks[b]!.reduce((sum, g) => sum + chain.groups[g]!.digits.length, 0);
  let last = first;
  let total = digitsOf(first);
  while (last + 1 < chain.blocks.length && total + digitsOf(last + 1) <= maxDigits) total += digitsOf(++last);
  return last;
}

/** Blocks b..e of the chain as one candidate number. */
function makeSegment(chain: Chain, b: number, e: number): Segment {
  const first = chain.blocks[b]![0]!;
  const lastBlock = chain.blocks[e]!;
  const last = lastBlock[lastBlock.length - 1]!;
  const groups = chain.groups.slice(first, last + 1);
  const withPrefix = chain.prefixed && b === 0;
  const atChainEnd = e === chain.blocks.length - 1;
  return {
    start: withPrefix ? chain.start : groups[0]!.start,
    end: groups[groups.length - 1]!.end,
    digits: (withPrefix ? '84' : '') + groups.map((g) => g.digits).join(''),
    groups,
    separators: chain.separators.slice(first, last),
    prefixed: withPrefix,
    attached: (b === 0 && chain.leftAttached) || (atChainEnd && chain.rightAttached),
    atChainEnd,
  };
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const LETTER = /\p{L}/u;

/** "KH128", "H12-230101", "04/7": the number continues a word or code on its left. */
function isAttachedLeft(t: string, at: number): boolean {
  const c = t[at - 1];
  if (c === undefined) return false;
  if (LETTER.test(c)) return true;
  return /[/.\-_]/.test(c) && LETTER_OR_DIGIT.test(t[at - 2] ?? '');
}

/** "500k", "128/KH", "4g": the number continues into a word or code on its right. */
function isAttachedRight(t: string, at: number): boolean {
  const c = t[at];
  if (c === undefined) return false;
  if (LETTER.test(c)) return true;
  return /[/.\-_]/.test(c) && LETTER_OR_DIGIT.test(t[at + 1] ?? '');
}

/**
 * Currency and percent after a number: an amount, whatever its length. Matched on the accented
 * text, since folding merges "đồng" with "Đông Á" (a bank) and "ngàn" with "ngân hàng". Spaced
 * "k" and "tr" are left out on purpose: on phones "k" mostly means "không" ("mã OTP 123456 k
 * nhận được"), and "500k", "10tr" are already attached to their number.
 */
const CURRENCY_AFTER =
  /^\s*(?:%|\$|(?:đ|đồng|dong|vnd|vnđ|nghìn|nghin|ngàn|triệu|trieu|tỷ|tỉ|ty|usd|đô la|do la|đô|dollar)(?![\p{L}\p{N}]))/iu;
/** Units after a short number: a count, a date or a duration, never a code (accented text). */
const UNIT_AFTER =
  /^\s*(?:lần|lan|ngày|tháng|thang|năm|giờ|gio|phút|phut|giây|giay|người|nguoi|tuổi|tuoi|ký tự|kí tự|ky tu|ki tu|chữ số|chu so|số|hồ sơ|ho so|bước|buoc|trang|mục|muc)(?![\p{L}\p{N}])/iu;
/** Words before a short number that make it a date, a time or an ordinal. */
const DATE_WORDS = new Set([
  'nam',
  'ngay',
  'thang',
  'luc',
  'gio',
  'quy',
  'lan',
  'muc',
  'buoc',
  'dieu',
  'khoan',
]);
/** Toll-free and service numbers (1800…, 1900…): public, not personal. */
const SERVICE_NUMBER = /^(?:1800|1900)\d{4,6}$/;
/** Round amounts typed without separators (5000000, 120000000). */
const ROUND_AMOUNT = /^[1-9]\d?0{5,}$/;

/**
 * Kind of a number segment; 'not_pii' when it is recognisably something else (an amount, a
 * date), undefined when this segment says nothing (a shorter segment may still match).
 */
function classifyNumber(t: string, s: Segment, contextAt: (at: number) => NumberContext): NumberVerdict {
  const n = s.digits.length;
  if (n < 4 || (s.attached && n < 9)) return undefined;
  const after = s.atChainEnd ? t.slice(s.end, s.end + 16) : '';
  if (CURRENCY_AFTER.test(after)) return 'not_pii';
  if (SERVICE_NUMBER.test(s.digits)) return 'not_pii';

  const context = contextAt(s.start);
  if (n <= 4 && (UNIT_AFTER.test(after) || DATE_WORDS.has(context.previousWord))) return 'not_pii';
  const amount = isThousandsAmount(s);
  for (const hit of context.hits) {
    if (fitsContext(hit, s, amount)) return hit.kind;
  }
  if (amount) return 'not_pii';
  if (isPhone(s)) return 'phone';
  if (s.prefixed) return undefined;
  if (ROUND_AMOUNT.test(s.digits) && s.groups.length === 1) return 'not_pii';
  if (n >= 13 && n <= 19 && (isGroupedInFours(s) || (s.groups.length === 1 && luhnValid(s.digits))))
    return 'card';
  if (n === 12 && s.groups.every((g) => g.digits.length >= 3)) return 'cccd';
  if (n === 9 && (s.groups.length === 1 || s.groups.every((g) => g.digits.length === 3))) return 'cccd';
  if (n >= 8 && n <= 19 && s.groups.length === 1) return 'bank_account';
  return undefined;
}

function fitsContext(hit: ContextHit, s: Segment, amount: boolean): boolean {
  const n = s.digits.length;
  if (s.prefixed) return hit.kind === 'phone' && isPhone(s);
  switch (hit.kind) {
    case 'otp':
      return n >= 4 && n <= 8 && !amount;
    case 'password':
      return n >= 4 && n <= 19 && !amount;
    case 'bank_account':
      // "stk 123.456.789" is an account; "tài khoản bị trừ 1.500.000" is an amount.
      return n >= 6 && n <= 19 && (!amount || (hit.strong && hit.distance <= 1));
    case 'cccd':
      return n === 9 || n === 12;
    case 'phone':
      return isPhone(s) || ((n === 10 || n === 11) && s.digits.startsWith('0'));
    case 'card':
      return n >= 13 && n <= 19;
    default:
      return false;
  }
}

/** Vietnamese mobile (0[35789] + 8 digits), landline (02 + 9 digits), or the same after 84/+84. */
function isPhone(s: Segment): boolean {
  const d = s.digits;
  return (
    /^0[35789]\d{8}$/.test(d) || /^02\d{9}$/.test(d) || /^84[35789]\d{8}$/.test(d) || /^842\d{9}$/.test(d)
  );
}

/** "1.500.000": 1–3 digits (not starting with 0), then groups of exactly 3, joined by dots. */
function isThousandsAmount(s: Segment): boolean {
  if (s.groups.length < 2 || s.prefixed || s.separators.some((c) => c !== '.')) return false;
  const [first, ...rest] = s.groups;
  return /^[1-9]\d{0,2}$/.test(first!.digits) && rest.every((g) => g.digits.length === 3);
}

/** "4111 1111 1111 1111": groups of four, the last one of 1–4. */
function isGroupedInFours(s: Segment): boolean {
  const groups = s.groups;
  if (groups.length < 3) return false;
  return groups.every((g, i) => (i === groups.length - 1 ? g.digits.length <= 4 : g.digits.length === 4));
}

/** The Luhn checksum used by payment cards. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

// ---------------------------------------------------------------------------------------------
// Context keywords before a number

type ContextKind = Exclude<PiiKind, 'email'>;

interface ContextKeyword {
  words: string[];
  kind: ContextKind;
  /** How many words may stand between the keyword and the number. */
  within: number;
  /** Unambiguous enough to override the amount heuristic. */
  strong?: boolean;
}

interface ContextHit {
  kind: ContextKind;
  distance: number;
  strong: boolean;
}

interface NumberContext {
  /** Keywords before the number, nearest first. */
  hits: ContextHit[];
  /** The word right before the number, folded. */
  previousWord: string;
}

const keyword = (phrase: string, kind: ContextKind, within: number, strong = false): ContextKeyword => ({
  words: phrase.split(' '),
  kind,
  within,
  strong,
});

/** Folded keywords; short, ambiguous ones ("mã", "tk", "thẻ") only count right before the number. */
const CONTEXT_KEYWORDS: readonly ContextKeyword[] = [
  keyword('cccd', 'cccd', 6),
  keyword('cmnd', 'cccd', 6),
  keyword('cmt', 'cccd', 6),
  keyword('can cuoc', 'cccd', 6),
  keyword('chung minh nhan dan', 'cccd', 6),
  keyword('chung minh thu', 'cccd', 6),
  keyword('dinh danh', 'cccd', 6),
  keyword('vneid', 'cccd', 6),
  keyword('sdt', 'phone', 6),
  keyword('so dt', 'phone', 6),
  keyword('so dien thoai', 'phone', 6),
  keyword('dien thoai', 'phone', 4),
  keyword('dt', 'phone', 2),
  keyword('phone', 'phone', 4),
  keyword('zalo', 'phone', 3),
  keyword('goi', 'phone', 3),
  keyword('lien he', 'phone', 4),
  keyword('stk', 'bank_account', 6, true),
  keyword('so tk', 'bank_account', 6, true),
  keyword('so tai khoan', 'bank_account', 6, true),
  keyword('account', 'bank_account', 4, true),
  keyword('tai khoan', 'bank_account', 6),
  keyword('tk', 'bank_account', 3),
  keyword('acc', 'bank_account', 3),
  keyword('so the', 'card', 6),
  keyword('the atm', 'card', 6),
  keyword('the tin dung', 'card', 6),
  keyword('the ghi no', 'card', 6),
  keyword('card', 'card', 4),
  keyword('visa', 'card', 4),
  keyword('mastercard', 'card', 4),
  keyword('the', 'card', 2),
  keyword('otp', 'otp', 5),
  keyword('ma xac thuc', 'otp', 5),
  keyword('ma xac nhan', 'otp', 5),
  keyword('ma mot lan', 'otp', 5),
  keyword('ma kich hoat', 'otp', 5),
  keyword('xac thuc', 'otp', 3),
  keyword('ma', 'otp', 2),
  keyword('code', 'otp', 2),
  keyword('mat khau', 'password', 6),
  keyword('mat ma', 'password', 6),
  keyword('mk', 'password', 6),
  keyword('pass', 'password', 6),
  keyword('password', 'password', 6),
  keyword('passcode', 'password', 6),
  keyword('ma pin', 'password', 6),
  keyword('pin', 'password', 4),
];

/** How far back (in characters) to look for a keyword; the sentence boundary also stops it. */
const CONTEXT_CHARS = 100;
const SENTENCE_END = /[!?;\n]|\.(?=\s)/g;
/** Longest keyword (in words) plus the largest `within`: no keyword further back can count. */
const CONTEXT_WORDS = Math.max(...CONTEXT_KEYWORDS.map((k) => k.words.length + k.within));
/** Keywords by their last word, for a lookup per word before the number. */
const KEYWORDS_BY_LAST_WORD = new Map<string, ContextKeyword[]>();
for (const kw of CONTEXT_KEYWORDS) {
  const last = kw.words[kw.words.length - 1]!;
  KEYWORDS_BY_LAST_WORD.set(last, [...(KEYWORDS_BY_LAST_WORD.get(last) ?? []), kw]);
}

/** The words of the folded text with their offsets, and where sentences end. */
interface WordIndex {
  words: string[];
  starts: number[];
  ends: number[];
  sentenceEnds: number[];
}

function indexWords(f: string): WordIndex {
  const index: WordIndex = { words: [], starts: [], ends: [], sentenceEnds: [] };
  for (const m of f.matchAll(/[\p{L}\p{N}]+/gu)) {
    index.words.push(m[0]);
    index.starts.push(m.index);
    index.ends.push(m.index + m[0].length);
  }
  for (const m of f.matchAll(SENTENCE_END)) index.sentenceEnds.push(m.index);
  return index;
}

/** Number of values in the sorted array that are <= x. */
function countAtMost(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Keywords in the same sentence before `at` (and at most CONTEXT_CHARS back), nearest first (a
 * longer phrase first at equal distance), with the word just before the number.
 */
function contextBefore(index: WordIndex, at: number): NumberContext {
  const boundary = index.sentenceEnds[countAtMost(index.sentenceEnds, at - 1) - 1] ?? -1;
  const from = Math.max(boundary + 1, at - CONTEXT_CHARS);
  const end = countAtMost(index.ends, at); // words [0, end) end before the number
  let begin = end;
  while (begin > 0 && end - begin < CONTEXT_WORDS && index.starts[begin - 1]! >= from) begin--;
  const words = index.words.slice(begin, end);

  const hits: (ContextHit & { length: number })[] = [];
  const seen = new Set<ContextKeyword>();
  for (let last = words.length - 1; last >= 0; last--) {
    const distance = words.length - 1 - last;
    for (const kw of KEYWORDS_BY_LAST_WORD.get(words[last]!) ?? []) {
      const first = last - kw.words.length + 1;
      if (seen.has(kw) || distance > kw.within || first < 0) continue;
      if (!kw.words.every((w, j) => words[first + j] === w)) continue;
      seen.add(kw);
      hits.push({ kind: kw.kind, distance, strong: kw.strong ?? false, length: kw.words.length });
    }
  }
  hits.sort((a, b) => a.distance - b.distance || b.length - a.length);
  return { hits, previousWord: words[words.length - 1] ?? '' };
}
