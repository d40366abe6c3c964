/**
 * npm run bench:quick — the /api/messages part of `npm run bench` alone, in about a minute, for
 * profiling and for trying node flags: the compiled service in a child process (the flags of
 * `npm start`, or BENCH_SERVICE_NODE_ARGS), a 5 s warm-up, saturation with BENCH_CITIZENS (100)
 * for BENCH_SECONDS (15), then BENCH_RATE (300) msg/s offered for as long. Prints throughput,
 * the service's CPU per message, the turn latency at the offered rate and the RSS after.
 * BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the service, BENCH_HEAP_PROF=<dir> an allocation
 * profile (see README). No figure here is a target:
 * `npm run bench` is the reference run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadEvalSet } from '../scripts/evalSet.js';
import { startFakeConnector } from './connector.js';
import { hostProbeMs, percentile } from './lib.js';
import { closedLoop, openLoop } from './loadClient.js';
import {
  compileService,
  describeStalls,
  SERVICE_ENV as env,
  serviceNodeArgs,
  startService,
} from './service.js';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const citizens = num('BENCH_CITIZENS', 100);
const seconds = num('BENCH_SECONDS', 15);
const rate = num('BENCH_RATE', 300);
const questions = loadEvalSet().map((i) => i.q);
const knowledgeDir = path.resolve(process.env.KNOWLEDGE_DIR ?? 'knowledge');
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

compileService();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlcds-bench-quick-'));
const connector = await startFakeConnector();
try {
  // The first start builds the index; the measured one loads it, as a restart does.
  await (await startService({ dataDir, knowledgeDir, retriever: 'ours', env })).stop();
  const cpuProfDir = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
  const service = await startService({ dataDir, knowledgeDir, retriever: 'ours', env, cpuProfDir });
  try {
    const base = { url: service.url, connector, questions, citizens };
    console.log(
      `service: node ${serviceNodeArgs()}; load average ${os.loadavg()[0]!.toFixed(2)}; idle RSS ${mb((await service.memory()).rss)} MB`,
    );
    await closedLoop({ ...base, tag: 'quick-warm', durationMs: 5000 });
    const before = (await service.memory()).cpuMs;
    const closed = await closedLoop({ ...base, tag: 'quick-sat', durationMs: seconds * 1000 });
    const cpuMs = ((await service.memory()).cpuMs - before) / Math.max(1, closed.answered);
    console.log(
      `saturation: ${closed.perSecond.toFixed(0)} msg/s, service CPU ${cpuMs.toFixed(2)} ms per message, ${closed.errors} errors`,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const probeBefore = hostProbeMs();
    service.resetPauses();
    const generatorBefore = process.cpuUsage();
    const open = await openLoop({ ...base, tag: 'quick-rate', rate, durationMs: seconds * 1000 });
    const generator = process.cpuUsage(generatorBefore);
    console.log(
      `${rate} msg/s offered: ${open.answered}/${open.sent} answered (${(open.answered / open.seconds).toFixed(0)} msg/s), turn p50 ${percentile(open.turnMs, 50).toFixed(1)} ms, p95 ${percentile(open.turnMs, 95).toFixed(1)} ms; the load generator used ${((generator.user + generator.system) / 1e6 / open.seconds).toFixed(2)} core`,
    );
    const m = await service.memory();
    console.log(
      `host speed probe (lower is faster, not our code): ${probeBefore.toFixed(0)} ms before, ${hostProbeMs().toFixed(0)} ms after the ${rate} msg/s phase`,
    );
    const gc = Object.entries(m.gc)
      .map(([k, p]) => `${k} ${p.count}× ${p.totalMs.toFixed(0)} ms (longest ${p.maxMs.toFixed(1)})`)
      .join(', ');
    console.log(
      `at ${rate} msg/s: event-loop delay p50 ${m.loopDelay.p50.toFixed(1)} / p99 ${m.loopDelay.p99.toFixed(1)} / max ${m.loopDelay.max.toFixed(1)} ms; GC pauses: ${gc}; ${describeStalls(m.stalls)}`,
    );
    console.log(`RSS after: ${mb(m.rss)} MB (heap used ${mb(m.heapUsed)} MB of ${mb(m.heapTotal)} MB)`);
    // The WAL stays near SQLite's 1,000 pages when checkpoints keep up (src/storage/walCheckpointer.ts).
    const wal = path.join(dataDir, 'assistant.db-wal');
    if (fs.existsSync(wal)) console.log(`SQLite WAL after: ${mb(fs.statSync(wal).size)} MB`);
  } finally {
    await service.stop();
  }
} finally {
  await connector.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
