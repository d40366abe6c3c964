/**
 * npm run bench: ingest, index load and retrieval latency on the real knowledge base, offline
 * (hashing embedding), in a temp DATA_DIR. Retrieval runs every eval question
 * (test/fixtures/eval/*.jsonl) repeatedly after a warm-up; LangChain's BM25Retriever over the same
 * chunks is the naive baseline. Prints a table and writes bench/results.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BM25Retriever } from '@langchain/community/retrievers/bm25';
import { Document } from '@langchain/core/documents';
import { createLogger } from '../src/logger.js';
import { HashingEmbeddings } from '../src/retrieval/hashingEmbeddings.js';
import { indexText } from '../src/retrieval/hybridRetriever.js';
import { buildIndex } from '../src/retrieval/indexBuilder.js';
import { KnowledgeBase } from '../src/retrieval/knowledgeIndex.js';
import {
  formatTable,
  latencyRows,
  rssMb,
  sampleLatencies,
  status,
  timeMs,
  writeResults,
  type BenchRow,
} from './lib.js';
import { loadEvalSet } from '../scripts/evalSet.js';

const TARGETS = { ingestSeconds: 30, loadSeconds: 1, retrievalP95Ms: 5 };
const MIN_QUERIES = 2000;
const BASELINE_ROUNDS = 2;

const knowledgeDir = path.resolve(process.env.KNOWLEDGE_DIR ?? 'knowledge');
const resultsFile = path.resolve('bench/results.json');

const questions = loadEvalSet().map((item) => item.q);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlcds-bench-'));
const rows: BenchRow[] = [];
const log = (s: string) => process.stderr.write(`${s}\n`);

try {
  const embeddings = new HashingEmbeddings();
  const options = { knowledgeDir, dataDir, embeddings, embedderId: embeddings.modelId };

  log(`ingest ${knowledgeDir} → ${dataDir}`);
  const ingest = await timeMs(() => buildIndex(options));
  const manifest = ingest.result;
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
    metric: 'index load (service start)',
    value: load.ms / 1000,
    unit: 's',
    target: { op: '<=', value: TARGETS.loadSeconds },
  });

  const chunks = knowledge.current!.retriever.chunks;
  const baseline = BM25Retriever.fromDocuments(
    chunks.map((c) => new Document({ pageContent: indexText(c), metadata: { docId: c.docId } })),
    { k: 5 },
  );

  log(`retrieval: ${questions.length} eval questions`);
  await sampleLatencies(questions, 1, (q) => knowledge.retrieve(q, { k: 5 })); // warm-up
  const rounds = Math.ceil(MIN_QUERIES / questions.length);
  const started = performance.now();
  const ours = await sampleLatencies(questions, rounds, (q) => knowledge.retrieve(q, { k: 5 }));
  const oursSeconds = (performance.now() - started) / 1000;

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
      `${ours.length} queries (baseline ${base.length}), k=5, hybrid: BM25 ×2 + hnswlib + FAQ`,
    ),
  );
  rows.push({
    metric: 'retrieval throughput (1 client)',
    value: ours.length / oursSeconds,
    unit: 'q/s',
    baseline: base.length / baseSeconds,
  });
  knowledge.stop();

  rows.push({ metric: 'RSS after the run', value: rssMb(), unit: 'MB' });

  console.log(
    `\nTrợ lý Công dân số · bench · index ${manifest.version} (${manifest.embedder}) · baseline: LangChain BM25Retriever over the same ${chunks.length} chunks\n`,
  );
  console.log(formatTable(rows));
  console.log('\nratio = ours / baseline (below 1 is better for times, above 1 for throughput)');
  const notes = new Set(rows.flatMap((r) => (r.note ? [r.note] : [])));
  for (const note of notes) console.log(`  ${rows.find((r) => r.note === note)!.metric}: ${note}`);

  writeResults(
    resultsFile,
    {
      at: new Date().toISOString(),
      index: manifest.version,
      embedder: manifest.embedder,
      chunks: chunks.length,
      questions: questions.length,
      baseline: 'LangChain BM25Retriever (@langchain/community/retrievers/bm25), k=5',
    },
    rows,
  );
  console.log(`\n→ ${path.relative(process.cwd(), resultsFile)}`);
  if (rows.some((r) => status(r) === 'NOT MET')) process.exitCode = 1;
} finally {
  fs.rmSync(dataDir, { recursive: true, force: true });
}
