import fs from 'node:fs';
import path from 'node:path';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import type { HNSWLib } from '@langchain/community/vectorstores/hnswlib';
import { SynonymMap } from '../text/synonyms.js';
import { HybridRetriever } from './hybridRetriever.js';
import type { IndexManifest } from './indexBuilder.js';
import type { IndexedChunk } from './types.js';

/*
 * Reading an index version from DATA_DIR/index/<version>. Kept apart from the builder and from
 * KnowledgeBase so that the retrieval thread loads only this (no ingest loaders, no hnswlib).
 */

export interface VectorEntry {
  hash: string;
  chunkId: string;
  /** Set for FAQ paraphrase vectors. */
  question?: string;
}

/** One loaded, immutable index version. */
export interface KnowledgeIndex {
  version: string;
  /** The version's directory (DATA_DIR/index/<version>). */
  dir: string;
  manifest: IndexManifest;
  retriever: HybridRetriever;
}

/**
 * Loads an index version. `prepare` (default true) builds its search structures now; false leaves
 * that to the first retrieval, for a service whose retrievals a thread answers (threadedRetriever.ts).
 * `vectorStore: false` leaves out the hnswlib graph, which only dense (model) embeddings search:
 * the retrieval thread, which runs only with the offline embedding, does without it.
 */
export async function loadIndexVersion(
  dir: string,
  embeddings: EmbeddingsInterface,
  options: { prepare?: boolean; vectorStore?: boolean } = {},
): Promise<KnowledgeIndex> {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as IndexManifest;
  const chunks = JSON.parse(fs.readFileSync(path.join(dir, 'chunks.json'), 'utf8')) as IndexedChunk[];
  const synonymsFile = path.join(dir, 'synonyms.yaml');
  const synonyms = fs.existsSync(synonymsFile)
    ? SynonymMap.parse(fs.readFileSync(synonymsFile, 'utf8'))
    : SynonymMap.fromGroups([]);
  let vectorStore: HNSWLib | undefined;
  if (options.vectorStore !== false) {
    const { HNSWLib } = await import('@langchain/community/vectorstores/hnswlib');
    vectorStore = chunks.length
      ? await HNSWLib.load(path.join(dir, 'hnsw'), embeddings)
      : new HNSWLib(embeddings, { space: 'cosine', numDimensions: manifest.dimensions || 1 });
    if (chunks.length) vectorStore.index.setEf(100);
  }
  const { entries, vectors } = readVectors(dir);
  const faqQuestions = entries
    .map((e, i) => ({ e, v: vectors[i]! }))
    .filter(({ e }) => e.question)
    // Kept as float32 (off the JS heap), the values they were stored with.
    .map(({ e, v }) => ({ chunkId: e.chunkId, question: e.question!, vector: v }));
  const chunkVector = new Map<string, Float32Array>();
  entries.forEach((e, i) => {
    if (!e.question) chunkVector.set(e.chunkId, vectors[i]!);
  });
  const chunkVectors = chunks.every((c) => chunkVector.has(c.id))
    ? chunks.map((c) => chunkVector.get(c.id)!)
    : undefined;
  const retriever = new HybridRetriever({
    chunks,
    vectorStore,
    embeddings,
    synonyms,
    faqQuestions,
    chunkVectors,
  });
  if (options.prepare !== false) retriever.prepare();
  return { version: manifest.version, dir, manifest, retriever };
}

export function readVectors(dir: string): { entries: VectorEntry[]; vectors: Float32Array[] } {
  const { dimensions, entries } = JSON.parse(fs.readFileSync(path.join(dir, 'vectors.json'), 'utf8')) as {
    dimensions: number;
    entries: VectorEntry[];
  };
  const buf = fs.readFileSync(path.join(dir, 'vectors.bin'));
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const vectors = entries.map((_, i) => all.slice(i * dimensions, (i + 1) * dimensions));
  return { entries, vectors };
}
