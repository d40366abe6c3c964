/**
 * npm run eval: retrieval and answer-policy quality on the questions in test/fixtures/eval/*.jsonl
 * and KNOWLEDGE_DIR/eval/*.jsonl (questions staff added in the knowledge console), beside a plain
 * LangChain BM25Retriever over the same chunks. Results are kept per index version in
 * DATA_DIR/eval/<version>.json (the console shows them as the quality trend). The evaluation itself
 * is src/quality/evaluation.ts.
 */
import { BM25Retriever } from '@langchain/community/retrievers/bm25';
import { Document } from '@langchain/core/documents';
import { createAssistant } from '../src/assistant.js';
import { evaluate, recallAt, writeEvalRun, type EvalRow } from '../src/quality/evaluation.js';
import { evalSetDirs, loadEvalSet } from '../src/quality/evalSet.js';
import { indexText } from '../src/retrieval/hybridRetriever.js';
import { cliSetup } from './cli.js';

const { config, logger } = cliSetup();
// The fixtures (test/fixtures/eval) and the questions staff added in KNOWLEDGE_DIR/eval.
const items = loadEvalSet(evalSetDirs(config.knowledgeDir), (file, line, problem) =>
  console.error(`Bỏ qua ${file}:${line}: ${problem}`),
);
const assistant = createAssistant(config, logger);
await assistant.knowledge.start();
const index = assistant.knowledge.current!;
const chunks = index.retriever.chunks;
const baseline = BM25Retriever.fromDocuments(
  chunks.map((c) => new Document({ pageContent: indexText(c), metadata: { docId: c.docId } })),
  { k: 10 },
);

const { rows, metrics } = await evaluate({
  retriever: assistant.knowledge,
  answers: assistant.answers,
  items,
  version: index.version,
  embedder: assistant.embedderId,
  baseline: async (q) => (await baseline.invoke(q)).map((d) => String(d.metadata.docId)),
  source: 'npm run eval',
  answersMode: config.llm ? 'model' : 'extractive',
});
const inScope: EvalRow[] = rows.filter((r) => r.item.scope === 'in');
const outScope: EvalRow[] = rows.filter((r) => r.item.scope === 'out');
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const baselineBm25 = metrics.baselineBm25!;

const styles = [...new Set(inScope.map((r) => r.item.style ?? 'other'))].sort();
console.log(
  `Chỉ mục ${index.version} · ${inScope.length} câu trong phạm vi (${metrics.questions.withDiacritics} có dấu, ${metrics.questions.withoutDiacritics} không dấu) · ${outScope.length} câu ngoài phạm vi\n`,
);
console.log('metric                         ours      BM25Retriever');
const line = (name: string, a: number, b?: number) =>
  console.log(
    `${name.padEnd(30)} ${pct(a).padStart(6)}    ${b === undefined ? '     -' : pct(b).padStart(6)}`,
  );
line('Recall@1', metrics.ours.recallAt1, baselineBm25.recallAt1);
line('Recall@5', metrics.ours.recallAt5, baselineBm25.recallAt5);
line('MRR@10', metrics.ours.mrrAt10, baselineBm25.mrrAt10);
line('Recall@5 có dấu', metrics.ours.recallAt5WithDiacritics, baselineBm25.recallAt5WithDiacritics);
line('Recall@5 không dấu', metrics.ours.recallAt5WithoutDiacritics, baselineBm25.recallAt5WithoutDiacritics);
line('answered in scope', metrics.ours.answeredInScope);
line('  first source right', metrics.ours.answeredRight ?? 0);
line('asked "did you mean"', metrics.ours.clarifiedInScope ?? 0);
line('  a suggestion right', metrics.ours.clarifiedWithRightSuggestion ?? 0);
line('rejected out of scope', metrics.ours.rejectedOutOfScope);
line('  (by confidence alone)', metrics.ours.rejectedOutOfScopeByConfidenceAlone);
console.log('\nRecall@5 by style:');
for (const s of styles) {
  const rs = inScope.filter((r) => (r.item.style ?? 'other') === s);
  console.log(
    `  ${s.padEnd(14)} ${pct(recallAt(rs, 5)).padStart(6)}  (n=${rs.length}, BM25Retriever ${pct(recallAt(rs, 5, 'baselineRank'))})`,
  );
}

if (process.argv.includes('--verbose')) {
  console.log('\nMisses (not in top 5):');
  for (const r of inScope.filter((x) => x.rank > 5))
    console.log(`  [${r.rank}] ${r.item.q}  → ${r.item.expected?.join(', ')}`);
  console.log('\nAnswered from another document than expected:');
  for (const r of inScope.filter((x) => x.answered && !x.routedOut && !x.firstRight))
    console.log(
      `  (${r.confidence.toFixed(2)}) ${r.item.q}  → ${r.firstDoc} (expected ${r.item.expected?.join(', ')})`,
    );
  console.log('\nIn scope, not answered:');
  for (const r of inScope.filter((x) => !x.answered))
    console.log(`  (${r.confidence.toFixed(2)}) ${r.clarified ? '[?] ' : ''}${r.item.q}`);
  console.log('\nIn scope, routed as out of scope:');
  for (const r of inScope.filter((x) => x.routedOut)) console.log(`  ${r.item.q}`);
  console.log('\nOut of scope, answered:');
  for (const r of outScope.filter((x) => x.answered && !x.routedOut))
    console.log(`  (${r.confidence.toFixed(2)}) ${r.item.q}`);
}
if (process.argv.includes('--calibrate')) {
  console.log('\nthreshold  answered-in  rejected-out');
  for (let t = 0.3; t <= 0.8001; t += 0.025) {
    const a = inScope.filter((r) => r.confidence >= t).length / inScope.length;
    const o = outScope.filter((r) => r.confidence < t || r.routedOut).length / outScope.length;
    console.log(`  ${t.toFixed(3)}     ${pct(a).padStart(6)}      ${pct(o).padStart(6)}`);
  }
}

writeEvalRun(config.dataDir, metrics);
assistant.knowledge.stop();
await assistant.close();
