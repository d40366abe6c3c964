import fs from 'node:fs';
import path from 'node:path';
import { SUPPORTED_EXTENSIONS } from '../ingest/loaders.js';
import { NOT_INDEXED_DIRS } from '../retrieval/indexBuilder.js';
import { badArgument } from './errors.js';

/** Document kinds as staff see them; the folder decides (plans → plan, guides → guide…). */
export type ConsoleKind = 'plan' | 'guide' | 'faq' | 'flow' | 'other';
export type ConsoleFormat = 'md' | 'txt' | 'html' | 'pdf' | 'docx' | 'yaml';

const KIND_OF_FOLDER: Readonly<Record<string, ConsoleKind>> = {
  plans: 'plan',
  guides: 'guide',
  faq: 'faq',
  flows: 'flow',
};
export const FOLDER_OF_KIND = { plan: 'plans', guide: 'guides', faq: 'faq' } as const;
export type UploadKind = keyof typeof FOLDER_OF_KIND;

export function kindOf(id: string): ConsoleKind {
  return KIND_OF_FOLDER[id.split('/')[0] ?? ''] ?? 'other';
}

export function formatOf(id: string): ConsoleFormat {
  const ext = path.posix.extname(id).toLowerCase();
  if (ext === '.md' || ext === '.markdown') return 'md';
  if (ext === '.htm' || ext === '.html') return 'html';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return ext.slice(1) as ConsoleFormat;
}

/** Markdown guides, FAQ entries and plans may be edited in the browser; flows are read-only. */
export function isEditable(id: string): boolean {
  return /^(guides|faq|plans)\/[^/]+\.md$/.test(id);
}

/** A new file made in the console: a lowercase ASCII slug, so ids stay URL- and shell-friendly. */
export function isCreatableId(id: string): boolean {
  return /^(guides|faq|plans)\/[a-z0-9][a-z0-9._-]{0,100}\.md$/.test(id);
}

/**
 * Validates a document id (a POSIX path relative to the knowledge folder) and returns the absolute
 * path. Absolute paths, backslashes, "." and ".." segments are refused with 400.
 */
export function resolveDocPath(knowledgeDir: string, id: unknown): { id: string; file: string } {
  if (typeof id !== 'string' || !id.trim()) throw badArgument('id is required (e.g. guides/ten-tai-lieu.md)');
  const clean = id.trim().normalize('NFC');
  const segments = clean.split('/');
  if (
    clean.length > 300 ||
    path.isAbsolute(clean) ||
    clean.includes('\\') ||
    clean.includes('\0') ||
    segments.some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw badArgument(`invalid document id "${id}": use a path inside the knowledge folder`);
  }
  const file = path.join(knowledgeDir, ...segments);
  const rel = path.relative(knowledgeDir, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw badArgument(`invalid document id "${id}"`);
  return { id: clean, file };
}

/** True for an id of a document the console lists (indexed knowledge or a guided flow). */
export function isDocumentId(id: string): boolean {
  const top = id.split('/')[0] ?? '';
  if (top === 'flows') return /^flows\/[^/]+\.ya?ml$/.test(id);
  if (!id.includes('/') && (id === 'README.md' || id === 'synonyms.yaml')) return false;
  if (NOT_INDEXED_DIRS.has(top)) return false;
  return SUPPORTED_EXTENSIONS.includes(path.posix.extname(id).toLowerCase());
}

/** Writes a file atomically: a temporary file in the same folder, then a rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** `<dir>/<base><ext>`, or `<base>-2<ext>`, `-3`… when taken (checked in every folder given). */
export function freeName(dirs: readonly string[], base: string, ext: string): string {
  const taken = (name: string) => dirs.some((d) => fs.existsSync(path.join(d, name)));
  let name = `${base}${ext}`;
  for (let i = 2; taken(name); i++) name = `${base}-${i}${ext}`;
  return name;
}

export function today(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}
