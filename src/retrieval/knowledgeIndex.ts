import fs from 'node:fs';
import path from 'node:path';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import type { Logger } from '../logger.js';
import { buildIndex, type IndexManifest } from './indexBuilder.js';
import { loadIndexVersion, type KnowledgeIndex } from './indexLoader.js';
import { IndexArchiveError } from './indexArchive.js';
import type { IndexPublisher } from './indexPublisher.js';
import { IndexVersions, versionsToKeep } from './indexVersions.js';
import type { IndexedChunk, RetrievalResult, Retriever } from './types.js';

export { loadIndexVersion, type KnowledgeIndex } from './indexLoader.js';

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
  /**
   * Publication of index versions to the other replicas (PostgreSQL, `createIndexPublisher`). With
   * it, builds are serialized cluster-wide, every new version (a build, a rollback) is published,
   * and `watch()` follows the versions other replicas publish. Without it (one machine, scripts,
   * tests) the local `DATA_DIR/index` is the publication.
   */
  publisher?: IndexPublisher;
  /** How often `watch()` polls the published pointer besides notifications (default 5000 ms). */
  followIntervalMs?: number;
  /** How long a published version that could not be downloaded or loaded is left alone (default 30 s). */
  retryDelayMs?: number;
  /**
   * False when another thread answers the retrievals (threadedRetriever.ts): a loaded version then
   * builds its search structures only if asked to retrieve here. Default true.
   */
  prepareSearch?: boolean;
}

/**
 * The knowledge base a running service answers from: loads the current index version (building
 * one on first start), falls back to an older version when the current one is damaged, and picks
 * up a new version published by `npm run ingest` or the console without a restart.
 *
 * With a publisher (several replicas sharing PostgreSQL), the published pointer is the truth: a
 * replica starts from the cluster's current version (downloading it into DATA_DIR/index when it is
 * not there), only one replica at a time builds (`kb-index-build` lock), and every replica follows
 * the pointer. Loads, builds and switches of one KnowledgeBase run one at a time.
 */
export class KnowledgeBase implements Retriever {
  private index: KnowledgeIndex | undefined;
  private failure: string | undefined;
  private readonly versions: IndexVersions;
  private watching = false;
  private reloading: Promise<void> | undefined;
  /** The tail of the queue of loads, builds and switches (one at a time). */
  private queue: Promise<unknown> = Promise.resolve();
  private followTimer: NodeJS.Timeout | undefined;
  private unlisten: Promise<(() => Promise<void>) | undefined> | undefined;
  private unlistened: Promise<void> = Promise.resolve();
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private followFailing = false;
  /** Published versions that could not be downloaded or loaded, with when to try again (epoch ms). */
  private readonly retryAt = new Map<string, number>();
  private readonly warned = new Set<string>();

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

  /**
   * Loads the current version; builds one when there is none or it was built with another embedder.
   * With a publisher: the cluster's current version first; else, under the build lock, a version
   * another replica published meanwhile, this replica's own, or a new build — published.
   */
  start(): Promise<void> {
    const p = this.options.publisher;
    return this.exclusive(async () => {
      if (p) await this.startFromCluster(p);
      else await this.startLocal(true);
    });
  }

  /** Builds a new version from the knowledge directory, switches to it and (with a publisher) publishes it. */
  rebuild(): Promise<IndexManifest> {
    const p = this.options.publisher;
    return this.exclusive(() => (p ? p.withBuildLock(() => this.buildAndPublish(p)) : this.build()));
  }

  /**
   * Reloads when CURRENT names another version (e.g. after a rollback); returns true when the index
   * changed. With a publisher the version it switched to is published to every replica.
   */
  refresh(): Promise<boolean> {
    return this.exclusive(() => this.refreshLocal(false));
  }

  /**
   * Follows what other processes publish, without restart: polls CURRENT (`npm run ingest`, `npm
   * run kb` on this machine) and, with a publisher, the cluster's pointer (notifications on
   * `kb_index`, a poll every `followIntervalMs`, and after a reconnection).
   */
  watch(intervalMs = 2000): void {
    if (this.watching) return;
    this.watching = true;
    fs.mkdirSync(this.versions.root, { recursive: true });
    fs.watchFile(
      path.join(this.versions.root, 'CURRENT'),
      { interval: intervalMs, persistent: false },
      () => {
        // Conditional publication: a CURRENT changed here never overrides a newer cluster version.
        this.reloading ??= this.exclusive(() => this.refreshLocal(true))
          .then((changed) => {
            if (changed)
              this.options.logger.info({ version: this.index?.version }, 'knowledge index reloaded');
          })
          .catch((err: unknown) => this.options.logger.error({ err }, 'knowledge index reload failed'))
          .finally(() => (this.reloading = undefined));
      },
    );
    const p = this.options.publisher;
    if (p) {
      const kick = () => this.scheduleSync(p);
      this.unlisten = p.follow(kick).catch((err: unknown) => {
        this.options.logger.warn({ err }, 'cannot listen for new index versions; polling only');
        return undefined;
      });
      this.followTimer = setInterval(kick, this.options.followIntervalMs ?? 5000);
      this.followTimer.unref();
      kick(); // also fetches the older published versions, so a rollback works on every replica
    }
  }

  stop(): void {
    if (this.watching) fs.unwatchFile(path.join(this.versions.root, 'CURRENT'));
    this.watching = false;
    clearInterval(this.followTimer);
    this.followTimer = undefined;
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    this.unlistened = (unlisten ?? Promise.resolve(undefined)).then((u) => u?.()).catch(() => undefined);
  }

  /** Resolves when what `stop()` began is done (the notification listener removed). */
  stopped(): Promise<void> {
    return this.unlistened;
  }

  /**
   * With a publisher: makes this replica follow the cluster now (the current version and the other
   * published versions kept for rollback). Without one, nothing.
   */
  syncFromCluster(): Promise<void> {
    const p = this.options.publisher;
    return p ? this.exclusive(() => this.sync(p)) : Promise.resolve();
  }

  nextChunk(chunkId: string): IndexedChunk | undefined {
    return this.index?.retriever.nextChunk(chunkId);
  }

  async retrieve(query: string, options?: { k?: number }): Promise<RetrievalResult> {
    if (!this.index) throw new Error('knowledge index not loaded');
    return this.index.retriever.retrieve(query, options);
  }

  /** Runs fn after every load, build and switch queued before it. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The local start: CURRENT, else an older version of the same embedder, else (if `build`) a build. */
  private async startLocal(build: boolean): Promise<boolean> {
    const { logger } = this.options;
    const current = this.versions.current();
    if (current) {
      const manifest = this.readManifest(current);
      if (manifest?.embedder === this.options.embedderId && (await this.tryLoad(current))) return true;
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
        return true;
      }
    }
    if (!build) return false;
    await this.build();
    return true;
  }

  private async startFromCluster(p: IndexPublisher): Promise<void> {
    const { logger } = this.options;
    const pointer = await p.pointer();
    if (pointer && (await this.applyPublished(p, pointer.version))) return;
    // No usable published version: one replica at a time decides (the others wait, then download).
    await p.withBuildLock(async () => {
      const again = await p.pointer();
      if (again && again.version !== pointer?.version && (await this.applyPublished(p, again.version))) {
        return;
      }
      if (await this.startLocal(false)) {
        logger.info(
          { version: this.index?.version, replaced: again?.version ?? null },
          'no usable published knowledge index; publishing this replica’s version',
        );
        await p.publish(this.versions.dir(this.index!.version), this.index!.manifest);
        return;
      }
      await this.buildAndPublish(p);
    });
  }

  /** Builds, loads and switches to a new version (no publication). */
  private async build(version?: string): Promise<IndexManifest> {
    const { logger } = this.options;
    logger.info({ knowledgeDir: this.options.knowledgeDir }, 'building the knowledge index');
    const manifest = await buildIndex({ ...this.options, version });
    for (const s of manifest.skipped) logger.warn({ file: s.file, error: s.error }, 'knowledge file skipped');
    logger.info(
      { version: manifest.version, chunks: manifest.chunkCount, seconds: manifest.seconds },
      'knowledge index built',
    );
    if (!(await this.tryLoad(manifest.version))) throw new Error(this.failure);
    return manifest;
  }

  /** Under the build lock: a build named apart from every published version, then published. */
  private async buildAndPublish(p: IndexPublisher): Promise<IndexManifest> {
    const taken = new Set((await p.versions()).map((v) => v.version));
    const manifest = await this.build(this.versions.newVersionName(new Date(), taken));
    await p.publish(this.versions.dir(manifest.version), manifest);
    return manifest;
  }

  /**
   * Loads the version CURRENT names when it is not the loaded one. With a publisher it is published;
   * `conditional`: only if the cluster is still on the version loaded before (else the cluster wins).
   */
  private async refreshLocal(conditional: boolean): Promise<boolean> {
    const v = this.versions.current();
    if (!v || v === this.index?.version) return false;
    const before = this.index?.version ?? null;
    if (!(await this.tryLoad(v))) return false;
    const p = this.options.publisher;
    if (p) {
      const index = this.index!;
      const moved = await p.publish(this.versions.dir(v), index.manifest, {
        expected: conditional ? before : undefined,
      });
      if (!moved) {
        this.options.logger.warn(
          { version: v },
          'the cluster moved to another index version meanwhile; following it instead',
        );
        await this.sync(p);
      }
    }
    return true;
  }

  private scheduleSync(p: IndexPublisher): void {
    if (!this.watching) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = this.exclusive(() => (this.watching ? this.sync(p) : Promise.resolve()))
      .then(() => {
        if (this.followFailing) this.options.logger.info('following the published knowledge index again');
        this.followFailing = false;
      })
      .catch((err: unknown) => {
        if (!this.watching) return;
        // Once per outage at warn (the store down: the poll fails every few seconds), then debug.
        const level = this.followFailing ? 'debug' : 'warn';
        this.followFailing = true;
        this.options.logger[level]({ err }, 'following the published knowledge index failed; will retry');
      })
      .finally(() => {
        this.syncing = undefined;
        if (this.syncAgain) {
          this.syncAgain = false;
          this.scheduleSync(p);
        }
      });
  }

  /** Switches to the cluster's current version if needed, then fetches the other kept versions. */
  private async sync(p: IndexPublisher): Promise<void> {
    const pointer = await p.pointer();
    if (pointer && pointer.version !== this.index?.version) {
      const from = this.index?.version;
      if (await this.applyPublished(p, pointer.version)) {
        this.options.logger.info(
          { version: pointer.version, from, by: pointer.updatedBy },
          'knowledge index version published by another replica loaded',
        );
      }
    }
    await this.mirror(p, pointer?.version);
  }

  /**
   * Downloads (if needed), switches CURRENT to and loads a published version. False, keeping what is
   * loaded, when it cannot be used: another embedder, a damaged archive, a version that does not
   * load (tried again after `retryDelayMs`). Errors of the store itself are thrown.
   */
  private async applyPublished(p: IndexPublisher, version: string): Promise<boolean> {
    const { logger } = this.options;
    if (this.index?.version === version) return true;
    if ((this.retryAt.get(version) ?? 0) > Date.now()) return false;
    const published = await p.version(version);
    if (!published) return false;
    if (published.embedder !== this.options.embedderId) {
      if (!this.warned.has(version)) {
        this.warned.add(version);
        logger.warn(
          { version, built: published.embedder, configured: this.options.embedderId },
          'the published knowledge index was built with another embedder; not used here (all replicas need the same embedding settings)',
        );
      }
      return false;
    }
    let downloaded = false;
    if (!this.isLocalCopy(version, published.createdAt)) {
      try {
        if (!(await p.download(version, this.versions.root))) return false;
      } catch (err) {
        if (!(err instanceof IndexArchiveError)) throw err;
        logger.error({ err, version }, 'published knowledge index is damaged; keeping the loaded version');
        this.retryLater(version);
        return false;
      }
      downloaded = true;
    }
    const previous = this.versions.current();
    this.versions.switchTo(version);
    if (await this.tryLoad(version)) {
      this.retryAt.delete(version);
      this.versions.prune();
      return true;
    }
    // Keep answering from what is loaded; CURRENT goes back to it.
    if (previous && previous !== version) this.versions.switchTo(previous);
    if (downloaded) fs.rmSync(this.versions.dir(version), { recursive: true, force: true });
    this.retryLater(version);
    return false;
  }

  /**
   * Downloads the published versions kept for rollback that this replica lacks (same embedder),
   * so the console lists and rolls back to the same versions on every replica.
   */
  private async mirror(p: IndexPublisher, current: string | undefined): Promise<void> {
    const published = await p.versions();
    const kept = versionsToKeep(
      [...published.map((v) => v.version), ...this.versions.list()],
      current ?? this.versions.current(),
    );
    for (const v of published) {
      if (!kept.has(v.version) || v.embedder !== this.options.embedderId) continue;
      if (v.version === this.index?.version || this.isLocalCopy(v.version, v.createdAt)) continue;
      if ((this.retryAt.get(v.version) ?? 0) > Date.now()) continue;
      try {
        await p.download(v.version, this.versions.root);
      } catch (err) {
        if (!(err instanceof IndexArchiveError)) throw err;
        this.options.logger.error({ err, version: v.version }, 'published knowledge index is damaged');
        this.retryLater(v.version);
      }
    }
  }

  private retryLater(version: string): void {
    this.retryAt.set(version, Date.now() + (this.options.retryDelayMs ?? 30_000));
  }

  /** True when DATA_DIR/index holds this very build of `version` (same creation time). */
  private isLocalCopy(version: string, createdAt: string): boolean {
    return this.versions.has(version) && this.readManifest(version)?.createdAt === createdAt;
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
      this.index = await loadIndexVersion(this.versions.dir(version), this.options.embeddings, {
        prepare: this.options.prepareSearch,
      });
      this.failure = undefined;
      return true;
    } catch (err) {
      this.failure = `index ${version} could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
      this.options.logger.error({ err, version }, 'knowledge index load failed');
      return false;
    }
  }
}
