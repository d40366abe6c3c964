import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { chunkDocument } from '../ingest/chunker.js';
import { loadDocument } from '../ingest/loaders.js';
import { indexText } from '../retrieval/hybridRetriever.js';
import { listKnowledgeFiles, type IndexManifest } from '../retrieval/indexBuilder.js';
import type { IndexedChunk } from '../retrieval/types.js';
import { foldToken, normalizeText, STOPWORDS_FOLDED, tokenize } from '../text/vietnamese.js';
import { badArgument, notFound } from './errors.js';
import {
  formatOf,
  freeName,
  isCreatableId,
  isDocumentId,
  isEditable,
  kindOf,
  resolveDocPath,
  writeFileAtomic,
  type ConsoleFormat,
  type ConsoleKind,
} from './files.js';
import { parseMarkdown, stringMeta, validateMarkdown } from './frontMatter.js';

/** The index version a listing is compared with (the one the service answers from). */
export interface IndexView {
  version: string;
  manifest: IndexManifest;
  /** The version's chunks, when loaded (the service); the CLI's `list` reads only the manifest. */
  chunks?: readonly IndexedChunk[];
}

export interface DocumentInfo {
  id: string;
  kind: ConsoleKind;
  title: string;
  topic?: string;
  updated?: string;
  owner?: string;
  /** Chunks of the document in the current index version (0 when not in it). */
  chunks: number;
  /** When the current index version was built, if the document is in it. */
  indexedAt?: string;
  /** False when the file changed since the current index version, or is not in it. */
  indexed: boolean;
  editable: boolean;
  format: ConsoleFormat;
  /** Why the last index build skipped the file. */
  error?: string;
}

export interface RetiredInfo {
  id: string;
  title: string;
  retiredAt?: string;
}

export interface ChunkView {
  id: string;
  headingPath: string[];
  text: string;
  /** The folded, canonical tokens the lexical leg indexes (stopwords left out). */
  folded: string;
  /** The text the chunk is indexed and embedded under (title, headings, questions, keywords, text). */
  indexText: string;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function flowFiles(knowledgeDir: string): string[] {
  const dir = path.join(knowledgeDir, 'flows');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => `flows/${f}`);
}

/** Front matter of a text file (Markdown, text) or the fields of a flow; {} when it cannot be read. */
function readMeta(file: string, format: ConsoleFormat): Record<string, unknown> {
  try {
    if (format === 'yaml') {
      const v: unknown = parseYaml(fs.readFileSync(file, 'utf8'));
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    }
    if (format === 'md' || format === 'txt') return parseMarkdown(fs.readFileSync(file, 'utf8')).meta;
  } catch {
    // Shown without the fields; the index build reports why the file cannot be read.
  }
  return {};
}

/** One document as the console lists it, compared with the index version `index`. */
export function describeDocument(knowledgeDir: string, id: string, index?: IndexView): DocumentInfo {
  const file = path.join(knowledgeDir, ...id.split('/'));
  const format = formatOf(id);
  const kind = kindOf(id);
  const meta = readMeta(file, format);
  const entry = index?.manifest.documents.find((d) => d.id === id);
  const skipped = index?.manifest.skipped.find((s) => s.file === id);
  let indexed: boolean;
  if (kind === 'flow') {
    indexed = true; // guided flows are not chunked: they are loaded by the service at start
  } else {
    let hash = '';
    try {
      hash = sha256(fs.readFileSync(file));
    } catch {
      // A file that vanished meanwhile is simply not indexed.
    }
    indexed = Boolean(entry && entry.contentHash === hash);
  }
  const topic =
    stringMeta(meta.topic) ?? index?.chunks?.find((c) => c.docId === id && c.topic)?.topic ?? undefined;
  return {
    id,
    kind,
    title: stringMeta(meta.title) ?? entry?.title ?? path.posix.basename(id),
    topic,
    updated: stringMeta(meta.updated) ?? entry?.updated,
    owner: stringMeta(meta.owner) ?? entry?.owner,
    chunks: entry?.chunks ?? 0,
    indexedAt: entry ? index?.manifest.createdAt : undefined,
    indexed,
    editable: isEditable(id),
    format,
    error: skipped?.error,
  };
}

/** Every document (indexed knowledge and guided flows) and every retired one. */
export function listDocuments(
  knowledgeDir: string,
  index?: IndexView,
): { version: string | null; documents: DocumentInfo[]; retired: RetiredInfo[] } {
  const ids = [...listKnowledgeFiles(knowledgeDir), ...flowFiles(knowledgeDir)].sort();
  return {
    version: index?.version ?? null,
    documents: ids.map((id) => describeDocument(knowledgeDir, id, index)),
    retired: listRetired(knowledgeDir),
  };
}

export function listRetired(knowledgeDir: string): RetiredInfo[] {
  const root = path.join(knowledgeDir, 'retired');
  if (!fs.existsSync(root)) return [];
  const out: RetiredInfo[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) walk(abs);
      else if (e.name !== 'README.md') {
        const id = path.relative(knowledgeDir, abs).split(path.sep).join('/');
        const format = formatOf(id);
        out.push({
          id,
          title: stringMeta(readMeta(abs, format).title) ?? path.posix.basename(id),
          // Retiring sets the file's modification time (a move keeps the content untouched).
          retiredAt: fs.statSync(abs).mtime.toISOString(),
        });
      }
    }
  };
  walk(root);
  return out.sort((a, b) => (b.retiredAt ?? '').localeCompare(a.retiredAt ?? ''));
}

/** The folded tokens the lexical leg indexes for a text. */
export function foldedTokens(text: string): string {
  return tokenize(normalizeText(text))
    .map(foldToken)
    .filter((t) => !STOPWORDS_FOLDED.has(t))
    .join(' ');
}

function chunkView(
  c: Pick<IndexedChunk, 'id' | 'title' | 'headingPath' | 'text' | 'questions' | 'keywords'>,
) {
  const it = indexText(c);
  return { id: c.id, headingPath: c.headingPath, text: c.text, folded: foldedTokens(it), indexText: it };
}

/** An existing document id (listed by the console), else 404 (400 for an invalid id). */
export function requireDocument(knowledgeDir: string, rawId: unknown): { id: string; file: string } {
  const { id, file } = resolveDocPath(knowledgeDir, rawId);
  if (!isDocumentId(id) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw notFound(`no document "${id}" in the knowledge folder`);
  }
  return { id, file };
}

/**
 * A document with its chunks exactly as retrieval sees them in the current index version; for a
 * document not in it (new or changed), how the file would be chunked (`chunksFrom: 'file'`).
 */
export async function showDocument(
  knowledgeDir: string,
  rawId: unknown,
  index?: IndexView,
): Promise<{
  document: DocumentInfo;
  chunks: ChunkView[];
  chunksFrom: 'index' | 'file' | 'none';
  content?: string;
}> {
  const { id, file } = requireDocument(knowledgeDir, rawId);
  const document = describeDocument(knowledgeDir, id, index);
  const inIndex = (index?.chunks ?? []).filter((c) => c.docId === id);
  let chunks: ChunkView[] = inIndex.map(chunkView);
  let chunksFrom: 'index' | 'file' | 'none' = 'index';
  if (!inIndex.length) {
    chunksFrom = 'none';
    if (document.kind !== 'flow') {
      try {
        const doc = await loadDocument(knowledgeDir, id);
        const questions =
          doc.kind === 'faq'
            ? [doc.title, ...((doc.meta.questions as string[] | undefined) ?? [])].filter(Boolean)
            : undefined;
        const keywords = Array.isArray(doc.meta.keywords) ? doc.meta.keywords.map(String) : undefined;
        chunks = chunkDocument(doc).map((c) =>
          chunkView({
            id: c.id,
            title: doc.title,
            headingPath: c.headingPath,
            text: c.text,
            questions,
            keywords,
          }),
        );
        chunksFrom = 'file';
      } catch (err) {
        document.error ??= err instanceof Error ? err.message : String(err);
      }
    }
  }
  const content = document.editable || document.kind === 'flow' ? fs.readFileSync(file, 'utf8') : undefined;
  return { document, chunks, chunksFrom, content };
}

/**
 * Saves a Markdown guide, FAQ entry or plan written in the browser (validated first; nothing is
 * written when it is refused). Creates the file when the id is new.
 */
export function saveMarkdown(
  knowledgeDir: string,
  rawId: unknown,
  content: unknown,
): { id: string; created: boolean } {
  const { id, file } = resolveDocPath(knowledgeDir, rawId);
  if (!isEditable(id)) {
    throw badArgument(
      `"${id}" cannot be edited here: only Markdown files under guides/, faq/ or plans/ (flows are read-only)`,
    );
  }
  const exists = fs.existsSync(file);
  if (!exists && !isCreatableId(id)) {
    throw badArgument('a new file name must be lowercase letters, digits and dashes, ending in .md');
  }
  validateMarkdown(content, { faq: kindOf(id) === 'faq' });
  let text = (content as string).replace(/\r\n?/g, '\n').normalize('NFC');
  if (!text.endsWith('\n')) text += '\n';
  writeFileAtomic(file, text);
  return { id, created: !exists };
}

/**
 * Moves a document to `retired/<same path>` (not indexed, kept for the record). Its modification
 * time becomes the retirement time.
 */
export function retireDocument(knowledgeDir: string, rawId: unknown): { id: string; retiredTo: string } {
  const { id, file } = requireDocument(knowledgeDir, rawId);
  if (kindOf(id) === 'flow') {
    throw badArgument(
      'guided flows are read-only in the console; remove them from knowledge/flows/ on the server',
    );
  }
  const dir = path.posix.dirname(id);
  const ext = path.posix.extname(id);
  const targetDir = path.join(knowledgeDir, 'retired', ...dir.split('/'));
  const name = freeName([targetDir], path.posix.basename(id, ext), ext);
  fs.mkdirSync(targetDir, { recursive: true });
  const target = path.join(targetDir, name);
  fs.renameSync(file, target);
  const now = new Date();
  fs.utimesSync(target, now, now);
  return { id, retiredTo: `retired/${dir}/${name}` };
}
