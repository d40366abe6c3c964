import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Document } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { HNSWLib } from '@langchain/community/vectorstores/hnswlib';
import { chunkDocument } from '../ingest/chunker.js';
import { loadDocument, SUPPORTED_EXTENSIONS } from '../ingest/loaders.js';
import { indexText } from './hybridRetriever.js';
import { IndexVersions, VERSION_NAME } from './indexVersions.js';
import { readVectors, type VectorEntry } from './indexLoader.js';
import type { IndexedChunk } from './types.js';

export interface IndexManifest {
  version: string;
  createdAt: string;
  embedder: string;
  dimensions: number;
  documents: {
    id: string;
    kind: string;
    title: string;
    updated?: string;
    owner?: string;
    contentHash: string;
    chunks: number;
  }[];
  chunkCount: number;
  faqQuestionCount: number;
  skipped: { file: string; error: string }[];
  seconds: number;
  reusedVectors: number;
}

export interface BuildOptions {
  knowledgeDir: string;
  dataDir: string;
  embeddings: EmbeddingsInterface;
  /** Identifies the embedding space, e.g. "hashing-v1-2048" or "openai:bge-m3". */
  embedderId: string;
  onProgress?: (done: number, total: number, file: string) => void;
  /** Switch CURRENT to the new version (default true). */
  activate?: boolean;
  /**
   * The new version's name (default: from the time, unused locally). With a shared store it must
   * also be unused among the published versions (`IndexVersions.newVersionName(now, taken)`).
   */
  version?: string;
}

/** Entries in `vectors.json`; the vectors themselves are Float32 rows in `vectors.bin`. */
const SKIP = new Set(['README.md', 'synonyms.yaml']);
/**
 * Top-level folders that are not indexed: guided flows (loaded on their own), the eval questions
 * staff add, retired documents, and the originals (PDF, DOCX, HTML) of uploaded documents.
 */
export const NOT_INDEXED_DIRS: ReadonlySet<string> = new Set(['flows', 'eval', 'retired', 'originals']);

export function listKnowledgeFiles(knowledgeDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      const rel = path.relative(knowledgeDir, abs).split(path.sep).join('/');
      if (e.isDirectory()) {
        if (!NOT_INDEXED_DIRS.has(rel) && !e.name.startsWith('.')) walk(abs);
      } else if (!SKIP.has(rel) && SUPPORTED_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) {
        out.push(rel);
      }
    }
  };
  walk(knowledgeDir);
  return out.sort();
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Reads every knowledge file, chunks it, embeds what changed, and writes a new index version.
 * A file that cannot be parsed is reported and skipped; the build goes on.
 */
export async function buildIndex(options: BuildOptions): Promise<IndexManifest> {
  const started = performance.now();
  const versions = new IndexVersions(options.dataDir);
  const files = listKnowledgeFiles(options.knowledgeDir);
  const chunks: IndexedChunk[] = [];
  const documents: IndexManifest['documents'] = [];
  const skipped: IndexManifest['skipped'] = [];

  for (const [i, file] of files.entries()) {
    options.onProgress?.(i, files.length, file);
    try {
      const doc = await loadDocument(options.knowledgeDir, file);
      const questions = doc.kind === 'faq' ? faqQuestions(doc.title, doc.meta.questions) : undefined;
      const keywords = Array.isArray(doc.meta.keywords) ? doc.meta.keywords.map(String) : undefined;
      const docChunks = chunkDocument(doc).map((c): IndexedChunk => {
        const base = { title: doc.title, headingPath: c.headingPath, text: c.text, questions, keywords };
        return {
          id: c.id,
          docId: doc.id,
          kind: doc.kind,
          ...base,
          topic: doc.topic,
          updated: doc.updated,
          source: typeof doc.meta.source === 'string' ? doc.meta.source : undefined,
          embedHash: sha256(`${options.embedderId}\n${indexText(base)}`),
        };
      });
      chunks.push(...docChunks);
      documents.push({
        id: doc.id,
        kind: doc.kind,
        title: doc.title,
        updated: doc.updated,
        owner: doc.owner,
        contentHash: doc.contentHash,
        chunks: docChunks.length,
      });
    } catch (err) {
      skipped.push({ file, error: err instanceof Error ? err.message : String(err) });
    }
  }
  options.onProgress?.(files.length, files.length, '');

  // Everything to embed: each chunk, and each FAQ question on its own.
  const entries: (VectorEntry & { text: string })[] = [];
  for (const c of chunks) {
    entries.push({ hash: c.embedHash, chunkId: c.id, text: indexText(c) });
    for (const q of c.questions ?? []) {
      entries.push({ hash: sha256(`${options.embedderId}\nq\n${q}`), chunkId: c.id, question: q, text: q });
    }
  }
  const cache = readVectorCache(versions);
  const missing = [...new Set(entries.filter((e) => !cache.has(e.hash)).map((e) => e.hash))];
  const textsByHash = new Map(entries.map((e) => [e.hash, e.text]));
  const fresh = missing.length
    ? await options.embeddings.embedDocuments(missing.map((h) => textsByHash.get(h)!))
    : [];
  missing.forEach((h, i) => cache.set(h, Float32Array.from(fresh[i]!)));
  // From this build's vectors: the cache may also hold an older version's vectors of another embedder.
  const dimensions = entries.length ? cache.get(entries[0]!.hash)!.length : 0;

  const version = options.version ?? versions.newVersionName();
  if (!VERSION_NAME.test(version)) throw new Error(`invalid index version name "${version}"`);
  if (versions.has(version)) throw new Error(`index version ${version} already exists`);
  const dir = versions.dir(version);
  const tmpDir = `${dir}.partial`;
  fs.rmSync(tmpDir, { recursive: true, force: true });
  fs.mkdirSync(tmpDir, { recursive: true });

  if (chunks.length) {
    const store = new HNSWLib(options.embeddings, { space: 'cosine', numDimensions: dimensions });
    await store.addVectors(
      chunks.map((c) => Array.from(cache.get(c.embedHash)!)),
      chunks.map((c) => new Document({ pageContent: c.text, metadata: { chunkId: c.id, docId: c.docId } })),
    );
    await store.save(path.join(tmpDir, 'hnsw'));
  }
  writeVectors(tmpDir, entries, cache, dimensions);
  // The synonym map is part of the version: an edit applies with the next index version.
  const synonymsFile = path.join(options.knowledgeDir, 'synonyms.yaml');
  if (fs.existsSync(synonymsFile)) fs.copyFileSync(synonymsFile, path.join(tmpDir, 'synonyms.yaml'));
  fs.writeFileSync(path.join(tmpDir, 'chunks.json'), JSON.stringify(chunks));
  const manifest: IndexManifest = {
    version,
    createdAt: new Date().toISOString(),
    embedder: options.embedderId,
    dimensions,
    documents,
    chunkCount: chunks.length,
    faqQuestionCount: entries.filter((e) => e.question).length,
    skipped,
    seconds: Math.round(performance.now() - started) / 1000,
    reusedVectors: entries.length - missing.length,
  };
  fs.writeFileSync(path.join(tmpDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  fs.renameSync(tmpDir, dir);
  if (options.activate !== false) {
    versions.switchTo(version);
    versions.prune();
  }
  return manifest;
}

function faqQuestions(title: string, extra: unknown): string[] {
  const list = Array.isArray(extra) ? extra.filter((q): q is string => typeof q === 'string') : [];
  return [...new Set([title, ...list].map((q) => q.normalize('NFC').trim()).filter(Boolean))];
}

function writeVectors(
  dir: string,
  entries: VectorEntry[],
  cache: Map<string, Float32Array>,
  dims: number,
): void {
  const buf = Buffer.alloc(entries.length * dims * 4);
  entries.forEach((e, i) => {
    const v = cache.get(e.hash)!;
    Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(buf, i * dims * 4);
  });
  fs.writeFileSync(path.join(dir, 'vectors.bin'), buf);
  const meta: VectorEntry[] = entries.map(({ hash, chunkId, question }) => ({ hash, chunkId, question }));
  fs.writeFileSync(path.join(dir, 'vectors.json'), JSON.stringify({ dimensions: dims, entries: meta }));
}

/** Vectors of the current version, by content hash, so unchanged chunks are not embedded again. */
function readVectorCache(versions: IndexVersions): Map<string, Float32Array> {
  const cache = new Map<string, Float32Array>();
  const current = versions.current();
  if (!current) return cache;
  try {
    const { entries, vectors } = readVectors(versions.dir(current));
    entries.forEach((e, i) => cache.set(e.hash, vectors[i]!));
  } catch {
    // A damaged previous version only means everything is embedded again.
  }
  return cache;
}
