import type { IndexedChunk, RetrievalResult } from '../retrieval/types.js';
import type { AnswerSuggestion } from './types.js';

// "Có phải bạn muốn hỏi…": the nearest entries offered as buttons when the answer policy is not
// sure enough to answer (see `AnswerService`).

/** Longest suggestion label: a button on a phone screen. */
const SUGGESTION_MAX_CHARS = 80;
const MAX_SUGGESTIONS = 3;

/**
 * The text a suggestion button shows for a passage: an FAQ entry's question; for a guide, its title
 * and section, or the section alone when both do not fit on a button.
 */
export function suggestionLabel(chunk: IndexedChunk): string {
  const heading = chunk.headingPath.at(-1);
  if (chunk.kind === 'faq' || !heading || heading === chunk.title) return shorten(chunk.title);
  const full = `${chunk.title}: ${heading}`;
  if (full.length <= SUGGESTION_MAX_CHARS) return full;
  // A section alone must say what it is about: not "Bước 5: …" of a guide the citizen cannot see.
  const standsAlone = heading.length >= 20 && !/^(bước|mục|phần)\s*\d/i.test(heading);
  return shorten(standsAlone ? heading : chunk.title);
}

function shorten(label: string): string {
  if (label.length <= SUGGESTION_MAX_CHARS) return label;
  const cut = label.slice(0, SUGGESTION_MAX_CHARS - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > SUGGESTION_MAX_CHARS / 2 ? cut.slice(0, space) : cut).replace(/[\s,:;.-]+$/, '')}…`;
}

/**
 * The nearest entries, one per subject: an FAQ entry and the guide it condenses are the same
 * subject, and so are two sections of one guide. Two FAQ entries are two subjects, even when they
 * condense the same guide (tracking a dossier, supplementing it, resubmitting it after a refusal).
 */
export function suggestionsFrom(retrieval: RetrievalResult): AnswerSuggestion[] {
  const shown = new Set<string>(); // documents offered, and labels
  const condensed = new Set<string>(); // guides an offered FAQ entry condenses
  const out: AnswerSuggestion[] = [];
  for (const hit of retrieval.hits) {
    const { docId, source } = hit.chunk;
    const label = suggestionLabel(hit.chunk);
    if (shown.has(docId) || condensed.has(docId) || shown.has(label)) continue;
    if (source && shown.has(source)) continue; // its guide is offered already
    shown.add(docId);
    shown.add(label);
    if (source) condensed.add(source);
    out.push({ label, chunkId: hit.chunk.id, file: docId });
    if (out.length === MAX_SUGGESTIONS) break;
  }
  return out;
}
