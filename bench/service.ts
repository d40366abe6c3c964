/**
 * The bench's side of bench/serve.ts: spawns the service in a child process (plain node on the
 * compiled service, as `npm start` runs it), measures start → ready from outside (spawn until GET /readyz
 * answers 200), asks for its memory, and stops it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { ServeCommand, ServeMessage, Stall } from './serve.js';

export interface ServiceOptions {
  dataDir: string;
  knowledgeDir: string;
  retriever: 'ours' | 'baseline';
  /** More environment for the service (CHAT_MESSAGES_PER_MINUTE…). */
  env?: Record<string, string>;
  /** Writes a V8 CPU profile of the service into this directory (node --cpu-prof). */
  cpuProfDir?: string;
}

export interface Memory {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** CPU time the service used so far (user + system, all its threads), ms. */
  cpuMs: number;
  /** Retrievals answered by the retrieval thread and on the main thread (absent: no thread). */
  retrievals?: { thread: number; here: number };
  /** Event-loop delay since `resetPauses`, ms. */
  loopDelay: { p50: number; p99: number; max: number };
  /** GC pauses since `resetPauses`, by kind. */
  gc: Record<string, { count: number; totalMs: number; maxMs: number }>;
  /** The longest event-loop stalls (≥ 60 ms late) since `resetPauses`, longest first. */
  stalls: Stall[];
}

/** The longest stalls, each with what ran meanwhile (the machine figures are /proc/stat's). */
export function describeStalls(stalls: readonly Stall[]): string {
  if (stalls.length === 0) return 'no stall ≥ 60 ms';
  return `longest stalls: ${stalls
    .map(
      (s) =>
        `${s.gapMs.toFixed(0)} ms at ${(s.at / 1000).toFixed(1)} s (service CPU ${s.cpuMs.toFixed(0)} ms: main thread ran ${s.threads.mainRunMs.toFixed(0)} ms, of it GC ${s.gcMs.toFixed(0)} ms, and waited for a CPU ${s.threads.mainWaitMs.toFixed(0)} ms, busiest other thread ${s.threads.busiestOtherMs.toFixed(0)} ms, the rest ${s.threads.restMs.toFixed(0)} ms; host steal ${s.stealMs} ms, iowait ${s.iowaitMs} ms)`,
    )
    .join('; ')}`;
}

export interface Service {
  pid: number;
  port: number;
  url: string;
  /** Spawn → GET /readyz 200, measured by the bench. */
  startToReadyMs: number;
  /** Spawn → listening (liveness up). */
  startToListenMs: number;
  /** The service's own clock: process start → knowledge loaded. */
  selfReadyMs: number;
  memory(): Promise<Memory>;
  /** Runs a full GC in the service (only when started with --expose-gc, which the bench does). */
  gc(): void;
  /** Restarts the event-loop delay and GC pause counts. */
  resetPauses(): void;
  stop(): Promise<void>;
}

/** Where bench/serve.ts and the service are compiled to (see `compileService`). */
const BUILD_DIR = path.resolve('node_modules/.cache/tlcds-bench');
const SERVE_JS = path.join(BUILD_DIR, 'bench', 'serve.js');

/**
 * Compiles the service and bench/serve.ts with tsc (bench/tsconfig.serve.json, incremental) so
 * the service runs as `npm start` runs it: plain node on compiled JavaScript, no loader.
 */
export function compileService(): void {
  const tsc = path.resolve('node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'bench/tsconfig.serve.json'], { encoding: 'utf8' });
  if (!fs.existsSync(SERVE_JS)) throw new Error(`could not compile the service:\n${r.stdout}${r.stderr}`);
  if (r.status !== 0) process.stderr.write(`tsc reported errors (compiled anyway):\n${r.stdout}\n`);
}

export async function startService(o: ServiceOptions): Promise<Service> {
  const execArgv = ['--expose-gc', ...serviceNodeArgs().split(/\s+/).filter(Boolean)];
  if (o.cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`);
  const started = performance.now();
  const child = spawn(process.execPath, [...execArgv, SERVE_JS], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
      KNOWLEDGE_DIR: o.knowledgeDir,
      DATA_DIR: o.dataDir,
      BENCH_RETRIEVER: o.retriever,
      ...o.env,
    },
  });
  const listening = await nextMessage(child, 'listening', 120_000);
  const startToListenMs = performance.now() - started;
  const url = `http://127.0.0.1:${listening.port}`;
  const ready = nextMessage(child, 'ready', 300_000);
  ready.catch(() => undefined);
  // Readiness as a load balancer sees it.
  while ((await status(`${url}/readyz`)) !== 200) await new Promise((r) => setTimeout(r, 5));
  const startToReadyMs = performance.now() - started;
  const selfReadyMs = (await ready).ms;

  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const command = (c: ServeCommand) => {
    if (!exited && child.connected) child.send(c);
  };
  return {
    pid: child.pid!,
    port: listening.port,
    url,
    startToReadyMs,
    startToListenMs,
    selfReadyMs,
    async memory() {
      const m = nextMessage(child, 'memory', 10_000);
      command({ type: 'memory' });
      return m;
    },
    gc: () => command({ type: 'gc' }),
    resetPauses: () => command({ type: 'resetPauses' }),
    async stop() {
      if (exited) return;
      command({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/**
 * The service's settings under load: the per-user chat limit (CHAT_MESSAGES_PER_MINUTE, 20 by
 * default) and the API rate limits would refuse a few simulated citizens sending this fast.
 */
export const SERVICE_ENV: Record<string, string> = {
  CHAT_MESSAGES_PER_MINUTE: '10000',
  RATE_LIMIT_IP_PER_MINUTE: '0',
  RATE_LIMIT_DL_TOKENS_PER_MINUTE: '0',
  RATE_LIMIT_DL_USER_PER_MINUTE: '0',
  RATE_LIMIT_BOT_USER_PER_MINUTE: '0',
};

/**
 * The node flags the service runs with: BENCH_SERVICE_NODE_ARGS, else those of package.json's start
 * script ("node --flag … dist/src/index.js"), so the bench measures the service as `npm start` runs it.
 */
export function serviceNodeArgs(): string {
  if (process.env.BENCH_SERVICE_NODE_ARGS !== undefined) return process.env.BENCH_SERVICE_NODE_ARGS;
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { scripts?: { start?: string } };
  const words = (pkg.scripts?.start ?? '').split(/\s+/);
  if (words[0] !== 'node') return '';
  return words
    .slice(1)
    .filter((w) => w.startsWith('--'))
    .join(' ');
}

function nextMessage<T extends ServeMessage['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<ServeMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`the service sent no "${type}" in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (m: ServeMessage) => {
      if (m.type === type) done(undefined, m as Extract<ServeMessage, { type: T }>);
      else if (m.type === 'error') done(new Error(`the service failed: ${m.message}`));
    };
    const onExit = (code: number | null) => done(new Error(`the service exited (${code}) before "${type}"`));
    const done = (err?: Error, m?: Extract<ServeMessage, { type: T }>) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
  });
}
