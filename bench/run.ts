/**
 * npm run bench: the figures of issue 9, offline (hashing embedding), each beside its target and
 * beside a naive baseline (LangChain's BM25Retriever over the same chunks) doing the same work.
 *
 * 1. In this process: ingest, index load, retrieval latency over every eval question
 *    (test/fixtures/eval/*.jsonl), repeated after a warm-up.
 * 2. The real service (createApp), compiled and started in a child process (bench/serve.ts) on a
 *    fresh DATA_DIR (the first start builds the index), then restarted (loads it): start → ready;
 *    simulated citizens on loopback through POST /api/messages (a fake connector takes the bot's
 *    replies) at two fixed rates and at saturation, and through Direct Line (WebSocket); RSS idle and
 *    after the load; then a long run of BENCH_MESSAGES (100,000) messages sampling RSS every 10,000.
 * 3. The same HTTP load against the service answering with the baseline retriever
 *    (createApp's `overrides.retriever`, bench/baseline.ts).
 *
 * Prints a table and writes bench/results.json. Options (environment): BENCH_CITIZENS (100),
 * BENCH_LOW_RATE (100 msg/s) and BENCH_LOW_SECONDS (10): a rate the service sustains;
 * BENCH_RATE (300 msg/s), BENCH_SECONDS (20 per load phase), BENCH_DL_CITIZENS (10),
 * BENCH_DL_SECONDS (15), BENCH_MESSAGES (100000; 0 skips the long run), BENCH_LONG_MAX_SECONDS
 * (360: the long run stops there even if not all messages were sent), BENCH_CPU_PROF=<dir> (a V8
 * CPU profile of the service under test), BENCH_LOG_LEVEL (silent).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../src/logger.js';
import { HashingEmbeddings } from '../src/retrieval/hashingEmbeddings.js';
import { buildIndex } from '../src/retrieval/indexBuilder.js';
import { KnowledgeBase } from '../src/retrieval/knowledgeIndex.js';
import { loadEvalSet } from '../scripts/evalSet.js';
import { BASELINE_NAME, naiveBm25 } from './baseline.js';
import { startFakeConnector, type FakeConnector } from './connector.js';
import { directLineLoad, type DirectLineResult } from './directLine.js';
import { groupingBench } from './inbox.js';
import { GROUP_CANDIDATES } from '../src/team/inbox.js';
import {
  formatTable,
  hostProbeMs,
  latencyRows,
  rssMb,
  sampleLatencies,
  slope,
  status,
  timeMs,
  writeResults,
  type BenchRow,
} from './lib.js';
import { closedLoop, openLoop, type ClosedLoopResult, type OpenLoopResult } from './loadClient.js';
import {
  compileService,
  describeStalls,
  SERVICE_ENV,
  serviceNodeArgs,
  startService,
  type Memory,
  type Service,
} from './service.js';

const TARGETS = {
  ingestSeconds: 30,
  loadSeconds: 1,
  retrievalP95Ms: 5,
  messagesPerSecond: 300,
  turnP95Ms: 50,
  rssMb: 400,
  rssGrowthPercent: 10,
};
const MIN_QUERIES = 2000;
const BASELINE_ROUNDS = 2;

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a number >= 0`);
  return v;
};
const SETTINGS = {
  citizens: num('BENCH_CITIZENS', 100),
  rate: num('BENCH_RATE', TARGETS.messagesPerSecond),
  seconds: num('BENCH_SECONDS', 20),
  /** A rate the service sustains, for the turn latency without queueing. */
  lowRate: num('BENCH_LOW_RATE', 100),
  lowSeconds: num('BENCH_LOW_SECONDS', 10),
  warmupSeconds: 5,
  dlCitizens: num('BENCH_DL_CITIZENS', 10),
  dlSeconds: num('BENCH_DL_SECONDS', 15),
  messages: num('BENCH_MESSAGES', 100_000),
  longMaxSeconds: num('BENCH_LONG_MAX_SECONDS', 360),
  sampleEvery: 10_000,
  warmupMessages: 20_000,
};
const knowledgeDir = path.resolve(process.env.KNOWLEDGE_DIR ?? 'knowledge');
const resultsFile = path.resolve('bench/results.json');
const questions = loadEvalSet().map((item) => item.q);
const log = (s: string) => process.stderr.write(`${s}\n`);
const mb = (bytes: number) => bytes / 1024 ** 2;
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

const rows: BenchRow[] = [];
const dirs: string[] = [];
const extra: Record<string, unknown> = {};
let indexVersion = '';
let embedder = '';
let chunkCount = 0;

try {
  const started = performance.now();
  log(`load average at start: ${os.loadavg()[0]!.toFixed(2)} (on ${os.cpus().length} CPUs)`);
  await retrievalBench();
  await inboxBench();
  await serviceBench();
  log(`bench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
} finally {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}

console.log(
  `\nTrợ lý Công dân số · bench · index ${indexVersion} (${embedder}) · baseline: LangChain BM25Retriever over the same ${chunkCount} chunks\n`,
);
console.log(`service: node ${serviceNodeArgs()}\n`);
console.log(formatTable(rows));
console.log(
  '\nratio = ours / baseline; "vs baseline" reads it in the better direction (lower times and memory, higher rates)',
);
const notes = new Set(rows.flatMap((r) => (r.note ? [r.note] : [])));
for (const note of notes) console.log(`  ${rows.find((r) => r.note === note)!.metric}: ${note}`);
writeResults(
  resultsFile,
  {
    at: new Date().toISOString(),
    index: indexVersion,
    embedder,
    chunks: chunkCount,
    questions: questions.length,
    baseline: BASELINE_NAME,
    settings: SETTINGS,
    serviceEnv: SERVICE_ENV,
    serviceNodeArgs: serviceNodeArgs(),
    definitions: {
      answered:
        'a message is answered when the bot reply to it (replyToId = its id) reached the fake connector and /api/messages returned 200; for Direct Line, when the bot reply to it arrived on the WebSocket stream',
      turnLatency:
        '/api/messages: POST sent → bot reply received by the fake connector; Direct Line: POST …/activities sent → bot reply on the stream',
      startToReady: 'spawn of the service process → first 200 from GET /readyz',
      rss: 'the service process alone (its own process.memoryUsage().rss), node on the compiled JavaScript',
    },
    ...extra,
  },
  rows,
);
console.log(`\n→ ${path.relative(process.cwd(), resultsFile)}`);
if (rows.some((r) => status(r) === 'NOT MET')) process.exitCode = 1;

/** Part 1, in this process: ingest, index load and retrieval, ours and the baseline. */
async function retrievalBench(): Promise<void> {
  const dataDir = tmp('tlcds-bench-');
  dirs.push(dataDir);
  const embeddings = new HashingEmbeddings();
  const options = { knowledgeDir, dataDir, embeddings, embedderId: embeddings.modelId };

  log(`ingest ${knowledgeDir} → ${dataDir}`);
  const ingest = await timeMs(() => buildIndex(options));
  const manifest = ingest.result;
  indexVersion = manifest.version;
  embedder = manifest.embedder;
  rows.push({
    metric: 'full ingest (all files, all vectors)',
    value: ingest.ms / 1000,
    unit: 's',
    target: { op: '<=', value: TARGETS.ingestSeconds },
    note: `${manifest.documents.length} files, ${manifest.chunkCount} chunks, ${manifest.faqQuestionCount} FAQ questions`,
  });
  const reingest = await timeMs(() => buildIndex(options));
  rows.push({
    metric: 're-ingest, nothing changed',
    value: reingest.ms / 1000,
    unit: 's',
    note: `${reingest.result.reusedVectors} vectors reused`,
  });

  const knowledge = new KnowledgeBase({
    ...options,
    logger: createLogger({ level: 'silent', pretty: false }),
  });
  const load = await timeMs(() => knowledge.start());
  if (knowledge.status().version !== reingest.result.version)
    throw new Error('the bench loaded another version');
  rows.push({
    metric: 'index load (in process)',
    value: load.ms / 1000,
    unit: 's',
    target: { op: '<=', value: TARGETS.loadSeconds },
  });

  const chunks = knowledge.current!.retriever.chunks;
  chunkCount = chunks.length;
  const baseline = naiveBm25(chunks);

  log(`retrieval: ${questions.length} eval questions`);
  await sampleLatencies(questions, 1, (q) => knowledge.retrieve(q, { k: 5 })); // warm-up
  const rounds = Math.ceil(MIN_QUERIES / questions.length);
  const oursStarted = performance.now();
  const ours = await sampleLatencies(questions, rounds, (q) => knowledge.retrieve(q, { k: 5 }));
  const oursSeconds = (performance.now() - oursStarted) / 1000;

  log(`baseline: BM25Retriever, ${BASELINE_ROUNDS} rounds`);
  await sampleLatencies(questions.slice(0, 20), 1, (q) => baseline.invoke(q)); // warm-up
  const baseStarted = performance.now();
  const base = await sampleLatencies(questions, BASELINE_ROUNDS, (q) => baseline.invoke(q));
  const baseSeconds = (performance.now() - baseStarted) / 1000;

  rows.push(
    ...latencyRows(
      'retrieval latency',
      ours,
      base,
      { p95: TARGETS.retrievalP95Ms },
      `${ours.length} queries (baseline ${base.length}), k=5, hybrid: BM25 ×2 + vectors (exact over the sparse hashing vectors) + FAQ`,
    ),
  );
  rows.push({
    metric: 'retrieval throughput (1 client)',
    value: ours.length / oursSeconds,
    unit: 'q/s',
    baseline: base.length / baseSeconds,
  });
  knowledge.stop();
  rows.push({ metric: 'bench process RSS after retrieval', value: rssMb(), unit: 'MB' });
}

async function inboxBench(): Promise<void> {
  log('team inbox: grouping a forwarded question, 5000 open questions');
  const g = await groupingBench();
  rows.push({
    metric: `grouping a forwarded question, ${g.openQuestions} open, p95`,
    value: g.oursMs.p95,
    unit: 'ms',
    baseline: g.baselineMs.p95,
    note: `team inbox with ${g.openQuestions} open questions, each with a 12-line transcript; ours reads the newest ${GROUP_CANDIDATES} active questions (one index range scan per status), the baseline the whole inbox, as the inbox did before; p50 ours ${g.oursMs.p50.toFixed(2)} ms, baseline ${g.baselineMs.p50.toFixed(1)} ms; it runs on the service's event loop for every forwarded question`,
  });
}

interface LoadFigures {
  idle: Memory;
  low: OpenLoopResult;
  open: OpenLoopResult;
  /** CPU of this process (the simulated citizens and the fake connector) at the offered rate, in cores. */
  openGeneratorCores: number;
  /** The service's event-loop delay and GC pauses during the offered-rate phase. */
  openPauses: Memory;
  /** hostProbeMs just before and just after the rate phase. */
  hostProbe: { before: number; after: number };
  closed: ClosedLoopResult;
  /** CPU time of the service (user + system) per answered message at saturation, ms. */
  cpuPerMessage: number;
  /** CPU of this process (autocannon + fake connector) at saturation, in cores. */
  generatorCores: number;
  directLine: DirectLineResult;
  afterLoad: Memory;
}

/** Parts 2 and 3: the service in a child process under HTTP load, ours and the baseline. */
async function serviceBench(): Promise<void> {
  log('compiling the service (bench/tsconfig.serve.json)');
  compileService();
  const cpuProfDir = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
  const oursDir = tmp('tlcds-bench-service-');
  const baselineDir = tmp('tlcds-bench-baseline-');
  dirs.push(oursDir, baselineDir);
  const connector = await startFakeConnector();
  try {
    log('service: first start (builds the index)');
    const first = await startService({ dataDir: oursDir, knowledgeDir, retriever: 'ours', env: SERVICE_ENV });
    await first.stop();
    fs.cpSync(path.join(oursDir, 'index'), path.join(baselineDir, 'index'), { recursive: true });

    log('service: restart (loads the index)');
    const ours = await startService({
      dataDir: oursDir,
      knowledgeDir,
      retriever: 'ours',
      env: SERVICE_ENV,
      cpuProfDir,
    });
    let oursLoad: LoadFigures;
    let long: LongRun | undefined;
    try {
      oursLoad = await loadSuite(ours, connector, 'ours');
      if (SETTINGS.messages > 0) long = await longRun(ours, connector);
    } finally {
      await ours.stop();
    }

    log('baseline service: start on the same index');
    const base = await startService({
      dataDir: baselineDir,
      knowledgeDir,
      retriever: 'baseline',
      env: SERVICE_ENV,
    });
    let baseLoad: LoadFigures;
    try {
      baseLoad = await loadSuite(base, connector, 'baseline');
    } finally {
      await base.stop();
    }

    serviceRows(first, ours, base, oursLoad, baseLoad, long);
  } finally {
    await connector.close();
  }
}

/** A pause between load phases, for the turns a phase left in flight to finish. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 2000));
}

async function loadSuite(service: Service, connector: FakeConnector, tag: string): Promise<LoadFigures> {
  const idle = await service.memory();
  const base = { url: service.url, connector, questions, citizens: SETTINGS.citizens };
  log(`${tag}: warm-up, ${SETTINGS.warmupSeconds} s at saturation`);
  await closedLoop({ ...base, tag: `${tag}-warm`, durationMs: SETTINGS.warmupSeconds * 1000 });
  await settle();
  log(
    `${tag}: ${SETTINGS.lowRate} msg/s offered for ${SETTINGS.lowSeconds} s, ${SETTINGS.citizens} citizens`,
  );
  const low = await openLoop({
    ...base,
    tag: `${tag}-low`,
    rate: SETTINGS.lowRate,
    durationMs: SETTINGS.lowSeconds * 1000,
  });
  log(`  answered ${low.answered}/${low.sent} (${low.dropped} not sent), errors ${low.errors}`);
  await settle();
  const probeBefore = hostProbeMs();
  log(`${tag}: ${SETTINGS.rate} msg/s offered for ${SETTINGS.seconds} s, ${SETTINGS.citizens} citizens`);
  service.resetPauses();
  const openGeneratorBefore = process.cpuUsage();
  const open = await openLoop({
    ...base,
    tag: `${tag}-rate`,
    rate: SETTINGS.rate,
    durationMs: SETTINGS.seconds * 1000,
  });
  const openGenerator = process.cpuUsage(openGeneratorBefore);
  const openGeneratorCores = (openGenerator.user + openGenerator.system) / 1e6 / open.seconds;
  const openPauses = await service.memory();
  const probeAfter = hostProbeMs();
  log(
    `  answered ${open.answered}/${open.sent} (${open.dropped} not sent: every citizen busy), errors ${open.errors}`,
  );
  await settle();
  log(`${tag}: saturation, ${SETTINGS.citizens} citizens for ${SETTINGS.seconds} s (autocannon)`);
  const cpuBefore = (await service.memory()).cpuMs;
  const generatorBefore = process.cpuUsage();
  const closed = await closedLoop({ ...base, tag: `${tag}-sat`, durationMs: SETTINGS.seconds * 1000 });
  const generator = process.cpuUsage(generatorBefore);
  const cpuPerMessage = ((await service.memory()).cpuMs - cpuBefore) / Math.max(1, closed.answered);
  const generatorCores = (generator.user + generator.system) / 1e6 / closed.seconds;
  log(`  ${closed.perSecond.toFixed(0)} msg/s, errors ${closed.errors}`);
  await settle();
  log(`${tag}: Direct Line, ${SETTINGS.dlCitizens} citizens for ${SETTINGS.dlSeconds} s (WebSocket)`);
  const directLine = await directLineLoad({
    url: service.url,
    questions,
    citizens: SETTINGS.dlCitizens,
    durationMs: SETTINGS.dlSeconds * 1000,
    tag: `${tag}-dl`,
  });
  log(
    `  answered ${directLine.answered}/${directLine.sent}, errors ${directLine.errors}${directLine.firstError ? ` (${directLine.firstError})` : ''}`,
  );
  await settle();
  const afterLoad = await service.memory();
  const r = afterLoad.retrievals;
  log(
    r
      ? `  retrievals on the retrieval thread: ${r.thread}, on the main thread: ${r.here}`
      : '  no retrieval thread (RETRIEVAL_THREAD=off, or the baseline retriever answers)',
  );
  return {
    idle,
    low,
    open,
    openGeneratorCores,
    openPauses,
    hostProbe: { before: probeBefore, after: probeAfter },
    closed,
    cpuPerMessage,
    generatorCores,
    directLine,
    afterLoad,
  };
}

interface LongSample {
  messages: number;
  seconds: number;
  rssMb: number;
  heapUsedMb: number;
  rssAfterGcMb: number;
  heapUsedAfterGcMb: number;
}

interface LongRun {
  result: ClosedLoopResult;
  samples: LongSample[];
}

/**
 * BENCH_MESSAGES messages at saturation, sampling the service's memory every 10,000 responses:
 * RSS as it is, then (after a full GC in the service) what is really retained.
 */
async function longRun(service: Service, connector: FakeConnector): Promise<LongRun> {
  log(
    `long run: ${SETTINGS.messages} messages, ${SETTINGS.citizens} citizens (at most ${SETTINGS.longMaxSeconds} s)`,
  );
  const samples: LongSample[] = [];
  const started = performance.now();
  const sample = async (messages: number) => {
    const raw = await service.memory();
    service.gc();
    const collected = await service.memory();
    const s: LongSample = {
      messages,
      seconds: (performance.now() - started) / 1000,
      rssMb: mb(raw.rss),
      heapUsedMb: mb(raw.heapUsed),
      rssAfterGcMb: mb(collected.rss),
      heapUsedAfterGcMb: mb(collected.heapUsed),
    };
    samples.push(s);
    log(
      `  ${String(messages).padStart(7)} msgs ${s.seconds.toFixed(0).padStart(4)} s  RSS ${s.rssMb.toFixed(0)} MB (after GC ${s.rssAfterGcMb.toFixed(0)} MB, heap ${s.heapUsedAfterGcMb.toFixed(0)} MB)`,
    );
  };
  await settle();
  let sampling = sample(0);
  let next = SETTINGS.sampleEvery;
  const result = await closedLoop({
    url: service.url,
    connector,
    questions,
    citizens: SETTINGS.citizens,
    tag: 'long',
    amount: SETTINGS.messages,
    maxMs: SETTINGS.longMaxSeconds * 1000,
    keepTimes: false,
    onProgress: (responses) => {
      if (responses < next) return;
      next += SETTINGS.sampleEvery;
      sampling = sampling.then(() => sample(responses));
    },
  });
  await sampling;
  const total = result.answered + result.errors;
  if (!samples.length || samples.at(-1)!.messages < total) await sample(total);
  log(
    `  ${result.answered} answered in ${result.seconds.toFixed(0)} s (${result.perSecond.toFixed(0)} msg/s)`,
  );
  return { result, samples };
}

function serviceRows(
  first: Service,
  ours: Service,
  base: Service,
  o: LoadFigures,
  b: LoadFigures,
  long: LongRun | undefined,
): void {
  rows.push(
    {
      metric: 'service start → ready, first start',
      value: first.startToReadyMs / 1000,
      unit: 's',
      note: 'spawn → GET /readyz 200; the first start on an empty DATA_DIR builds the index; node on the compiled JavaScript',
    },
    {
      metric: 'service start → ready, restart',
      value: ours.startToReadyMs / 1000,
      unit: 's',
      baseline: base.startToReadyMs / 1000,
      note: 'loads the index version the first start built (the baseline also builds its BM25Retriever)',
    },
    { metric: 'service RSS, idle after start', value: mb(o.idle.rss), unit: 'MB', baseline: mb(b.idle.rss) },
  );

  const lowNote = `${SETTINGS.lowRate} msg/s offered for ${SETTINGS.lowSeconds} s (a rate our service sustains), otherwise as the ${SETTINGS.rate} msg/s phase; ours ${describeOpen(o.low)}; baseline ${describeOpen(b.low)}`;
  rows.push(
    ...latencyRows(`/api/messages turn @ ${SETTINGS.lowRate} msg/s`, o.low.turnMs, b.low.turnMs, {}, lowNote),
  );
  const rateNote = `${SETTINGS.rate} msg/s offered for ${SETTINGS.seconds} s, evenly spaced, over ${SETTINGS.citizens} citizens each waiting for its answer before the next question; POST → bot reply at the connector; ours ${describeOpen(o.open)}; baseline ${describeOpen(b.open)}; the load generator used ${o.openGeneratorCores.toFixed(2)} core (baseline run ${b.openGeneratorCores.toFixed(2)})`;
  rows.push(
    ...latencyRows(
      `/api/messages turn @ ${SETTINGS.rate} msg/s`,
      o.open.turnMs,
      b.open.turnMs,
      { p95: TARGETS.turnP95Ms },
      rateNote,
    ),
    {
      metric: `event-loop delay @ ${SETTINGS.rate} msg/s p99`,
      value: o.openPauses.loopDelay.p99,
      unit: 'ms',
      baseline: b.openPauses.loopDelay.p99,
      note: `${rateNote}; the service's event loop (perf_hooks.monitorEventLoopDelay, 5 ms resolution): p50 ${o.openPauses.loopDelay.p50.toFixed(1)} ms, max ${o.openPauses.loopDelay.max.toFixed(1)} ms; ${describeGc(o.openPauses, o.open.seconds)}; ${describeStalls(o.openPauses.stalls)}`,
    },
    {
      metric: `host speed probe around the ${SETTINGS.rate} msg/s phase`,
      value: Math.max(o.hostProbe.before, o.hostProbe.after),
      unit: 'ms',
      note: `a fixed workload timed in the bench process with no load running (bench/lib.ts hostProbeMs, median of 5; lower is faster), the slower of just before (${o.hostProbe.before.toFixed(0)} ms) and just after (${o.hostProbe.after.toFixed(0)} ms) the phase; around the baseline's phase ${b.hostProbe.before.toFixed(0)} / ${b.hostProbe.after.toFixed(0)} ms; it does not depend on our code (no ratio is shown): a value well above this machine's usual one (about 30–35 ms) means the host was slow, and every timing of the phase with it`,
    },
    {
      metric: `/api/messages answered @ ${SETTINGS.rate} msg/s offered`,
      value: o.open.answered / o.open.seconds,
      unit: 'msg/s',
      baseline: b.open.answered / b.open.seconds,
      note: rateNote,
    },
  );
  const satNote = `autocannon, ${SETTINGS.citizens} connections = citizens, each sending its next question when the last was answered, ${SETTINGS.seconds} s; latency POST → 200 (sent after the reply reached the connector); errors ours ${o.closed.errors}, baseline ${b.closed.errors}; the load generator (autocannon and the fake connector, one process) used ${o.generatorCores.toFixed(2)} core (baseline run ${b.generatorCores.toFixed(2)})`;
  rows.push(
    {
      metric: '/api/messages throughput at saturation',
      value: o.closed.perSecond,
      unit: 'msg/s',
      target: { op: '>=', value: TARGETS.messagesPerSecond },
      baseline: b.closed.perSecond,
      note: satNote,
    },
    {
      metric: 'service CPU per message at saturation',
      value: o.cpuPerMessage,
      unit: 'ms',
      baseline: b.cpuPerMessage,
      note: `the service process's user + system CPU time in the saturation phase / messages answered; 1000 / this = what one free core could answer per second (ours ${(1000 / o.cpuPerMessage).toFixed(0)} msg/s, baseline ${(1000 / b.cpuPerMessage).toFixed(0)} msg/s), whatever else runs on the machine`,
    },
    ...latencyRows(
      '/api/messages turn at saturation',
      o.closed.responseMs,
      b.closed.responseMs,
      {},
      satNote,
    ).filter((r) => !r.metric.endsWith('p99')),
  );
  const dlNote = `${SETTINGS.dlCitizens} citizens, one conversation each (token, conversation, WebSocket stream), questions one after another for ${SETTINGS.dlSeconds} s; POST …/activities → bot reply on the stream; answered ours ${o.directLine.answered}/${o.directLine.sent}, baseline ${b.directLine.answered}/${b.directLine.sent}`;
  rows.push(
    ...latencyRows('Direct Line turn', o.directLine.turnMs, b.directLine.turnMs, {}, dlNote),
    {
      metric: 'Direct Line answered',
      value: o.directLine.answered / o.directLine.seconds,
      unit: 'msg/s',
      baseline: b.directLine.answered / b.directLine.seconds,
      note: dlNote,
    },
    {
      metric: 'service RSS after the load',
      value: mb(o.afterLoad.rss),
      unit: 'MB',
      target: { op: '<=', value: TARGETS.rssMb },
      baseline: mb(b.afterLoad.rss),
      note: `after warm-up, rate, saturation and Direct Line phases (${count(o)} messages; baseline ${count(b)})`,
    },
  );

  if (!long) return;
  extra.longRun = { samples: long.samples };
  const { result, samples } = long;
  const last = samples.at(-1)!;
  const after = samples.filter((s) => s.messages >= SETTINGS.warmupMessages);
  const from = after[0];
  const longNote = `${result.answered} messages answered in ${result.seconds.toFixed(0)} s by ${SETTINGS.citizens} citizens at saturation${result.errors ? `, ${result.errors} errors` : ''}${result.answered + result.errors < SETTINGS.messages ? ` (stopped at ${SETTINGS.longMaxSeconds} s)` : ''}; RSS sampled every ${SETTINGS.sampleEvery}, warm-up = first ${SETTINGS.warmupMessages}; samples in results.json`;
  rows.push(
    {
      metric: 'long run: messages answered',
      value: result.answered,
      unit: 'msgs',
      better: 'higher',
      note: longNote,
    },
    { metric: 'long run: throughput', value: result.perSecond, unit: 'msg/s', note: longNote },
    {
      metric: `service RSS after ${last.messages} messages`,
      value: last.rssMb,
      unit: 'MB',
      target: { op: '<=', value: TARGETS.rssMb },
      note: longNote,
    },
  );
  rows.push({
    metric: 'service RSS, highest sample of the long run',
    value: Math.max(...samples.map((x) => x.rssMb)),
    unit: 'MB',
    note: longNote,
  });
  if (from && from !== last) {
    // RSS rises and falls with V8's collections (±20% between samples at saturation): the trend
    // is the least-squares line through the samples after the warm-up, not two single samples.
    const per10k = (s: (x: LongSample) => number) =>
      slope(after.map((x) => ({ x: x.messages / 10_000, y: s(x) })));
    const rssSlope = per10k((x) => x.rssMb);
    const mean = (f: (x: LongSample) => number) => after.reduce((t, x) => t + f(x), 0) / after.length;
    const fittedAtStart =
      mean((x) => x.rssMb) - (rssSlope * (mean((x) => x.messages) - from.messages)) / 10_000;
    const span = (last.messages - from.messages) / 10_000;
    const trendNote = `${longNote}; the least-squares line through the ${after.length} samples from ${from.messages} on, over ${from.messages} → ${last.messages} messages; the two samples alone: ${from.rssMb.toFixed(0)} → ${last.rssMb.toFixed(0)} MB`;
    rows.push(
      {
        metric: `RSS growth after warm-up (${from.messages} → ${last.messages}, trend)`,
        value: ((rssSlope * span) / fittedAtStart) * 100,
        unit: '%',
        target: { op: '<=', value: TARGETS.rssGrowthPercent },
        note: trendNote,
      },
      { metric: 'RSS slope after warm-up', value: rssSlope, unit: 'MB/10k msgs', note: trendNote },
      {
        metric: 'retained heap (after GC) slope after warm-up',
        value: per10k((x) => x.heapUsedAfterGcMb),
        unit: 'MB/10k msgs',
        note: trendNote,
      },
    );
  }
}

/** GC pauses of a phase, by kind, and their share of its duration. */
function describeGc(m: Memory, seconds: number): string {
  const kinds = Object.entries(m.gc);
  const total = kinds.reduce((t, [, p]) => t + p.totalMs, 0);
  const each = kinds.map(
    ([k, p]) => `${k} ${p.count}× ${p.totalMs.toFixed(0)} ms (longest ${p.maxMs.toFixed(1)} ms)`,
  );
  return `GC pauses ${((total / (seconds * 1000)) * 100).toFixed(1)} % of the phase: ${each.join(', ')}`;
}

function describeOpen(r: OpenLoopResult): string {
  const parts = [`${r.answered}/${r.sent} answered`];
  if (r.dropped) parts.push(`${r.dropped} not sent (every citizen still waiting)`);
  if (r.errors) parts.push(`${r.errors} errors`);
  return parts.join(', ');
}

function count(f: LoadFigures): number {
  return f.open.answered + f.closed.answered + f.directLine.answered;
}
