import type { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import { startWorkerThread } from '../workerThread.js';
import type { CheckpointReply, CheckpointRequest, CheckpointSettings } from './checkpointProtocol.js';
import type { Db } from './database.js';

/** SQLite's own default: the committing connection checkpoints once the WAL holds this many pages. */
const AUTOCHECKPOINT_PAGES = 1000;

/** How long `stop` waits for the thread to close its connection before terminating it. */
const STOP_WAIT_MS = 2000;

export interface WalCheckpointerOptions {
  /** The service's connection (WAL mode, a file on disk). */
  db: Db;
  logger: Logger;
  /**
   * How often the thread checkpoints (default 250 ms: under load the WAL then peaks near 8 MB in
   * `npm run bench:quick`, against 15 MB with 1000 ms and 4 MB when the commits checkpoint).
   */
  intervalMs?: number;
  /** The WAL is started over once it holds this many pages (default 1000, SQLite's own threshold). */
  restartFrames?: number;
}

/**
 * Moves SQLite's WAL checkpoints off the event loop. By default the connection that commits runs a
 * checkpoint once the WAL holds 1,000 pages: under load that was about once a second, on the
 * event loop, 8–26 ms each (copying about 4 MB into the database file and two fsyncs), and every
 * turn waiting meanwhile. Here a worker thread with its own connection does the copying four
 * times a second (`checkpointThread.ts`), and the service's connection stops checkpointing
 * (`wal_autocheckpoint = 0`) once the thread has opened the file. A background copy alone would
 * never let the WAL start over while writes keep coming, so once it holds `restartFrames` pages the
 * thread also holds off writes for the few pages committed since its copy, and the next write
 * starts the WAL from the beginning. Durability is unchanged: a commit is in the WAL either way,
 * and a checkpoint fsyncs the WAL before it copies from it. The event loop still waits on the store
 * now and then while the thread copies (SQLite's locks, the file system): in a `bench:quick` CPU
 * profile, 1.3 s instead of 1.7 s in all, the longest wait 15 ms instead of 26 ms.
 *
 * If the thread fails or exits, the connection checkpoints itself again, as SQLite does by default,
 * so the WAL never grows without bound. An in-memory database or one not in WAL mode gets no thread.
 */
export class WalCheckpointer {
  private worker: Worker | undefined;
  private stopping = false;
  /** How many times the thread has had the WAL start over. */
  restarts = 0;

  constructor(private readonly o: WalCheckpointerOptions) {}

  /** True while the thread checkpoints (it has opened the file). */
  get active(): boolean {
    return this.worker !== undefined && this.o.db.pragma('wal_autocheckpoint', { simple: true }) === 0;
  }

  start(): void {
    const { db } = this.o;
    if (this.worker || db.memory || db.pragma('journal_mode', { simple: true }) !== 'wal') return;
    const settings: CheckpointSettings = {
      file: db.name,
      intervalMs: this.o.intervalMs ?? 250,
      restartFrames: this.o.restartFrames ?? AUTOCHECKPOINT_PAGES,
    };
    const worker = startWorkerThread(import.meta.url, 'checkpointThread', {
      workerData: settings,
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    });
    worker.unref();
    this.worker = worker;
    const failed = (fields: object) =>
      this.o.logger.error(fields, 'checkpoint thread failed; the store checkpoints itself');
    worker.on('message', (reply: CheckpointReply) => {
      if (reply.type === 'ready') {
        if (this.worker === worker && db.open) db.pragma('wal_autocheckpoint = 0');
        return;
      }
      if (reply.type === 'restarted') {
        this.restarts++;
        return;
      }
      failed({ error: reply.error });
    });
    worker.on('error', (err) => failed({ err }));
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
      if (!this.stopping) this.o.logger.warn('checkpoint thread exited; the store checkpoints itself');
    });
  }

  /** Stops the thread (before the connection is closed); the connection checkpoints itself again. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.stopping = true;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' } satisfies CheckpointRequest);
    // A checkpoint takes milliseconds; a thread still busy after this is stopped where it is.
    const timer = setTimeout(() => void worker.terminate(), STOP_WAIT_MS);
    await exited;
    clearTimeout(timer);
  }
}
