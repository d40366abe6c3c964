import type { RetrievalHit, RetrievalResult } from '../retrieval/types.js';
import { markdownToChatText, truncateForPhone } from './plainText.js';
import type { AnswerSource } from './types.js';

export interface ComposedAnswer {
  body: string;
  sources: AnswerSource[];
}

export function sectionName(hit: RetrievalHit): string {
  return hit.chunk.headingPath.at(-1) ?? (hit.chunk.kind === 'faq' ? 'Hỏi đáp' : hit.chunk.title);
}

export function toSource(hit: RetrievalHit): AnswerSource {
  return {
    title: hit.chunk.title,
    file: hit.chunk.docId,
    section: sectionName(hit),
    score: Math.round(hit.score * 10000) / 10000,
  };
}

/**
 * The offline answer: the best passage, cleaned for a phone screen, with a short title line.
 * A short passage is followed by the next passage of the same document when there is room.
 */
export function composeExtractive(result: RetrievalResult, maxChars: number): ComposedAnswer {
  const [best, ...rest] = result.hits;
  if (!best) return { body: '', sources: [] };
  const used = [best];
  let body = passage(best);
  const sibling = rest.find((h) => h.chunk.docId === best.chunk.docId && h.chunk.kind !== 'faq');
  if (sibling && body.length < maxChars * 0.45) {
    const extra = passage(sibling);
    if (body.length + extra.length + 2 <= maxChars) {
      body = `${body}\n\n${extra}`;
      used.push(sibling);
    }
  }
  return { body: truncateForPhone(body, maxChars).text, sources: used.map(toSource) };
}

function passage(hit: RetrievalHit): string {
  const text = markdownToChatText(hit.chunk.text);
  const heading = hit.chunk.headingPath.at(-1);
  if (!heading || hit.chunk.kind === 'faq' || text.startsWith(heading)) return text;
  return `${heading}:\n${text}`;
}

export function formatSources(sources: readonly AnswerSource[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const s of sources) {
    const label = s.file.startsWith('faq/')
      ? `Hỏi đáp "${s.title}"`
      : s.section && s.section !== s.title
        ? `${s.title}, mục "${s.section}"`
        : s.title;
    if (seen.has(label)) continue;
    seen.add(label);
    parts.push(label);
  }
  return parts.length ? `Nguồn: ${parts.join('; ')}` : '';
}
