import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { loadDocument, SUPPORTED_EXTENSIONS, type SourceDocument } from '../ingest/loaders.js';
import { slugify } from '../team/curation.js';
import { badArgument, ConsoleError } from './errors.js';
import { FOLDER_OF_KIND, today, writeFileAtomic, type UploadKind } from './files.js';
import { validateMarkdown } from './frontMatter.js';

/** What the content of an uploaded file is, from its bytes (not its name). */
export type SniffedType = 'pdf' | 'docx' | 'zip' | 'html' | 'text' | 'binary';

const DEFAULT_TOPIC: Record<UploadKind, string> = { plan: 'ke-hoach', guide: 'co-ban', faq: 'co-ban' };

const HTML_MARKUP =
  /<(?:!doctype\s+html|html|head|body|meta|title|p|h[1-6]|div|table|ul|ol|article|section|main|br)\b[^>]*>/i;

function decodeText(bytes: Buffer): string | undefined {
  try {
    if (bytes[0] === 0xff && bytes[1] === 0xfe)
      return new TextDecoder('utf-16le', { fatal: true }).decode(bytes);
    if (bytes[0] === 0xfe && bytes[1] === 0xff)
      return new TextDecoder('utf-16be', { fatal: true }).decode(bytes);
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Sniffs the type from the content: `%PDF-` near the start; a ZIP (PK\x03\x04) that contains
 * `word/document.xml` is DOCX; text is valid UTF-8 (or UTF-16 with a BOM) without NUL characters,
 * and HTML is text with HTML markup near the start.
 */
export function sniffType(bytes: Buffer): SniffedType {
  if (bytes.subarray(0, 1024).includes('%PDF-')) return 'pdf';
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    return bytes.includes('word/document.xml') ? 'docx' : 'zip';
  }
  const text = decodeText(bytes);
  if (text === undefined || text.includes('\0')) return 'binary';
  return HTML_MARKUP.test(text.slice(0, 8192)) ? 'html' : 'text';
}

const NAMES: Record<SniffedType, string> = {
  pdf: 'a PDF',
  docx: 'a Word document (DOCX)',
  zip: 'a ZIP archive (not a Word document)',
  html: 'an HTML page',
  text: 'plain text',
  binary: 'binary data (not text)',
};

/** The content types an extension accepts (Markdown may contain HTML markup). */
function accepted(ext: string): SniffedType[] {
  switch (ext) {
    case '.pdf':
      return ['pdf'];
    case '.docx':
      return ['docx'];
    case '.html':
    case '.htm':
      return ['html'];
    default:
      return ['text', 'html'];
  }
}

export interface UploadInput {
  filename?: unknown;
  contentBase64?: unknown;
  kind?: unknown;
  title?: unknown;
  topic?: unknown;
  owner?: unknown;
}

export interface StoredUpload {
  /** The Markdown document written, e.g. "guides/huong-dan-moi.md". */
  id: string;
  /** The original file kept for a PDF, DOCX or HTML upload, e.g. "originals/huong-dan-moi.pdf". */
  original?: string;
  filename: string;
  bytes: number;
  type: SniffedType;
  kind: UploadKind;
  title: string;
}

const optionalText = (v: unknown, name: string, max: number): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.trim().length > max)
    throw badArgument(`${name} must be a text of at most ${max} characters`);
  return v.trim().normalize('NFC') || undefined;
};

/** Checks the request without touching the disk; returns the decoded file and its validated fields. */
export function checkUpload(input: UploadInput, maxBytes: number) {
  const rawName = input.filename;
  if (typeof rawName !== 'string' || !rawName.trim()) throw badArgument('filename is required');
  const filename = path.posix.basename(rawName.trim().replace(/\\/g, '/')).normalize('NFC');
  if (!filename || filename.length > 200 || filename.startsWith('.')) throw badArgument('invalid filename');
  const ext = path.posix.extname(filename).toLowerCase();
  if (!SUPPORTED_EXTENSIONS.includes(ext)) {
    throw new ConsoleError(
      415,
      'UnsupportedMediaType',
      `unsupported file type "${ext || '(none)'}": upload a PDF, DOCX, HTML, Markdown or text file`,
    );
  }
  const kind = (input.kind ?? 'guide') as UploadKind;
  if (!(kind in FOLDER_OF_KIND)) throw badArgument('kind must be guide, faq or plan');
  const title = optionalText(input.title, 'title', 300);
  const topic = optionalText(input.topic, 'topic', 60);
  const owner = optionalText(input.owner, 'owner', 200);
  if (topic && !/^[a-z0-9-]+$/.test(topic))
    throw badArgument('topic must be lowercase letters, digits and dashes');

  const b64 = input.contentBase64;
  if (typeof b64 !== 'string') throw badArgument('contentBase64 is required (the file, base64-encoded)');
  const compact = b64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw badArgument('contentBase64 is not valid base64');
  }
  if (Math.floor((compact.length * 3) / 4) > maxBytes + 2) {
    throw tooLarge(maxBytes);
  }
  const bytes = Buffer.from(compact, 'base64');
  if (!bytes.length) throw badArgument('the file is empty');
  if (bytes.length > maxBytes) throw tooLarge(maxBytes);

  const type = sniffType(bytes);
  if (!accepted(ext).includes(type)) {
    throw new ConsoleError(
      415,
      'UnsupportedMediaType',
      `the file's content is ${NAMES[type]}, which does not match its name "${filename}"`,
    );
  }
  return { filename, ext, kind, title, topic, owner, bytes, type };
}

export function tooLarge(maxBytes: number): ConsoleError {
  const mb = maxBytes >= 1024 * 1024 ? `${(maxBytes / 1024 / 1024).toFixed(1)} MB` : `${maxBytes} bytes`;
  return new ConsoleError(413, 'PayloadTooLarge', `the file is larger than the limit of ${mb}`);
}

/** Converts the file with the same loaders the index uses (in a scratch folder). */
async function convert(bytes: Buffer, ext: string, kind: UploadKind): Promise<SourceDocument> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-upload-'));
  try {
    const folder = FOLDER_OF_KIND[kind];
    fs.mkdirSync(path.join(scratch, folder));
    fs.writeFileSync(path.join(scratch, folder, `upload${ext}`), bytes);
    return await loadDocument(scratch, `${folder}/upload${ext}`);
  } catch (err) {
    throw new ConsoleError(
      422,
      'Unprocessable',
      `the file could not be read: ${(err instanceof Error ? err.message : String(err)).replace(/^[^:]*upload\.\w+: /, '')}`,
    );
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Stores an upload: the file is type-checked by its content, converted to Markdown with front
 * matter (title, topic, updated = today, owner; `original` for PDF, DOCX and HTML) under
 * `<kind folder>/<slug>.md`, and a PDF, DOCX or HTML original is kept under `originals/`.
 * Every check runs before anything is written.
 */
export async function storeUpload(o: {
  knowledgeDir: string;
  input: UploadInput;
  maxBytes: number;
  /** Owner when neither the form nor the file names one. */
  defaultOwner: string;
}): Promise<StoredUpload> {
  const u = checkUpload(o.input, o.maxBytes);
  const doc = await convert(u.bytes, u.ext, u.kind);
  if (!doc.body.trim()) {
    throw new ConsoleError(422, 'Unprocessable', 'the file contains no text to answer from');
  }
  const title = u.title ?? doc.title;
  const folder = FOLDER_OF_KIND[u.kind];
  const keepOriginal = u.type === 'pdf' || u.type === 'docx' || u.ext === '.html' || u.ext === '.htm';
  const base = slugify(path.posix.basename(u.filename, u.ext)) || slugify(title);
  const docDir = path.join(o.knowledgeDir, folder);
  const originalsDir = path.join(o.knowledgeDir, 'originals');
  // One free slug for both the Markdown file and the original.
  let slug = base;
  for (
    let i = 2;
    fs.existsSync(path.join(docDir, `${slug}.md`)) ||
    (keepOriginal && fs.existsSync(path.join(originalsDir, `${slug}${u.ext}`)));
    i++
  ) {
    slug = `${base}-${i}`;
  }
  const original = keepOriginal ? `originals/${slug}${u.ext}` : undefined;

  const front: Record<string, unknown> = {
    // A Markdown or text upload keeps its own front matter (keywords, questions…).
    ...(keepOriginal ? {} : doc.meta),
    title,
    topic: u.topic ?? doc.topic ?? DEFAULT_TOPIC[u.kind],
    updated: today(),
    owner: u.owner ?? doc.owner ?? o.defaultOwner,
  };
  if (original) {
    front.original = original;
    front.source_file = u.filename;
  }
  const markdown = `---\n${YAML.stringify(front).trimEnd()}\n---\n${doc.body.trim()}\n`;
  validateMarkdown(markdown, { faq: u.kind === 'faq' });

  if (original) writeFileAtomic(path.join(o.knowledgeDir, ...original.split('/')), u.bytes);
  const id = `${folder}/${slug}.md`;
  writeFileAtomic(path.join(docDir, `${slug}.md`), markdown);
  return { id, original, filename: u.filename, bytes: u.bytes.length, type: u.type, kind: u.kind, title };
}
