/**
 * Per-thread CPU time of this process, from Linux's /proc/self/task/<tid>/schedstat: nanoseconds
 * on a CPU and nanoseconds runnable but waiting for one. The stall watchdog (bench/serve.ts)
 * reads it every tick to say which thread ran during a stall, and whether the main thread was
 * running or waiting for a CPU. Each file stays open and is re-read from offset 0 (a few µs per
 * thread). Elsewhere than Linux, or without schedstat, every figure is 0.
 */
import fs from 'node:fs';

export interface ThreadTimes {
  /** ns on a CPU, ns waiting in the run queue, by thread id */
  readonly byTid: ReadonlyMap<number, { runNs: number; waitNs: number }>;
}

/** What each thread did between two readings, ms: the main thread, the busiest other, the rest. */
export interface ThreadSplit {
  mainRunMs: number;
  mainWaitMs: number;
  /** the other thread that ran most in the gap (a retrieval worker, a GC helper…) */
  busiestOtherMs: number;
  restMs: number;
}

export class ThreadSampler {
  private fds = new Map<number, number>();
  private readonly buf = Buffer.alloc(128);
  private listedAt = -Infinity;

  constructor(private readonly relistMs = 1000) {}

  read(now: number): ThreadTimes {
    if (now - this.listedAt >= this.relistMs) this.relist(now);
    const byTid = new Map<number, { runNs: number; waitNs: number }>();
    for (const [tid, fd] of this.fds) {
      try {
        const n = fs.readSync(fd, this.buf, 0, this.buf.length, 0);
        const [run, wait] = this.buf.toString('latin1', 0, n).split(' ');
        byTid.set(tid, { runNs: Number(run), waitNs: Number(wait) });
      } catch {
        this.close(tid); // the thread ended
      }
    }
    return { byTid };
  }

  /** Closes one thread's file, or all of them. */
  close(tid?: number): void {
    for (const t of tid === undefined ? [...this.fds.keys()] : [tid]) {
      try {
        fs.closeSync(this.fds.get(t)!);
      } catch {
        // already gone
      }
      this.fds.delete(t);
    }
  }

  private relist(now: number): void {
    this.listedAt = now;
    let tids: number[];
    try {
      tids = fs.readdirSync('/proc/self/task').map(Number);
    } catch {
      return;
    }
    for (const tid of tids) {
      if (this.fds.has(tid)) continue;
      try {
        this.fds.set(tid, fs.openSync(`/proc/self/task/${tid}/schedstat`, 'r'));
      } catch {
        // no schedstat here
      }
    }
  }
}

export function splitThreads(before: ThreadTimes, after: ThreadTimes, mainTid: number): ThreadSplit {
  const split: ThreadSplit = { mainRunMs: 0, mainWaitMs: 0, busiestOtherMs: 0, restMs: 0 };
  for (const [tid, a] of after.byTid) {
    const b = before.byTid.get(tid) ?? { runNs: 0, waitNs: 0 };
    const runMs = (a.runNs - b.runNs) / 1e6;
    if (tid === mainTid) {
      split.mainRunMs = runMs;
      split.mainWaitMs = (a.waitNs - b.waitNs) / 1e6;
    } else if (runMs > split.busiestOtherMs) {
      split.restMs += split.busiestOtherMs;
      split.busiestOtherMs = runMs;
    } else {
      split.restMs += runMs;
    }
  }
  return split;
}
