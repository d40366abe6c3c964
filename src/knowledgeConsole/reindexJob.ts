import type { Logger } from '../logger.js';
import type { IndexManifest } from '../retrieval/indexBuilder.js';
import type { KnowledgeBase } from '../retrieval/knowledgeIndex.js';

/** A change that asked for a re-index (an upload, an edit, a promoted FAQ entry…). */
export interface ReindexChange {
  action: string;
  target?: string;
  actorId?: string;
  actorName?: string;
}

export interface ReindexJobState {
  /** `queued`: requested, starts in a moment; `running`: building (more may be pending). */
  state: 'idle' | 'running' | 'queued';
  lastVersion?: string;
  lastError?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Changes waiting for the next build (requested while one runs). */
  pending: number;
}

export interface IndexedEvent {
  version: string;
  previous?: string;
  changes: ReindexChange[];
  manifest: IndexManifest;
}

interface Waiter {
  change: ReindexChange;
  resolve: (version: string | null) => void;
}

/**
 * The one background re-index queue of the service (console changes and promoted FAQ entries):
 * one build at a time; requests made while a build runs are coalesced into the next build. Each
 * build is `KnowledgeBase.rebuild`, which writes a new index version, switches CURRENT atomically
 * and loads it.
 */
export class ReindexJob {
  private waiting: Waiter[] = [];
  private running = false;
  private scheduled = false;
  private last: Omit<ReindexJobState, 'state' | 'pending'> = {};
  private readonly listeners = new Set<(e: IndexedEvent) => void>();
  private readonly failureListeners = new Set<(error: string, changes: ReindexChange[]) => void>();
  private drained: Promise<void> = Promise.resolve();
  private drain: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly o: {
      knowledge: Pick<KnowledgeBase, 'rebuild' | 'current'>;
      logger: Logger;
    },
  ) {}

  /** Queues a build that includes `change`; resolves with its version, or null when it failed. */
  request(change: ReindexChange = { action: 'reindex' }): Promise<string | null> {
    if (this.stopped) return Promise.resolve(null);
    const done = new Promise<string | null>((resolve) => this.waiting.push({ change, resolve }));
    if (!this.drain) this.drained = new Promise((r) => (this.drain = r));
    this.schedule();
    return done;
  }

  snapshot(): ReindexJobState {
    const state = this.running ? 'running' : this.waiting.length ? 'queued' : 'idle';
    return { state, ...this.last, pending: this.waiting.length };
  }

  /** Called after each successful build, once the new version is current and loaded. */
  onIndexed(listener: (e: IndexedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onFailed(listener: (error: string, changes: ReindexChange[]) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /** Resolves when no build is queued or running. */
  idle(): Promise<void> {
    return this.drained;
  }

  /** Takes no new requests; a build in progress finishes. */
  stop(): void {
    this.stopped = true;
    for (const w of this.waiting.splice(0)) w.resolve(null);
    if (!this.running) {
      this.drain?.();
      this.drain = undefined;
    }
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // A moment later, so changes made together (and the HTTP answer) come first.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running) return;
    const batch = this.waiting.splice(0);
    if (!batch.length) {
      this.drain?.();
      this.drain = undefined;
      return;
    }
    this.running = true;
    this.last = { ...this.last, startedAt: new Date().toISOString(), finishedAt: undefined };
    const previous = this.o.knowledge.current?.version;
    const changes = batch.map((w) => w.change);
    let version: string | null = null;
    try {
      const manifest = await this.o.knowledge.rebuild();
      version = manifest.version;
      this.last = { ...this.last, lastVersion: version, lastError: undefined };
      for (const l of this.listeners) {
        try {
          l({ version, previous, changes, manifest });
        } catch (err) {
          this.o.logger.error({ err }, 'knowledge console: index listener failed');
        }
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.last = { ...this.last, lastError: message };
      this.o.logger.error({ err, changes }, 'knowledge re-index failed');
      for (const l of this.failureListeners) {
        try {
          l(message, changes);
        } catch {
          // A failing listener must not stop the queue.
        }
      }
    } finally {
      this.running = false;
      this.last = { ...this.last, finishedAt: new Date().toISOString() };
      for (const w of batch) w.resolve(version);
    }
    if (this.waiting.length) this.schedule();
    else {
      this.drain?.();
      this.drain = undefined;
    }
  }
}
