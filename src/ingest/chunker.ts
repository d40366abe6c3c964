import { createHash } from 'node:crypto';
import type { SourceDocument } from './loaders.js';
import { parseSections, type Block, type ParagraphBlock, type Section } from './markdownSections.js';

export interface Chunk {
  /** Stable across runs: first 16 hex of sha256(docId + '\n' + headingPath.join(' > ') + '\n' + partIndex). */
  id: string;
  docId: string;
  /** Headings above the text, without the document's own '#' title. */
  headingPath: string[];
  /** The chunk's Markdown, without the headings above it. */
  text: string;
  /** 0.. within the same heading path of the document. */
  partIndex: number;
}

export interface ChunkOptions {
  /** Chunks are filled up to this many characters; only a single list item or table row may exceed it. */
  maxChars: number;
  /** A section shorter than this is merged into the next chunk of the same parent section. */
  minChars: number;
}

export const DEFAULT_CHUNK_OPTIONS: Readonly<ChunkOptions> = Object.freeze({ maxChars: 1200, minChars: 120 });

/** An indivisible piece of text, in document order. */
interface Unit {
  text: string;
  /** Separator before this unit when it follows another one in the same chunk. */
  gap: string;
  /** Index of the section (within its group) the unit comes from. */
  section: number;
  /** First unit of its section: gets the bold heading lines when the section is merged. */
  opensSection: boolean;
  /** For table rows: header and separator, repeated when the row starts a chunk. */
  tableHeader?: string;
  /** The table's first row: always preceded by its header. */
  firstRow?: boolean;
  /** A lead-in ("… như sau:") that should start the next chunk rather than end this one. */
  keepWithNext?: boolean;
}

/** Splits a document into heading-aware chunks. Deterministic: same document, same chunks and ids. */
export function chunkDocument(doc: SourceDocument, options: Partial<ChunkOptions> = {}): Chunk[] {
  const opts = resolveOptions(options);
  const body = doc.body.replace(/\r\n?/g, '\n').normalize('NFC');
  if (doc.kind === 'faq') return [makeChunk(doc.id, [], body.trim(), 0)];

  const sections = parseSections(body, doc.title.normalize('NFC')).filter((s) => s.blocks.length > 0);
  const partCounters = new Map<string, number>();
  const chunks: Chunk[] = [];
  for (const group of groupShortSections(sections, opts.minChars)) {
    for (const piece of packGroup(group, opts.maxChars)) {
      // Keyed like the id itself, so two chunks of a document can never share an id.
      const key = piece.headingPath.join(' > ');
      const partIndex = partCounters.get(key) ?? 0;
      partCounters.set(key, partIndex + 1);
      chunks.push(makeChunk(doc.id, piece.headingPath, piece.text, partIndex));
    }
  }
  return chunks;
}

export function chunkId(docId: string, headingPath: readonly string[], partIndex: number): string {
  return createHash('sha256')
    .update(`${docId}\n${headingPath.join(' > ')}\n${partIndex}`)
    .digest('hex')
    .slice(0, 16);
}

function makeChunk(docId: string, headingPath: string[], text: string, partIndex: number): Chunk {
  return { id: chunkId(docId, headingPath, partIndex), docId, headingPath, text, partIndex };
}

function resolveOptions(options: Partial<ChunkOptions>): ChunkOptions {
  const maxChars = options.maxChars ?? DEFAULT_CHUNK_OPTIONS.maxChars;
  const minChars = options.minChars ?? DEFAULT_CHUNK_OPTIONS.minChars;
  if (!Number.isInteger(maxChars) || maxChars < 1)
    throw new RangeError(`maxChars must be a positive integer`);
  if (!Number.isInteger(minChars) || minChars < 0 || minChars > maxChars) {
    throw new RangeError(`minChars must be an integer between 0 and maxChars`);
  }
  return { maxChars, minChars };
}

/**
 * Groups each section shorter than minChars with the sections after it, as long as the next one lies
 * in the same parent section; every group ends with a section that is long enough or cannot merge.
 * A merged chunk's heading path is the one its sections share; the deeper headings become bold lines.
 */
function groupShortSections(sections: Section[], minChars: number): Section[][] {
  const groups: Section[][] = [];
  let pending: Section[] = [];
  sections.forEach((section, i) => {
    pending.push(section);
    const next = sections[i + 1];
    // A top-level section has no parent section: it merges only into its own subsections (each '##'
    // section of a guide is written to be read alone). The text before the first heading stays alone.
    const path = section.headingPath;
    const scope = path.length > 1 ? path.slice(0, -1) : path;
    const mergeable = scope.length > 0 && next !== undefined && startsWith(next.headingPath, scope);
    if (mergeable && sectionLength(section) < minChars) return;
    groups.push(pending);
    pending = [];
  });
  return groups;
}

function sectionLength(section: Section): number {
  return section.blocks.reduce((sum, block, i) => {
    const text =
      block.kind === 'table' ? [block.header, ...block.rows].filter(Boolean).join('\n') : block.text;
    return sum + text.length + (i ? block.gap.length : 0);
  }, 0);
}

/** Packs a group's units into chunks of at most maxChars and renders them. */
function packGroup(group: Section[], maxChars: number): { headingPath: string[]; text: string }[] {
  const units = group.flatMap((section, index) => sectionUnits(section.blocks, index, maxChars));
  const paths = group.map((s) => s.headingPath);
  const groupPath = commonPrefix(paths);
  // Sizes are measured with bold headings relative to the group's path, the longest they can get.
  const boldCost = (u: Unit) =>
    u.opensSection ? boldLines(paths, u.section, groupPath, u.section - 1).length : 0;
  const cost: CostFn = (u, first) =>
    (first ? 0 : u.opensSection ? 2 : u.gap.length) +
    boldCost(u) +
    (u.tableHeader && (first || u.firstRow) ? u.tableHeader.length + 1 : 0) +
    u.text.length;

  const chunks = balancedPack(units, maxChars, cost);

  return chunks.map((chunkUnits) => {
    const headingPath = commonPrefix([...new Set(chunkUnits.map((u) => u.section))].map((s) => paths[s]!));
    let text = '';
    let previousSection = -1;
    chunkUnits.forEach((unit, i) => {
      const first = i === 0;
      let piece = unit.text;
      if (unit.tableHeader && (first || unit.firstRow)) piece = `${unit.tableHeader}\n${piece}`;
      if (unit.opensSection) {
        const bold = boldLines(paths, unit.section, headingPath, previousSection);
        if (bold) piece = `${bold}\n\n${piece}`;
      }
      text += first ? piece : `${unit.opensSection ? '\n\n' : unit.gap}${piece}`;
      previousSection = unit.section;
    });
    // Only trailing space is trimmed: a chunk may start with an indented (nested) list item.
    return { headingPath, text: text.trimEnd() };
  });
}

type CostFn = (unit: Unit, firstInChunk: boolean) => number;

/**
 * Packs units into as few chunks as the greedy fill at maxChars needs, then evens them out: the
 * smallest size limit that still gives that many chunks is found by bisection, so the last chunk of
 * a long section is not a crumb.
 */
function balancedPack(units: Unit[], maxChars: number, cost: CostFn): Unit[][] {
  let best = greedyPack(units, maxChars, cost);
  if (best.length < 2) return best;
  const total = units.reduce((sum, u, i) => sum + cost(u, i === 0), 0);
  let low = Math.floor(total / best.length);
  let high = maxChars;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const packed = greedyPack(units, mid, cost);
    if (packed.length <= best.length) {
      best = packed;
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  return best;
}

/** Fills each chunk up to `limit`; a single unit larger than that gets a chunk of its own. */
function greedyPack(units: Unit[], limit: number, cost: CostFn): Unit[][] {
  const chunks: Unit[][] = [];
  let current: Unit[] = [];
  let size = 0;
  for (const unit of units) {
    if (current.length && size + cost(unit, false) > limit) {
      // Do not end a chunk with a lead-in line ("… như sau:"): move it to the next chunk if it fits there.
      const last = current[current.length - 1]!;
      const carried = last.keepWithNext && current.length > 1 ? [current.pop()!] : [];
      if (carried.length && cost(carried[0]!, true) + cost(unit, false) > limit) current.push(carried.pop()!);
      chunks.push(current);
      current = carried;
      size = carried.length ? cost(carried[0]!, true) : 0;
    }
    size += cost(unit, current.length === 0);
    current.push(unit);
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/**
 * The headings of section `index` below `base` that the previous section in the chunk did not
 * already show, as '**heading**' lines.
 */
function boldLines(paths: string[][], index: number, base: string[], previous: number): string {
  const own = paths[index]!;
  const shared = previous >= 0 ? commonPrefix([own, paths[previous]!]).length : 0;
  return own
    .slice(Math.max(base.length, shared))
    .map((h) => `**${h}**`)
    .join('\n\n');
}

/**
 * Blocks as units: tables by row; a list item together with its nested items when they fit;
 * oversized paragraphs and code cut at sentence / line boundaries.
 */
function sectionUnits(blocks: Block[], section: number, maxChars: number): Unit[] {
  const units: Unit[] = [];
  const base = { section, opensSection: false };
  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b]!;
    if (block.kind === 'table') {
      block.rows.forEach((row, r) =>
        units.push({
          ...base,
          text: row,
          gap: r ? '\n' : block.gap,
          tableHeader: block.header,
          firstRow: r === 0,
        }),
      );
      if (!block.rows.length && block.header) units.push({ ...base, text: block.header, gap: block.gap });
      continue;
    }
    if (block.kind === 'paragraph' && block.text.length > maxChars) {
      splitText(block.text, maxChars).forEach((text, k) =>
        units.push({ ...base, text, gap: k ? ' ' : block.gap }),
      );
      continue;
    }
    if (block.kind === 'code' && block.text.length > maxChars) {
      splitCode(block.text, maxChars).forEach((text, k) =>
        units.push({ ...base, text, gap: k ? '\n' : block.gap }),
      );
      continue;
    }
    let text = block.text;
    let last = b;
    const nested = block.kind === 'list-item' ? nestedItems(blocks, b) : [];
    const whole = nested.reduce((acc, child) => acc + child.gap + child.text, block.text);
    if (nested.length && whole.length <= maxChars) {
      text = whole;
      last = b + nested.length;
    }
    const next = blocks[last + 1];
    const leadIn = /:\s*$/.test(text) && (next?.kind === 'list-item' || next?.kind === 'table');
    units.push({ ...base, text, gap: block.gap, keepWithNext: block.kind !== 'code' && leadIn });
    b = last;
  }
  if (units[0]) units[0].opensSection = true;
  return units;
}

/** The list items nested (indented more) under the list item at `start`. */
function nestedItems(blocks: Block[], start: number): ParagraphBlock[] {
  const parent = blocks[start] as ParagraphBlock;
  const items: ParagraphBlock[] = [];
  for (const block of blocks.slice(start + 1)) {
    if (block.kind !== 'list-item' || (block.indent ?? 0) <= (parent.indent ?? 0)) break;
    items.push(block);
  }
  return items;
}

/** Break points, from the most to the least natural: sentence end, clause end, comma, any space. */
const BREAKS = [/(?<=[.!?…]["”)]?)\s+/u, /(?<=[;:])\s+/u, /(?<=,)\s+/u, /\s+/u];

/** Cuts an oversized paragraph into pieces of at most maxChars, at the most natural break available. */
function splitText(text: string, maxChars: number, level = 0): string[] {
  if (text.length <= maxChars) return [text];
  const breaker = BREAKS[level];
  if (!breaker) {
    const chars = Array.from(text);
    const pieces: string[] = [];
    for (let i = 0; i < chars.length; i += maxChars) pieces.push(chars.slice(i, i + maxChars).join(''));
    return pieces;
  }
  const parts = text.split(breaker).filter(Boolean);
  if (parts.length < 2) return splitText(text, maxChars, level + 1);
  // Re-join neighbouring parts greedily so pieces are as long as allowed.
  const pieces: string[] = [];
  for (const part of parts.flatMap((p) => splitText(p, maxChars, level + 1))) {
    const last = pieces[pieces.length - 1];
    if (last !== undefined && last.length + 1 + part.length <= maxChars)
      pieces[pieces.length - 1] = `${last} ${part}`;
    else pieces.push(part);
  }
  return pieces;
}

/** Cuts an oversized fenced code block at line boundaries, each piece fenced again. */
function splitCode(code: string, maxChars: number): string[] {
  const lines = code.split('\n');
  const fence = /^ {0,3}(`{3,}|~{3,})/.exec(lines[0] ?? '')?.[1] ?? '```';
  const inner = lines.slice(
    1,
    /^ {0,3}(`{3,}|~{3,})\s*$/.test(lines[lines.length - 1] ?? '') ? -1 : undefined,
  );
  const opening = lines[0] ?? fence;
  const overhead = opening.length + fence.length + 2;
  const pieces: string[] = [];
  let current: string[] = [];
  let size = overhead;
  const flush = () => {
    if (current.length) pieces.push(`${opening}\n${current.join('\n')}\n${fence}`);
    current = [];
    size = overhead;
  };
  for (const line of inner) {
    if (current.length && size + line.length + 1 > maxChars) flush();
    current.push(line);
    size += line.length + 1;
  }
  flush();
  return pieces;
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.every((h, i) => path[i] === h);
}

function commonPrefix(paths: readonly (readonly string[])[]): string[] {
  const [first = [], ...rest] = paths;
  const out: string[] = [];
  for (let i = 0; i < first.length; i++) {
    if (rest.some((p) => p[i] !== first[i])) break;
    out.push(first[i]!);
  }
  return out;
}
