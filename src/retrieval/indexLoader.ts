import fs from 'node:fs';
import path from 'node:path';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import type { HNSWLib } from '@langchain/community/vectorstores/hnswlib';
import { SynonymMap } from '../text/synonyms.js';
import { hasSparseEmbedding, HybridRetriever } from './hybridRetriever.js';
import type { IndexManifest } from './indexBuilder.js';
import type { IndexedChunk } from './types.js';

/*
 * Reading an index version from DATA_DIR/index/<version>. Kept apart from the builder and from
 * KnowledgeBase so that the retrieval thread loads only this (no ingest loaders, and no hnswlib with
 * the offline embedding).
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

/** The files of an index version's hnswlib graph (`HNSWLib.save`). */
const HNSW_FILES = ['hnswlib.index', 'args.json', 'docstore.json'];

/**
 * Loads an index version. `prepare` (default true) builds its search structures now; false leaves
 * that, and reading the vectors, to the first retrieval, for a service whose retrievals a thread
 * answers (threadedRetriever.ts).
 * The hnswlib graph is opened now for dense (model) embeddings, which search it. With a sparse
 * embedding (the offline one) retrieval searches the vectors exactly and the graph is only opened if
 * that ever falls through (see `HybridRetriever.vectorLeg`): its index and the hnswlib module stay
 * out of memory.
 */
export async function loadIndexVersion(
  dir: string,
  embeddings: EmbeddingsInterface,
  options: { prepare?: boolean } = {},
): Promise<KnowledgeIndex> {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as IndexManifest;
  const chunks = JSON.parse(fs.readFileSync(path.join(dir, 'chunks.json'), 'utf8')) as IndexedChunk[];
  const synonymsFile = path.join(dir, 'synonyms.yaml');
  const synonyms = fs.existsSync(synonymsFile)
    ? SynonymMap.parse(fs.readFileSync(synonymsFile, 'utf8'))
    : SynonymMap.fromGroups([]);
  const openVectorStore = async (): Promise<HNSWLib> => {
    const { HNSWLib } = await import('@langchain/community/vectorstores/hnswlib');
    if (!chunks.length)
      return new HNSWLib(embeddings, { space: 'cosine', numDimensions: manifest.dimensions || 1 });
    const store = await HNSWLib.load(path.join(dir, 'hnsw'), embeddings);
    store.index.setEf(100);
    return store;
  };
  let vectorStore: HNSWLib | undefined;
  if (!hasSparseEmbedding(embeddings)) vectorStore = await openVectorStore();
  else if (chunks.length) {
    // Unopened, the graph must still be there: a version is loaded whole or not at all.
    const missing = HNSW_FILES.filter((f) => !fs.existsSync(path.join(dir, 'hnsw', f)));
    if (missing.length) throw new Error(`index ${manifest.version} lacks hnsw/${missing.join(', hnsw/')}`);
  }
  // The vectors are read when the search structures are built (see HybridRetrieverParts.vectors);
  // their file is checked whole now.
  const { entries, dimensions } = readVectorEntries(dir);
  const faqQuestions = entries.flatMap((e) =>
    e.question ? [{ chunkId: e.chunkId, question: e.question }] : [],
  );
  const vectors = () => {
    // Dropped once the structures hold the values.
    const all = readVectorValues(dir, entries.length, dimensions);
    const faq: Float32Array[] = [];
    const byChunk = new Map<string, Float32Array>();
    entries.forEach((e, i) => {
      if (e.question) faq.push(all[i]!);
      else byChunk.set(e.chunkId, all[i]!);
    });
    const chunkVectors = chunks.every((c) => byChunk.has(c.id))
      ? chunks.map((c) => byChunk.get(c.id)!)
      : undefined;
    return { faq, chunks: chunkVectors };
  };
  const retriever = new HybridRetriever({
    chunks,
    vectorStore: vectorStore ?? openVectorStore,
    embeddings,
    synonyms,
    faqQuestions,
    vectors,
  });
  if (options.prepare !== false) retriever.prepare();
  return { version: manifest.version, dir, manifest, retriever };
}

export function readVectors(dir: string): { entries: VectorEntry[]; vectors: Float32Array[] } {
  const { entries, dimensions } = readVectorEntries(dir);
  return { entries, vectors: readVectorValues(dir, entries.length, dimensions) };
}

/** vectors.json, after checking that vectors.bin holds exactly its vectors. */
function readVectorEntries(dir: string): { entries: VectorEntry[]; dimensions: number } {
  const { dimensions, entries } = JSON.parse(fs.readFileSync(path.join(dir, 'vectors.json'), 'utf8')) as {
    dimensions: number;
    entries: VectorEntry[];
  };
  checkVectorBytes(fs.statSync(path.join(dir, 'vectors.bin')).size, entries.length, dimensions);
  return { entries, dimensions };
}

/** The vectors of vectors.bin (float32, off the JS heap), as views into the file's one buffer. */
function readVectorValues(dir: string, count: number, dimensions: number): Float32Array[] {
  const buf = fs.readFileSync(path.join(dir, 'vectors.bin'));
  checkVectorBytes(buf.byteLength, count, dimensions);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return Array.from({ length: count }, (_, i) => all.subarray(i * dimensions, (i + 1) * dimensions));
}

function checkVectorBytes(bytes: number, count: number, dimensions: number): void {
  if (bytes !== count * dimensions * 4)
    throw new Error(`vectors.bin has ${bytes} bytes, not ${count} vectors of ${dimensions} float32`);
}
