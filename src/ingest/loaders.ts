import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import matter from 'gray-matter';
import { parse as parseYaml } from 'yaml';
import { htmlToMarkdown } from './htmlToMarkdown.js';
import { extractPdfPages, pdfPagesToMarkdown } from './pdfText.js';

export type DocumentKind = 'plan' | 'guide' | 'faq' | 'other';
export type SourceFormat = 'md' | 'txt' | 'html' | 'pdf' | 'docx';

export interface SourceDocument {
  /** Path relative to the knowledge root, POSIX separators, e.g. "guides/vneid-quen-mat-khau.md". */
  id: string;
  /** From the first folder: plans → plan, guides → guide, faq → faq, else other. */
  kind: DocumentKind;
  format: SourceFormat;
  /** Front matter title, else the first '# ' heading, else the first line, else the file name. */
  title: string;
  topic?: string;
  updated?: string;
  owner?: string;
  /** The whole front matter (dates as YYYY-MM-DD strings); empty for HTML, DOCX and PDF. */
  meta: Record<string, unknown>;
  /** Markdown-like text: '#' headings, '-' or '1.' list items, table rows as '| a | b |' lines. */
  body: string;
  /** sha256 hex of the raw file bytes. */
  contentHash: string;
}

const FORMATS: Readonly<Record<string, SourceFormat>> = {
  '.md': 'md',
  '.markdown': 'md',
  '.txt': 'txt',
  '.html': 'html',
  '.htm': 'html',
  '.pdf': 'pdf',
  '.docx': 'docx',
};

export const SUPPORTED_EXTENSIONS: readonly string[] = Object.freeze(Object.keys(FORMATS));

const KINDS: Readonly<Record<string, DocumentKind>> = { plans: 'plan', guides: 'guide', faq: 'faq' };

export class UnsupportedFormatError extends Error {
  constructor(
    readonly file: string,
    readonly extension: string,
  ) {
    super(
      `${file}: unsupported file type "${extension || '(none)'}" (supported: ${SUPPORTED_EXTENSIONS.join(' ')})`,
    );
    this.name = 'UnsupportedFormatError';
  }
}

/** A file that could not be read or parsed; the message starts with the file's id. */
export class DocumentLoadError extends Error {
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
    this.name = 'DocumentLoadError';
  }
}

/** The pieces every format produces before the common fields are filled in. */
interface Parsed {
  title?: string;
  meta: Record<string, unknown>;
  body: string;
}

/**
 * Reads one knowledge file and turns it into a SourceDocument. All text is NFC-normalized with
 * LF line endings. Throws UnsupportedFormatError for other file types and DocumentLoadError (whose
 * message names the file) when the file cannot be read or parsed.
 */
export async function loadDocument(rootDir: string, relPath: string): Promise<SourceDocument> {
  const id = toDocumentId(relPath);
  const extension = path.posix.extname(id).toLowerCase();
  const format = FORMATS[extension];
  if (!format) throw new UnsupportedFormatError(id, extension);
  if (id.startsWith('../') || path.isAbsolute(relPath)) {
    throw new DocumentLoadError(id, `path is outside the knowledge folder ${rootDir}`);
  }

  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(rootDir, relPath));
  } catch (err) {
    throw new DocumentLoadError(id, `cannot read file (${errorMessage(err)})`, { cause: err });
  }
  const contentHash = createHash('sha256').update(bytes).digest('hex');
  const kind = KINDS[id.split('/')[0] ?? ''] ?? 'other';

  let parsed: Parsed;
  try {
    parsed = await parseByFormat(format, bytes, kind);
  } catch (err) {
    if (err instanceof DocumentLoadError) throw err;
    throw new DocumentLoadError(id, `cannot parse ${format.toUpperCase()} (${errorMessage(err)})`, {
      cause: err,
    });
  }
  if (format === 'pdf' && !parsed.body) {
    throw new DocumentLoadError(
      id,
      'the PDF has no text layer (a scanned image?); convert it with OCR first',
    );
  }

  const meta = parsed.meta;
  const body = parsed.body;
  return {
    id,
    kind,
    format,
    title: parsed.title || firstHeading(body) || firstLine(body) || path.posix.basename(id, extension),
    topic: stringField(meta.topic),
    updated: stringField(meta.updated),
    owner: stringField(meta.owner),
    meta,
    body,
    contentHash,
  };
}

async function parseByFormat(format: SourceFormat, bytes: Buffer, kind: DocumentKind): Promise<Parsed> {
  switch (format) {
    case 'md':
    case 'txt':
      return parseMarkdown(normalizeText(decodeText(bytes)), kind);
    case 'html': {
      const { title, markdown } = htmlToMarkdown(decodeText(bytes, { html: true }));
      return { title: title && normalizeText(title), meta: {}, body: normalizeText(markdown) };
    }
    case 'docx': {
      // Loaded on first use, like pdf.js: only ingest reads .docx files.
      const { default: mammoth } = await import('mammoth');
      const { value } = await mammoth.convertToHtml(
        { buffer: bytes },
        // Images are dropped anyway: do not base64-encode them into the HTML.
        { convertImage: mammoth.images.imgElement(async () => ({ src: '' })), externalFileAccess: false },
      );
      const { title, markdown } = htmlToMarkdown(value);
      return { title: title && normalizeText(title), meta: {}, body: normalizeText(markdown) };
    }
    case 'pdf': {
      const pages = (await extractPdfPages(bytes)).map(normalizeText);
      // Lines are joined into paragraphs below, so the title is taken from the raw first line.
      return { title: firstLine(pages.join('\n')), meta: {}, body: normalizeText(pdfPagesToMarkdown(pages)) };
    }
  }
}

/** `text` is already NFC with LF line endings, so front matter values are too. */
function parseMarkdown(text: string, kind: DocumentKind): Parsed {
  // Passing options also keeps gray-matter from caching every file in its module-level cache.
  // yaml (YAML 1.2 core schema) leaves 2026-11-23 as a string instead of making a Date.
  const file = matter(text, { engines: { yaml: (source: string) => toRecord(parseYaml(source)) } });
  const meta = normalizeValue(file.data) as Record<string, unknown>;
  if (kind === 'faq') meta.questions = toStringList(meta.questions);
  return { title: stringField(meta.title), meta, body: normalizeText(file.content) };
}

/** relPath as a POSIX path relative to the knowledge root, NFC-normalized. */
function toDocumentId(relPath: string): string {
  return path.posix
    .normalize(relPath.replace(/\\/g, '/'))
    .replace(/^(\.\/)+/, '')
    .normalize('NFC');
}

/** UTF-8 (with or without BOM) or UTF-16 with BOM; an HTML page may declare another charset. */
function decodeText(bytes: Uint8Array, options: { html?: boolean } = {}): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    const head = Buffer.from(bytes.subarray(0, 2048)).toString('latin1');
    const charset = options.html ? /<meta[^>]+charset=["']?([\w-]+)/i.exec(head)?.[1] : undefined;
    if (charset) return new TextDecoder(charset).decode(bytes);
    throw new Error('the file is not valid UTF-8; save it as UTF-8', { cause: err });
  }
}

/** NFC, LF line endings, no BOM, no leading blank lines or trailing whitespace. */
export function normalizeText(text: string): string {
  return text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .normalize('NFC')
    .replace(/^(?:[ \t]*\n)+/, '')
    .trimEnd();
}

/** Front matter values: strings NFC, dates as YYYY-MM-DD, recursively. */
function normalizeValue(value: unknown): unknown {
  if (typeof value === 'string') return value.normalize('NFC');
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString().slice(0, 10);
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.normalize('NFC'), normalizeValue(v)]));
  }
  return value;
}

function toRecord(value: unknown): object {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function toStringList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return items
    .filter((q) => typeof q === 'string' || typeof q === 'number')
    .map((q) => String(q).trim())
    .filter(Boolean);
}

function stringField(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

function firstHeading(body: string): string | undefined {
  const match = /^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/m.exec(body);
  return match?.[1]?.trim() || undefined;
}

function firstLine(body: string): string | undefined {
  const line = body
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean);
  if (!line) return undefined;
  const text = line.replace(/^(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+)/, '').trim();
  return text.length > 200 ? `${text.slice(0, 199).trimEnd()}…` : text;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
