/**
 * Splits Markdown-like text into sections (one per heading) made of blocks the chunker never cuts
 * through: paragraphs, list items with their continuation lines, tables (kept as rows), code fences.
 */

export interface ParagraphBlock {
  kind: 'paragraph' | 'list-item' | 'code';
  text: string;
  /** Whitespace between this block and the previous one in the source: '\n' when adjacent. */
  gap: '\n' | '\n\n';
  /** For list items: the indentation of the marker (nested items are indented more). */
  indent?: number;
}

export interface TableBlock {
  kind: 'table';
  /** Header row and its '| --- |' separator line, when the table has them. */
  header?: string;
  rows: string[];
  gap: '\n' | '\n\n';
}

export type Block = ParagraphBlock | TableBlock;

export interface Section {
  /** Headings above and including this section's own heading; [] before the first heading. */
  headingPath: string[];
  blocks: Block[];
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$/;
const TABLE_LINE = /^ {0,3}\|/;
const TABLE_SEPARATOR = /^ {0,3}\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$/;
const LIST_ITEM = /^([ \t]*)(?:[-*+•]|\d{1,9}[.)])(?:[ \t]+|$)/;
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const BLANK = /^\s*$/;

const startsBlock = (line: string): boolean =>
  HEADING.test(line) ||
  FENCE.test(line) ||
  TABLE_LINE.test(line) ||
  THEMATIC_BREAK.test(line) ||
  LIST_ITEM.test(line);

/** Lower-case, emphasis-free, single-spaced: for comparing a heading with the document title. */
export function comparableHeading(text: string): string {
  return text.normalize('NFC').replace(/[*_`]/g, '').replace(/\s+/g, ' ').trim().toLocaleLowerCase('vi');
}

function headingText(raw: string): string {
  const text = raw
    .replace(/[ \t]+#+$/, '')
    .replace(/^#+$/, '')
    .trim();
  const emphasised = /^(\*\*|__)(.+)\1$/.exec(text);
  return (emphasised?.[2] ?? text).trim();
}

/**
 * Parses `body` into sections. A level-1 heading equal to `title` (ignoring case and emphasis) is the
 * document's own title and is left out of heading paths. Heading-only sections are returned with no
 * blocks.
 */
export function parseSections(body: string, title?: string): Section[] {
  const lines = body.split('\n');
  const titleKey = title ? comparableHeading(title) : undefined;
  const stack: { level: number; text: string }[] = [];
  const sections: Section[] = [];
  let current: Section = { headingPath: [], blocks: [] };
  let gap: '\n' | '\n\n' = '\n\n';
  let i = 0;

  const push = (block: Block) => {
    current.blocks.push(block);
    gap = '\n';
  };

  while (i < lines.length) {
    const line = lines[i]!;
    if (BLANK.test(line)) {
      gap = '\n\n';
      i++;
      continue;
    }

    const heading = HEADING.exec(line);
    if (heading) {
      i++;
      const level = heading[1]!.length;
      const text = headingText(heading[2] ?? '');
      if (!text) continue;
      while (stack.length && stack[stack.length - 1]!.level >= level) stack.pop();
      if (!(level === 1 && titleKey !== undefined && comparableHeading(text) === titleKey)) {
        stack.push({ level, text });
      }
      if (current.blocks.length || sections.length) sections.push(current);
      current = { headingPath: stack.map((h) => h.text), blocks: [] };
      gap = '\n\n';
      continue;
    }

    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1]!;
      const closing = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}[ \\t]*$`);
      const code = [line];
      i++;
      while (i < lines.length) {
        const next = lines[i]!;
        code.push(next);
        i++;
        if (closing.test(next)) break;
      }
      push({ kind: 'code', text: code.join('\n'), gap });
      continue;
    }

    if (THEMATIC_BREAK.test(line)) {
      gap = '\n\n';
      i++;
      continue;
    }

    if (TABLE_LINE.test(line)) {
      const tableLines: string[] = [];
      while (i < lines.length && TABLE_LINE.test(lines[i]!)) tableLines.push(lines[i++]!.trim());
      const hasHeader = tableLines.length >= 2 && TABLE_SEPARATOR.test(tableLines[1]!);
      push({
        kind: 'table',
        header: hasHeader ? `${tableLines[0]}\n${tableLines[1]}` : undefined,
        rows: hasHeader ? tableLines.slice(2) : tableLines,
        gap,
      });
      continue;
    }

    const item = LIST_ITEM.exec(line);
    if (item) {
      const contentIndent = item[0].length;
      const itemLines = [line];
      i++;
      while (i < lines.length) {
        const next = lines[i]!;
        if (!BLANK.test(next)) {
          if (startsBlock(next)) break;
          itemLines.push(next);
          i++;
          continue;
        }
        // A blank line continues the item only when an indented, non-item paragraph follows.
        let j = i;
        while (j < lines.length && BLANK.test(lines[j]!)) j++;
        const after = lines[j];
        const indent = after === undefined ? 0 : /^[ \t]*/.exec(after)![0].length;
        if (after === undefined || indent < contentIndent || startsBlock(after)) break;
        itemLines.push('', after);
        i = j + 1;
      }
      push({ kind: 'list-item', text: itemLines.join('\n').trimEnd(), gap, indent: item[1]!.length });
      continue;
    }

    const paragraph = [line];
    i++;
    while (i < lines.length && !BLANK.test(lines[i]!) && !startsBlock(lines[i]!)) paragraph.push(lines[i++]!);
    push({ kind: 'paragraph', text: paragraph.join('\n').trimEnd(), gap });
  }
  if (current.blocks.length || sections.length || current.headingPath.length) sections.push(current);
  return sections;
}
