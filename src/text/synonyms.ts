import { parse } from 'yaml';
import {
  canonicalSyllable,
  foldDiacritics,
  foldToken,
  hasDiacritics,
  normalizeText,
  tokenize,
  tokenizeWithOffsets,
  type TokenSpan,
} from './vietnamese.js';

/** One phrase of the query that matched a synonym group, and the forms added for it. */
export interface SynonymExpansion {
  /** The matched words as they appear in the normalized query. */
  matched: string;
  /** The other forms of the group(s), accented where the file has an accented spelling. */
  added: string[];
}

export interface ExpandResult {
  /**
   * The original query, followed by the added forms (each once, leaving out forms the query
   * already contains), separated by spaces.
   */
  text: string;
  expansions: SynonymExpansion[];
}

interface Form {
  key: string;
  form: string;
}

/** Folded + canonical token key of a phrase: "Chữ ký số", "chu ki so" → "chu ki so". */
export function phraseKey(phrase: string): string {
  return tokenize(normalizeText(phrase)).map(foldToken).join(' ');
}

/**
 * The abbreviation and synonym map ICT staff own (`knowledge/synonyms.yaml`). Each group lists
 * forms that mean the same thing; a query containing any form of a group (as whole tokens, with
 * or without diacritics, any casing, i/y spelling variants) gets the group's other forms added.
 * It works in both directions: "dvc" adds "dịch vụ công", and "dich vu cong" adds "dvc".
 *
 * Forms that fold to the same key ("chữ ký số", "chữ kí số", "chu ky so") count as one form; the
 * first accented spelling represents them. When a key occurs in several groups, the forms of all
 * of them are added. Everything is precomputed; `expand` only does map lookups.
 */
export class SynonymMap {
  private constructor(
    /** Folded phrase key → forms (with their keys) to add when the key matches. */
    private readonly additions: ReadonlyMap<string, readonly Form[]>,
    /** Every prefix (in whole tokens) of every key, to stop scanning early. */
    private readonly prefixes: ReadonlySet<string>,
    /** Longest key, in tokens. */
    private readonly maxTokens: number,
  ) {}

  /** Number of distinct phrases (folded keys) that trigger an expansion. */
  get size(): number {
    return this.additions.size;
  }

  /** Builds the map from groups of forms; the first form of a group is its canonical one. */
  static fromGroups(groups: readonly (readonly string[])[]): SynonymMap {
    // Per group: distinct keys in order, each with its representative (display) form.
    const keyed = groups.map((group) => {
      const forms = new Map<string, string>();
      for (const raw of group) {
        const form = normalizeText(raw);
        const key = phraseKey(form);
        if (!key) continue;
        const current = forms.get(key);
        if (current === undefined || (!hasDiacritics(current) && hasDiacritics(form))) forms.set(key, form);
      }
      return forms;
    });

    const collected = new Map<string, Map<string, string>>();
    for (const forms of keyed) {
      for (const key of forms.keys()) {
        let added = collected.get(key);
        if (!added) collected.set(key, (added = new Map()));
        for (const [otherKey, form] of forms) {
          if (otherKey !== key && !added.has(otherKey)) added.set(otherKey, form);
        }
      }
    }

    const additions = new Map<string, readonly Form[]>();
    const prefixes = new Set<string>();
    let maxTokens = 0;
    for (const [key, added] of collected) {
      if (added.size === 0) continue;
      additions.set(
        key,
        [...added].map(([k, form]) => ({ key: k, form })),
      );
      const tokens = key.split(' ');
      maxTokens = Math.max(maxTokens, tokens.length);
      for (let n = 1; n <= tokens.length; n++) prefixes.add(tokens.slice(0, n).join(' '));
    }
    return new SynonymMap(additions, prefixes, maxTokens);
  }

  /**
   * Parses the YAML file: a top-level `groups:` list of lists of strings (numbers are accepted
   * as strings); other top-level keys (title, updated, owner) are ignored. An empty document gives
   * an empty map; a document without a valid `groups` list throws, so a typo does not silently
   * switch synonyms off.
   */
  static parse(yamlText: string): SynonymMap {
    const doc: unknown = parse(yamlText);
    if (doc === null || doc === undefined) return SynonymMap.fromGroups([]);
    if (typeof doc !== 'object' || Array.isArray(doc) || !('groups' in doc)) {
      throw new Error('synonyms: expected a top-level `groups:` list');
    }
    return SynonymMap.fromGroups(parseGroups((doc as { groups: unknown }).groups));
  }

  /**
   * Finds every group form in the query as a whole-token phrase (compared folded and canonical),
   * longest match first, without overlaps, and adds the other forms of the group.
   */
  expand(query: string): ExpandResult {
    const normalized = normalizeText(query);
    const spans = tokenizeWithOffsets(normalized);
    const keys = foldedTokens(normalized, spans);
    const matches = this.findMatches(keys);

    const expansions: SynonymExpansion[] = [];
    const matchedKeys = new Set<string>();
    for (const { start, length, key } of matches) {
      if (matchedKeys.has(key)) continue; // the same phrase twice is reported once
      matchedKeys.add(key);
      expansions.push({
        matched: normalized.slice(spans[start]!.start, spans[start + length - 1]!.end),
        added: this.additions.get(key)!.map((f) => f.form),
      });
    }

    // The text gets each added form once, and not when the query already contains it.
    const typed = ` ${keys.join(' ')} `;
    const appended = new Set<string>();
    for (const key of matchedKeys) {
      for (const f of this.additions.get(key)!) if (!typed.includes(` ${f.key} `)) appended.add(f.form);
    }
    const text = appended.size ? `${query} ${[...appended].join(' ')}` : query;
    return { text, expansions };
  }

  /** Non-overlapping matches in text order, chosen longest first (then leftmost). */
  private findMatches(keys: readonly string[]): { start: number; length: number; key: string }[] {
    const candidates: { start: number; length: number; key: string }[] = [];
    for (let i = 0; i < keys.length; i++) {
      let key = '';
      for (let n = 1; n <= this.maxTokens && i + n <= keys.length; n++) {
        key = n === 1 ? keys[i]! : `${key} ${keys[i + n - 1]!}`;
        if (!this.prefixes.has(key)) break;
        if (this.additions.has(key)) candidates.push({ start: i, length: n, key });
      }
    }
    candidates.sort((a, b) => b.length - a.length || a.start - b.start);
    const taken = new Uint8Array(keys.length);
    const chosen: typeof candidates = [];
    for (const c of candidates) {
      let free = true;
      for (let j = c.start; j < c.start + c.length; j++) if (taken[j]) free = false;
      if (!free) continue;
      taken.fill(1, c.start, c.start + c.length);
      chosen.push(c);
    }
    return chosen.sort((a, b) => a.start - b.start);
  }
}

/**
 * Folded canonical form of each token. Folding the whole text at once is much faster than token
 * by token; it gives the same tokens unless folding moved a token boundary (a lone combining
 * mark), in which case each token is folded on its own.
 */
function foldedTokens(normalized: string, spans: readonly TokenSpan[]): string[] {
  const whole = tokenize(foldDiacritics(normalized));
  if (whole.length === spans.length) return whole.map(canonicalSyllable);
  return spans.map((s) => foldToken(s.token));
}

function parseGroups(groups: unknown): string[][] {
  if (!Array.isArray(groups)) throw new Error('synonyms: `groups` must be a list of lists of strings');
  return groups.map((group, i) => {
    if (!Array.isArray(group)) throw new Error(`synonyms: group ${i + 1} must be a list of strings`);
    return group.map((form, j) => {
      if (typeof form === 'string') return form;
      if (typeof form === 'number') return String(form);
      throw new Error(`synonyms: group ${i + 1}, form ${j + 1} must be a string`);
    });
  });
}
