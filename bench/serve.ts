/**
 * The service under test, run by `npm run bench` in a child process of its own (so its RSS is
 * the service's alone and the load generator does not share its event loop). It is the real
 * app (createApp, config from the environment as src/index.ts reads it); with
 * BENCH_RETRIEVER=baseline the questions are answered by the naive baseline retriever
 * (bench/baseline.ts) instead of the knowledge base.
 *
 * Talks to the parent over the IPC channel:
 *   child → parent  { type: 'listening', port, ms }   ms since the process started
 *                   { type: 'ready', ms }              knowledge loaded (/readyz is 200)
 *                   { type: 'memory', rss, heapTotal, heapUsed, external, arrayBuffers, cpuMs }
 *                   { type: 'error', message }
 *   parent → child  { type: 'memory' } | { type: 'gc' } (with --expose-gc) | { type: 'stop' }
 */
import fs from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { splitThreads, ThreadSampler, type ThreadSplit } from './threadTimes.js';

export type ServeMessage =
  | { type: 'listening'; port: number; ms: number }
  | { type: 'ready'; ms: number }
  | {
      type: 'memory';
      rss: number;
      heapTotal: number;
      heapUsed: number;
      external: number;
      arrayBuffers: number;
      /** CPU time used by the process so far (user + system, both threads), ms. */
      cpuMs: number;
      /** Retrievals answered by the retrieval thread and on the main thread (absent: no thread). */
      retrievals?: { thread: number; here: number };
      /** Event-loop delay since the last `pauses` reset, ms. */
      loopDelay: { p50: number; p99: number; max: number };
      /** GC pauses since the last reset: count, total and longest, ms, by kind. */
      gc: Record<string, { count: number; totalMs: number; maxMs: number }>;
      /** The longest stalls of the event loop since the last reset (see `Stall`). */
      stalls: Stall[];
    }
  | { type: 'error'; message: string };

/**
 * A stall: a watchdog tick that came at least STALL_MS late. What the machine did meanwhile tells
 * its cause: the main thread's run time near `gapMs` means it was running (our code, or its GC:
 * `gcMs`); its run-queue wait high means it was ready but another thread or process had the
 * CPUs; `stealMs` high means the host ran something else (a VM's stolen time); `iowaitMs` high,
 * the process waited for the disk (an fsync).
 */
export interface Stall {
  /** ms since the last reset */
  at: number;
  gapMs: number;
  /** CPU time of this process (all its threads) during the gap */
  cpuMs: number;
  /**
   * The same by thread: the main thread's run time and run-queue wait (runnable, no CPU free),
   * the busiest other thread, the rest (all 0 without Linux's schedstat).
   */
  threads: ThreadSplit;
  /** GC pauses of the main thread within the gap */
  gcMs: number;
  /** time stolen from this VM by the host during the gap, and time waiting for I/O (all CPUs) */
  stealMs: number;
  iowaitMs: number;
}

export type ServeCommand = { type: 'memory' } | { type: 'gc' } | { type: 'resetPauses' } | { type: 'stop' };

const send = (m: ServeMessage) => process.send?.(m);

// What stalls the event loop: its delay histogram and the GC pauses, since the last reset.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const GC_KINDS: Record<number, string> = {
  1: 'scavenge',
  2: 'minor-mark-compact',
  4: 'mark-compact',
  8: 'incremental',
  16: 'weak-callbacks',
};
let gcPauses: Record<string, { count: number; totalMs: number; maxMs: number }> = {};
// The last GC pauses with their times, to tell how much of a stall was GC.
let recentGc: { start: number; end: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = GC_KINDS[(e as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
    const p = (gcPauses[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
    p.count += 1;
    p.totalMs += e.duration;
    p.maxMs = Math.max(p.maxMs, e.duration);
    recentGc.push({ start: e.startTime, end: e.startTime + e.duration });
  }
  if (recentGc.length > 1000) recentGc = recentGc.slice(-500);
}).observe({ entryTypes: ['gc'] });

// The stall watchdog: a 10 ms tick; a tick STALL_MS late or more is recorded with what the
// process, its threads (bench/threadTimes.ts) and the machine did in the gap (/proc: Linux only,
// else 0). Reading them costs a few µs per thread per tick.
const STALL_MS = 60;
const TICK_MS = 10;
const procStat = (() => {
  try {
    return fs.openSync('/proc/stat', 'r');
  } catch {
    return undefined;
  }
})();
const statBuf = Buffer.alloc(256);
const machineTimes = (): { steal: number; iowait: number } => {
  if (procStat === undefined) return { steal: 0, iowait: 0 };
  try {
    const n = fs.readSync(procStat, statBuf, 0, statBuf.length, 0);
    const f = statBuf.toString('latin1', 0, n);
    const cols = f.slice(0, f.indexOf('\n')).trim().split(/\s+/).map(Number);
    // cpu user nice system idle iowait irq softirq steal …, in USER_HZ (10 ms) ticks
    return { iowait: (cols[5] ?? 0) * 10, steal: (cols[8] ?? 0) * 10 };
  } catch {
    return { steal: 0, iowait: 0 };
  }
};
const threads = new ThreadSampler();
let stalls: (Stall & { start: number; end: number })[] = [];
let stallEpoch = performance.now();
let lastTick = {
  at: performance.now(),
  cpu: process.cpuUsage(),
  machine: machineTimes(),
  threads: threads.read(performance.now()),
};
setInterval(() => {
  const at = performance.now();
  const cpu = process.cpuUsage();
  const machine = machineTimes();
  const threadTimes = threads.read(at);
  const gapMs = at - lastTick.at;
  if (gapMs - TICK_MS >= STALL_MS) {
    stalls.push({
      at: lastTick.at - stallEpoch,
      start: lastTick.at,
      end: at,
      gapMs,
      cpuMs: (cpu.user - lastTick.cpu.user + cpu.system - lastTick.cpu.system) / 1000,
      threads: splitThreads(lastTick.threads, threadTimes, process.pid),
      gcMs: 0,
      stealMs: machine.steal - lastTick.machine.steal,
      iowaitMs: machine.iowait - lastTick.machine.iowait,
    });
    stalls = stalls.sort((a, b) => b.gapMs - a.gapMs).slice(0, 5);
  }
  lastTick = { at, cpu, machine, threads: threadTimes };
}, TICK_MS).unref();

/** The stalls with the GC pauses that fell in each (the observer reports them after the fact). */
const stallsWithGc = (): Stall[] =>
  stalls.map(({ start, end, ...s }) => ({
    ...s,
    gcMs: recentGc
      .filter((g) => g.end > start && g.start < end)
      .reduce((sum, g) => sum + Math.min(g.end, end) - Math.max(g.start, start), 0),
  }));

const config = loadConfig(process.env);
const logger = createLogger({ level: config.logLevel, pretty: false });
// Imported only for the baseline, so the measured service loads nothing the real one does not.
// It reads the chunks of the index the app loads (the app is created just below).
const holder: { app?: App } = {};
const naive =
  process.env.BENCH_RETRIEVER === 'baseline'
    ? new (await import('./baseline.js')).NaiveRetriever(
        () => holder.app?.assistant.knowledge.current?.retriever.chunks,
      )
    : undefined;
const running = createApp(config, logger, naive ? { retriever: naive } : undefined);
holder.app = running;

// BENCH_HEAP_PROF=<dir>: a sampling profile of every allocation from ready to stop, garbage
// included (what the GC has to clean up), written as a .heapprofile for Chrome DevTools.
const heapProfDir = process.env.BENCH_HEAP_PROF;
const heapSession = heapProfDir ? new (await import('node:inspector')).Session() : undefined;
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) =>
    heapSession!.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
  );
const writeHeapProfile = async () => {
  if (!heapSession || !heapProfDir) return;
  const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
  fs.mkdirSync(heapProfDir, { recursive: true });
  fs.writeFileSync(`${heapProfDir}/alloc.${process.pid}.heapprofile`, JSON.stringify(profile));
};

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  writeHeapProfile()
    .catch((err) => logger.warn({ err }, 'bench: heap profile not written'))
    .then(() => running.stop())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
};

process.on('message', (m: ServeCommand) => {
  if (m.type === 'memory') {
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    const cpu = process.cpuUsage();
    send({
      type: 'memory',
      rss,
      heapTotal,
      heapUsed,
      external,
      arrayBuffers,
      cpuMs: (cpu.user + cpu.system) / 1000,
      retrievals: running.assistant.retrievalThread
        ? { ...running.assistant.retrievalThread.answered }
        : undefined,
      loopDelay: {
        p50: loopDelay.percentile(50) / 1e6,
        p99: loopDelay.percentile(99) / 1e6,
        max: loopDelay.max / 1e6,
      },
      gc: gcPauses,
      stalls: stallsWithGc(),
    });
  } else if (m.type === 'gc') {
    (globalThis as { gc?: () => void }).gc?.();
  } else if (m.type === 'resetPauses') {
    loopDelay.reset();
    gcPauses = {};
    stalls = [];
    stallEpoch = performance.now();
  } else if (m.type === 'stop') {
    stop();
  }
});
process.on('disconnect', stop); // the bench went away
process.on('SIGTERM', stop);

try {
  const port = await running.listen();
  send({ type: 'listening', port, ms: performance.now() });
  await running.loadKnowledge();
  naive?.prepare(); // in the same tick: no question reaches the baseline before it is built
  if (heapSession) {
    heapSession.connect();
    await post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      // BENCH_HEAP_PROF_SURVIVORS=1: only what survived a scavenge (what gets promoted).
      includeObjectsCollectedByMinorGC: process.env.BENCH_HEAP_PROF_SURVIVORS !== '1',
    });
  }
  send({ type: 'ready', ms: performance.now() });
} catch (err) {
  send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
