import { foldedWords } from '../text/vietnamese.js';

/**
 * The apps and services a citizen may name as the subject of a question ("quét mặt trên VNeID",
 * "quên mã PIN token", "đóng BHYT qua ví điện tử"). When the nearest entry never mentions the one
 * named, it is about something else, however close its other words are: the blind sweeps' confident
 * wrong answers included a VNeID face check answered from the bank face-check entry and a token PIN
 * answered from the bank-app password entry, and no good answer came from such an entry.
 *
 * Channels and portals are left out because they are named in passing as often as asked about:
 * "trường gửi qua Zalo mã học phí" asks about paying the fee, "tạo Gmail để đăng ký dịch vụ công"
 * about the e-mail address (blind sweep 10, where both became "did you mean").
 *
 * Patterns run on folded words (`foldedWords`: no diacritics, canonical "i" for a final "y").
 */
const SERVICES: Readonly<Record<string, RegExp>> = {
  vneid: /\b(?:vneid|vn eid|dinh danh)\b/,
  'digital-signature': /\b(?:cks|chu ki so|ki so|token|chung thu so)\b/,
  'health-insurance': /\b(?:bhyt|bao hiem y te)\b/,
  'e-wallet': /\b(?:vi dien tu|momo|zalopay|vnpay|shopeepay|viettel money)\b/,
  'mobile-money': /\bmobile money\b/,
};

/** The services `text` names, by id. */
export function servicesNamed(text: string): string[] {
  return servicesIn(foldedWords(text));
}

function servicesIn(folded: string): string[] {
  return Object.keys(SERVICES).filter((id) => SERVICES[id]!.test(folded));
}

/** Folded passages by the object they were built from (chunks are immutable within an index version). */
const foldedPassages = new WeakMap<object, string>();

/**
 * The services the question (given folded, `foldedWords`) names that the passage never mentions.
 * `passage` is the entry's text (title, questions and text); `key`, when given, is an object that
 * stands for it, so the passage of a chunk answered again and again is folded once.
 */
export function servicesNotMentioned(foldedQuestion: string, passage: () => string, key?: object): string[] {
  const asked = servicesIn(foldedQuestion);
  if (!asked.length) return [];
  let folded = key && foldedPassages.get(key);
  if (folded === undefined) {
    folded = foldedWords(passage());
    if (key) foldedPassages.set(key, folded);
  }
  return asked.filter((id) => !SERVICES[id]!.test(folded));
}
