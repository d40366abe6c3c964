import fs from 'node:fs';
import path from 'node:path';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { HNSWLib } from '@langchain/community/vectorstores/hnswlib';
import { SynonymMap } from '../text/synonyms.js';
import type { Logger } from '../logger.js';
import { HybridRetriever } from './hybridRetriever.js';
import { buildIndex, readVectors, type IndexManifest } from './indexBuilder.js';
import { IndexVersions } from './indexVersions.js';
import type { IndexedChunk, RetrievalResult, Retriever } from './types.js';

/** One loaded, immutable index version. */
export interface KnowledgeIndex {
  version: string;
  manifest: IndexManifest;
  retriever: HybridRetriever;
}

export async function loadIndexVersion(
  dir: string,
  embeddings: EmbeddingsInterface,
): Promise<KnowledgeIndex> {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as IndexManifest;
  const chunks = JSON.parse(fs.readFileSync(path.join(dir, 'chunks.json'), 'utf8')) as IndexedChunk[];
  const synonymsFile = path.join(dir, 'synonyms.yaml');
  const synonyms = fs.existsSync(synonymsFile)
    ? SynonymMap.parse(fs.readFileSync(synonymsFile, 'utf8'))
    : SynonymMap.fromGroups([]);
  const vectorStore = chunks.length
    ? await HNSWLib.load(path.join(dir, 'hnsw'), embeddings)
    : new HNSWLib(embeddings, { space: 'cosine', numDimensions: manifest.dimensions || 1 });
  if (chunks.length) vectorStore.index.setEf(100);
  const { entries, vectors } = readVectors(dir);
  const faqQuestions = entries
    .map((e, i) => ({ e, v: vectors[i]! }))
    .filter(({ e }) => e.question)
    .map(({ e, v }) => ({ chunkId: e.chunkId, question: e.question!, vector: Array.from(v) }));
  const retriever = new HybridRetriever({ chunks, vectorStore, embeddings, synonyms, faqQuestions });
  return { version: manifest.version, manifest, retriever };
}

export interface IndexStatus {
  ready: boolean;
  version?: string;
  reason?: string;
}

export interface KnowledgeBaseOptions {
  knowledgeDir: string;
  dataDir: string;
  embeddings: EmbeddingsInterface;
  embedderId: string;
  logger: Logger;
}

/**
 * The knowledge base a running service answers from: loads the current index version (building
 * one on first start), falls back to an older version when the current one is damaged, and picks
 * up a new version published by `npm run ingest` or the console without a restart.
 */
export class KnowledgeBase implements Retriever {
  private index: KnowledgeIndex | undefined;
  private failure: string | undefined;
  private readonly versions: IndexVersions;
  private watching = false;
  private reloading: Promise<void> | undefined;

  constructor(private readonly options: KnowledgeBaseOptions) {
    this.versions = new IndexVersions(options.dataDir);
  }

  get current(): KnowledgeIndex | undefined {
    return this.index;
  }

  status(): IndexStatus {
    if (this.index) return { ready: true, version: this.index.version };
    return { ready: false, reason: this.failure ?? 'knowledge index not loaded yet' };
  }

  /** Loads the current version; builds one when there is none or it was built with another embedder. */
  async start(): Promise<void> {
    const { logger } = this.options;
    const current = this.versions.current();
    if (current) {
      const manifest = this.readManifest(current);
      if (manifest?.embedder === this.options.embedderId && (await this.tryLoad(current))) return;
      if (manifest && manifest.embedder !== this.options.embedderId) {
        logger.info(
          { built: manifest.embedder, configured: this.options.embedderId },
          'embedder changed; rebuilding the knowledge index',
        );
      }
    }
    // Damaged or missing: try older versions made with the same embedder, then rebuild.
    for (const v of this.versions.list()) {
      if (v === current || this.readManifest(v)?.embedder !== this.options.embedderId) continue;
      if (await this.tryLoad(v)) {
        logger.warn({ version: v, damaged: current }, 'current index unusable; using the previous version');
        this.versions.switchTo(v);
        return;
      }
    }
    await this.rebuild();
  }

  async rebuild(): Promise<IndexManifest> {
    const { logger } = this.options;
    logger.info({ knowledgeDir: this.options.knowledgeDir }, 'building the knowledge index');
    const manifest = await buildIndex({ ...this.options });
    for (const s of manifest.skipped) logger.warn({ file: s.file, error: s.error }, 'knowledge file skipped');
    logger.info(
      { version: manifest.version, chunks: manifest.chunkCount, seconds: manifest.seconds },
      'knowledge index built',
    );
    if (!(await this.tryLoad(manifest.version))) throw new Error(this.failure);
    return manifest;
  }

  /** Reloads when CURRENT names another version; returns true when the index changed. */
  async refresh(): Promise<boolean> {
    const v = this.versions.current();
    if (!v || v === this.index?.version) return false;
    return this.tryLoad(v);
  }

  /** Polls CURRENT so a version published by another process is picked up without restart. */
  watch(intervalMs = 2000): void {
    if (this.watching) return;
    this.watching = true;
    fs.mkdirSync(this.versions.root, { recursive: true });
    fs.watchFile(
      path.join(this.versions.root, 'CURRENT'),
      { interval: intervalMs, persistent: false },
      () => {
        this.reloading ??= this.refresh()
          .then((changed) => {
            if (changed)
              this.options.logger.info({ version: this.index?.version }, 'knowledge index reloaded');
          })
          .catch((err: unknown) => this.options.logger.error({ err }, 'knowledge index reload failed'))
          .finally(() => (this.reloading = undefined));
      },
    );
  }

  stop(): void {
    if (this.watching) fs.unwatchFile(path.join(this.versions.root, 'CURRENT'));
    this.watching = false;
  }

  nextChunk(chunkId: string): IndexedChunk | undefined {
    return this.index?.retriever.nextChunk(chunkId);
  }

  async retrieve(query: string, options?: { k?: number }): Promise<RetrievalResult> {
    if (!this.index) throw new Error('knowledge index not loaded');
    return this.index.retriever.retrieve(query, options);
  }

  private readManifest(version: string): IndexManifest | undefined {
    try {
      return JSON.parse(
        fs.readFileSync(path.join(this.versions.dir(version), 'manifest.json'), 'utf8'),
      ) as IndexManifest;
    } catch {
      return undefined;
    }
  }

  private async tryLoad(version: string): Promise<boolean> {
    try {
      this.index = await loadIndexVersion(this.versions.dir(version), this.options.embeddings);
      this.failure = undefined;
      return true;
    } catch (err) {
      this.failure = `index ${version} could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
      this.options.logger.error({ version, err }, 'knowledge index load failed');
      return false;
    }
  }
}
