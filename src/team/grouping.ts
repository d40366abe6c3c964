import { foldToken, normalizeText, STOPWORDS_FOLDED, tokenize } from '../text/vietnamese.js';

/** Placeholders of redacted personal data ("[số điện thoại]") carry no meaning for grouping. */
const PLACEHOLDER = /\[[^\]]*\]/g;

/** The folded content syllables of a question, in order (stopwords dropped). */
export function contentSyllables(text: string): string[] {
  return tokenize(normalizeText(text.replace(PLACEHOLDER, ' ')))
    .map(foldToken)
    .filter((t) => !STOPWORDS_FOLDED.has(t));
}

/**
 * `contentSyllables` of a stored question, from its `normalized` text when it has one (the same
 * folded syllables, joined by spaces) rather than normalizing its text again.
 */
function storedSyllables(q: Groupable): string[] {
  if (!q.normalized) return contentSyllables(q.text);
  return q.normalized.split(' ').filter((t) => !STOPWORDS_FOLDED.has(t));
}

/** The normalized form two questions share when they are "the same question": folded, no punctuation. */
export function normalizeQuestion(text: string): string {
  return tokenize(normalizeText(text.replace(PLACEHOLDER, ' ')))
    .map(foldToken)
    .join(' ');
}

/** The comparable key of a commune name: folded, lowercase, the part before the first comma. */
export function communeKey(commune: string | null | undefined): string {
  if (!commune) return '';
  const folded = tokenize(normalizeText(commune.split(',')[0] ?? ''))
    .map(foldToken)
    .join(' ');
  return folded;
}

export function jaccard(a: readonly string[], b: readonly string[]): number {
  const sa = new Set(a);
  const sb = new Set(b);
  if (!sa.size || !sb.size) return 0;
  let both = 0;
  for (const x of sa) if (sb.has(x)) both++;
  return both / (sa.size + sb.size - both);
}

export const SIMILARITY_THRESHOLD = 0.6;

export interface Groupable {
  id: string;
  text: string;
  normalized: string;
  commune: string | null;
  groupId: string;
}

/**
 * The group a new question joins: the group of an active question of the same commune with the same
 * normalized text, or with a Jaccard similarity of folded content syllables ≥ 0.6; else its own id.
 */
export function findGroup(question: Groupable, candidates: readonly Groupable[]): string {
  const key = communeKey(question.commune);
  const mine = contentSyllables(question.text);
  // Communes repeat across candidates: each distinct one is folded once.
  const keys = new Map<string | null, string>();
  const keyOf = (commune: string | null) => {
    let k = keys.get(commune);
    if (k === undefined) keys.set(commune, (k = communeKey(commune)));
    return k;
  };
  let best: { groupId: string; score: number } | undefined;
  for (const c of candidates) {
    if (c.id === question.id || keyOf(c.commune) !== key) continue;
    const score =
      c.normalized && c.normalized === question.normalized ? 1 : jaccard(mine, storedSyllables(c));
    if (score >= SIMILARITY_THRESHOLD && (!best || score > best.score)) best = { groupId: c.groupId, score };
  }
  return best?.groupId ?? question.id;
}
