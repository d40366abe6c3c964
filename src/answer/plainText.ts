/**
 * Turns a Markdown chunk into text a phone chat shows well: no markup, numbered steps kept,
 * bullets as "•", table rows as "a – b – c".
 */
export function markdownToChatText(markdown: string): string {
  const lines: string[] = [];
  for (const raw of markdown.split('\n')) {
    let line = raw.trimEnd();
    if (/^\s*\|?\s*:?-{3,}/.test(line) && /^[\s|:-]+$/.test(line)) continue; // table separator
    if (/^\s*\|/.test(line)) {
      const cells = line
        .replace(/^\s*\|/, '')
        .replace(/\|\s*$/, '')
        .split('|')
        .map((c) => c.trim())
        .filter(Boolean);
      line = cells.join(' – ');
    }
    line = line
      .replace(/^#{1,6}\s+/, '')
      .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
      .replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_m, text: string, href: string) =>
        text === href ? text : `${text} (${href})`,
      )
      .replace(/(\*\*|__)(.+?)\1/g, '$2')
      .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s).,;:!?]|$)/g, '$1$2')
      .replace(/`([^`]+)`/g, '$1')
      .replace(/^(\s*)[-*+]\s+/, '$1• ')
      .replace(/^>\s?/, '');
    lines.push(line);
  }
  return lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * Cuts text to at most `max` characters at a line (or else sentence, or else word) boundary and
 * marks the cut with "…". Numbered steps are never cut in the middle.
 */
export function truncateForPhone(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  const lines = text.split('\n');
  let out = '';
  for (const line of lines) {
    const next = out ? `${out}\n${line}` : line;
    if (next.length > max - 2) break;
    out = next;
  }
  if (out.length < max * 0.4) {
    // One very long paragraph: cut at the last sentence end, else at a word boundary.
    const slice = text.slice(0, max - 2);
    const sentenceEnd = Math.max(slice.lastIndexOf('. '), slice.lastIndexOf('; '), slice.lastIndexOf('.\n'));
    out = sentenceEnd > max * 0.4 ? slice.slice(0, sentenceEnd + 1) : slice.slice(0, slice.lastIndexOf(' '));
  }
  return { text: `${out.trimEnd()}\n…`, truncated: true };
}
