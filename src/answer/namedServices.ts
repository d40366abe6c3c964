import { foldedWords } from '../text/vietnamese.js';

/**
 * The apps, portals and channels a citizen may name ("quét mặt trên VNeID", "quên mã PIN token",
 * "đóng BHYT qua ví điện tử"). When the nearest entry never mentions the one named, it is about
 * something else, however close its other words are: the blind sweeps' confident wrong answers
 * included a VNeID face check answered from the bank face-check entry and a token PIN answered from
 * the bank-app password entry, and no good answer came from such an entry.
 *
 * Patterns run on folded words (`foldedWords`: no diacritics, canonical "i" for a final "y").
 */
const SERVICES: Readonly<Record<string, RegExp>> = {
  vneid: /\b(?:vneid|vn eid|dinh danh)\b/,
  'public-services': /\b(?:dvc|dich vu cong|dichvucong)\b/,
  'digital-signature': /\b(?:cks|chu ki so|ki so|token|chung thu so)\b/,
  zalo: /\bzalo\b/,
  email: /\b(?:email|gmail|e mail|thu dien tu)\b/,
  'health-insurance': /\b(?:bhyt|bao hiem y te)\b/,
  'e-wallet': /\b(?:vi dien tu|momo|zalopay|vnpay|shopeepay|viettel money)\b/,
  'mobile-money': /\bmobile money\b/,
};

/** The services `text` names, by id. */
export function servicesNamed(text: string): string[] {
  const folded = foldedWords(text);
  return Object.keys(SERVICES).filter((id) => SERVICES[id]!.test(folded));
}

/** Folded passages by the object they were built from (chunks are immutable within an index version). */
const foldedPassages = new WeakMap<object, string>();

/**
 * The services the question names that the passage never mentions. `passage` is the entry's text
 * (title, questions and text); `key`, when given, is an object that stands for it, so the passage
 * of a chunk answered again and again is folded once.
 */
export function servicesNotMentioned(question: string, passage: () => string, key?: object): string[] {
  const asked = servicesNamed(question);
  if (!asked.length) return [];
  let folded = key && foldedPassages.get(key);
  if (folded === undefined) {
    folded = foldedWords(passage());
    if (key) foldedPassages.set(key, folded);
  }
  return asked.filter((id) => !SERVICES[id]!.test(folded));
}
