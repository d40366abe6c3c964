import type { Worker, WorkerOptions } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import { startWorkerThread } from '../workerThread.js';
import type { KnowledgeIndex } from './knowledgeIndex.js';
import type { ThreadReply, ThreadRequest, ThreadSettings } from './threadProtocol.js';
import type { RetrievalResult, Retriever } from './types.js';

export interface ThreadedRetrieverOptions {
  /** The service's knowledge base: the thread follows its loaded version, and it answers when the thread cannot. */
  knowledge: { readonly current: KnowledgeIndex | undefined } & Retriever;
  /** The offline embedding's vector size (the thread embeds queries as the service does). */
  dimensions: number;
  logger: Logger;
  /** A request the thread has not answered within this is answered here, and the thread restarted (default 2000 ms). */
  timeoutMs?: number;
  /** How long questions wait for the thread to load a version before it is given up (default 10000 ms). */
  loadWaitMs?: number;
  /** After the thread failed, how long until a new one is started (default 5000 ms). */
  restartDelayMs?: number;
}

interface Pending {
  resolve: (result: Extract<ThreadReply, { type: 'retrieved' }>['result']) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Retrieval on a second thread. With the offline embedding, retrieving is a quarter to a third of
 * the CPU of a chat turn, all of it synchronous; here it runs on a worker thread with its own copy of the loaded
 * index version, so the event loop that serves HTTP, dialogs and the store spends that time on
 * other turns, and a 2-core machine uses its second core.
 *
 * The service's index then builds no search structures of its own (`prepareSearch: false`), so the
 * index is held once. Questions wait while the thread loads a version (at start, after a re-index).
 * The thread is still never the only path: after it failed (until it is restarted), when it does
 * not answer in time or is too slow to load, the question is answered here from the service's own
 * index (which then builds its structures), with the same result: the thread loads the same files.
 */
export class ThreadedRetriever implements Retriever {
  private worker: Worker | undefined;
  /** The version the thread has loaded, and the one it was last asked to load. */
  private loaded: string | undefined;
  private requested: string | undefined;
  /** Settles when the thread has loaded `requested` (true) or failed (false). */
  private loading: Promise<boolean> | undefined;
  private settleLoading: ((loaded: boolean) => void) | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** No thread is started before this time (epoch ms), after a failure. */
  private startAfter = 0;
  private stopped = false;
  /** How many retrievals the thread answered, and how many were answered here instead. */
  readonly answered = { thread: 0, here: 0 };

  constructor(private readonly o: ThreadedRetrieverOptions) {}

  async retrieve(query: string, options: { k?: number } = {}): Promise<RetrievalResult> {
    const index = this.o.knowledge.current;
    if (!index) return this.o.knowledge.retrieve(query, options);
    // A version the thread is loading is waited for: answering here would build this thread's
    // own search structures (memory and a pause of the event loop) for a moment's use.
    if (this.follow(index) && this.loaded !== index.version) await this.loadingWithin(index.version);
    const worker = this.worker;
    if (!worker || this.loaded !== index.version) return this.here(index, query, options);
    let result;
    try {
      result = await this.ask(worker, { version: index.version, query, k: options.k });
    } catch {
      return this.here(index, query, options); // logged where the thread failed
    }
    this.answered.thread++;
    // The thread used this very version, whose chunks the service has in the same order.
    const chunks = index.retriever.chunks;
    return { ...result, hits: result.hits.map(({ index: i, ...h }) => ({ ...h, chunk: chunks[i]! })) };
  }

  private here(index: KnowledgeIndex, query: string, options: { k?: number }): Promise<RetrievalResult> {
    this.answered.here++;
    return index.retriever.retrieve(query, options);
  }

  /** Starts the thread (if not started) on the loaded version, before the first question needs it. */
  warm(): void {
    const index = this.o.knowledge.current;
    if (index) this.follow(index);
  }

  /** True when the thread has the version the service answers from (the tests read it). */
  ready(): boolean {
    return this.worker !== undefined && this.loaded === this.o.knowledge.current?.version;
  }

  /** Ends the thread; questions are then answered on the service's own thread. */
  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    this.worker = undefined;
    this.settleLoading?.(false);
    if (worker) await worker.terminate();
  }

  /** The thread, started if needed and asked to load `index` if it has another version. */
  private follow(index: KnowledgeIndex): Worker | undefined {
    if (this.stopped) return undefined;
    if (!this.worker) {
      if (Date.now() < this.startAfter) return undefined;
      this.worker = this.start();
    }
    if (this.requested !== index.version) {
      this.requested = index.version;
      this.settleLoading?.(false);
      this.loading = new Promise((resolve) => (this.settleLoading = resolve));
      this.post({ type: 'load', version: index.version, dir: index.dir });
    }
    return this.worker;
  }

  /** Waits for the thread to load `version`; past `loadWaitMs` the thread is given up. */
  private async loadingWithin(version: string): Promise<void> {
    const worker = this.worker;
    let timer: NodeJS.Timeout | undefined;
    const waited = this.o.loadWaitMs ?? 10_000;
    const loaded = await Promise.race([
      this.loading ?? Promise.resolve(false),
      new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), waited))),
    ]);
    clearTimeout(timer);
    if (loaded === 'late' && worker && worker === this.worker && this.requested === version) {
      this.o.logger.warn(
        { version, waitedMs: waited },
        'retrieval thread is slow to load the index; restarting it',
      );
      this.fail(worker);
    }
  }

  private ask(worker: Worker, request: Omit<Extract<ThreadRequest, { type: 'retrieve' }>, 'type' | 'id'>) {
    const id = this.nextId++;
    return new Promise<Extract<ThreadReply, { type: 'retrieved' }>['result']>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.o.logger.warn(
          { timeoutMs: this.timeoutMs },
          'retrieval thread did not answer in time; restarting it',
        );
        this.fail(worker);
      }, this.timeoutMs);
      if (this.pending.size === 0) worker.ref(); // a script awaiting an answer does not exit meanwhile
      this.pending.set(id, { resolve, reject, timer });
      this.post({ type: 'retrieve', id, ...request });
    });
  }

  private get timeoutMs(): number {
    return this.o.timeoutMs ?? 2000;
  }

  private post(request: ThreadRequest): void {
    this.worker?.postMessage(request);
  }

  private start(): Worker {
    const settings: ThreadSettings = { dimensions: this.o.dimensions };
    const options: WorkerOptions = {
      workerData: settings,
      resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB },
    };
    const worker = startWorkerThread(import.meta.url, 'retrievalThread', options);
    worker.unref();
    worker.on('message', (reply: ThreadReply) => this.onReply(worker, reply));
    worker.on('error', (err) => {
      this.o.logger.error({ err }, 'retrieval thread failed; answering on the main thread meanwhile');
    });
    worker.on('exit', () => this.fail(worker));
    return worker;
  }

  private onReply(worker: Worker, reply: ThreadReply): void {
    if (worker !== this.worker) return;
    switch (reply.type) {
      case 'loaded':
        if (reply.version === this.requested) {
          this.loaded = reply.version;
          this.settleLoading?.(true);
        }
        return;
      case 'loadFailed':
        this.o.logger.error(
          { version: reply.version, error: reply.error },
          'retrieval thread could not load the index; answering on the main thread meanwhile',
        );
        this.fail(worker);
        return;
      case 'retrieved':
      case 'failed': {
        const p = this.pending.get(reply.id);
        if (!p) return;
        this.settle(reply.id, p);
        if (reply.type === 'retrieved') p.resolve(reply.result);
        else p.reject(new Error(reply.error));
        return;
      }
    }
  }

  private settle(id: number, p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
  }

  /** Drops a failed thread: its questions are answered here, and a new one starts after a delay. */
  private fail(worker: Worker): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    this.loaded = this.requested = undefined;
    this.settleLoading?.(false);
    this.startAfter = Date.now() + (this.o.restartDelayMs ?? 5000);
    for (const [id, p] of this.pending) {
      this.settle(id, p);
      p.reject(new Error('retrieval thread failed'));
    }
    void worker.terminate();
  }
}

/**
 * The thread's young generation, MB: V8 gives a third of it to each of the two semi-spaces (2 MB)
 * and a third to new large objects. A retrieval's garbage is small and short-lived, so a small one
 * costs the thread little, and its new space commits 4 MB instead of the 32 MB that V8's default
 * (16 MB semi-spaces, which the main thread keeps) committed under load. A process started with
 * `--max-semi-space-size` overrides it: V8's flag wins over a worker's resourceLimits.
 */
const THREAD_YOUNG_GENERATION_MB = 6;
