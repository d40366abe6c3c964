/**
 * npm run eval: retrieval and answer-policy quality on the questions in test/fixtures/eval/*.jsonl,
 * beside a plain LangChain BM25Retriever over the same chunks. Results are kept per index version
 * in DATA_DIR/eval/<version>.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BM25Retriever } from '@langchain/community/retrievers/bm25';
import { Document } from '@langchain/core/documents';
import { detectIntent } from '../dialogs/intents.js';
import { OUT_OF_SCOPE_OVERRIDE } from '../dialogs/mainDialog.js';
import { createAssistant } from '../src/assistant.js';
import { indexText } from '../src/retrieval/hybridRetriever.js';
import { hasDiacritics } from '../src/text/vietnamese.js';
import { cliSetup } from './cli.js';
import { loadEvalSet, type EvalItem } from './evalSet.js';

const items = loadEvalSet();

const { config, logger } = cliSetup();
const assistant = createAssistant(config, logger);
await assistant.knowledge.start();
const index = assistant.knowledge.current!;
const chunks = index.retriever.chunks;
const baseline = BM25Retriever.fromDocuments(
  chunks.map((c) => new Document({ pageContent: indexText(c), metadata: { docId: c.docId } })),
  { k: 10 },
);

interface Row {
  item: EvalItem;
  rank: number;
  baselineRank: number;
  answered: boolean;
  routedOut: boolean;
  confidence: number;
}
const rows: Row[] = [];
for (const item of items) {
  const retrieval = await assistant.knowledge.retrieve(item.q, { k: 10 });
  const answer = await assistant.answers.answer({ question: item.q });
  // An FAQ entry that condenses a guide answers for that guide too.
  const docs = [...new Set(retrieval.hits.map((h) => `${h.chunk.docId}|${h.chunk.source ?? ''}`))];
  const baseDocs = [...new Set((await baseline.invoke(item.q)).map((d) => String(d.metadata.docId)))];
  const rankOf = (list: string[]) => {
    const i = list.findIndex((d) => d.split('|').some((x) => x && item.expected?.includes(x)));
    return i < 0 ? Infinity : i + 1;
  };
  const intent = detectIntent(item.q).kind;
  rows.push({
    item,
    rank: rankOf(docs),
    baselineRank: rankOf(baseDocs),
    answered: answer.answered,
    routedOut: intent === 'out_of_scope' && !(answer.answered && answer.confidence >= OUT_OF_SCOPE_OVERRIDE),
    confidence: retrieval.confidence,
  });
}

const inScope = rows.filter((r) => r.item.scope === 'in');
const outScope = rows.filter((r) => r.item.scope === 'out');
const recallAt = (rs: Row[], k: number, key: 'rank' | 'baselineRank' = 'rank') =>
  rs.filter((r) => r[key] <= k).length / (rs.length || 1);
const mrr = (rs: Row[], key: 'rank' | 'baselineRank' = 'rank') =>
  rs.reduce((s, r) => s + (r[key] <= 10 ? 1 / r[key] : 0), 0) / (rs.length || 1);
const withD = inScope.filter((r) => hasDiacritics(r.item.q));
const withoutD = inScope.filter((r) => !hasDiacritics(r.item.q));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

const metrics = {
  version: index.version,
  embedder: assistant.embedderId,
  questions: {
    inScope: inScope.length,
    withDiacritics: withD.length,
    withoutDiacritics: withoutD.length,
    outOfScope: outScope.length,
  },
  ours: {
    recallAt1: recallAt(inScope, 1),
    recallAt5: recallAt(inScope, 5),
    mrrAt10: mrr(inScope),
    recallAt5WithDiacritics: recallAt(withD, 5),
    recallAt5WithoutDiacritics: recallAt(withoutD, 5),
    answeredInScope: inScope.filter((r) => r.answered && !r.routedOut).length / (inScope.length || 1),
    rejectedOutOfScope: outScope.filter((r) => !r.answered || r.routedOut).length / (outScope.length || 1),
    rejectedOutOfScopeByConfidenceAlone: outScope.filter((r) => !r.answered).length / (outScope.length || 1),
  },
  baselineBm25: {
    recallAt1: recallAt(inScope, 1, 'baselineRank'),
    recallAt5: recallAt(inScope, 5, 'baselineRank'),
    mrrAt10: mrr(inScope, 'baselineRank'),
    recallAt5WithDiacritics: recallAt(withD, 5, 'baselineRank'),
    recallAt5WithoutDiacritics: recallAt(withoutD, 5, 'baselineRank'),
  },
  at: new Date().toISOString(),
};

const styles = [...new Set(inScope.map((r) => r.item.style ?? 'other'))].sort();
console.log(
  `Chỉ mục ${index.version} · ${inScope.length} câu trong phạm vi (${withD.length} có dấu, ${withoutD.length} không dấu) · ${outScope.length} câu ngoài phạm vi\n`,
);
console.log('metric                         ours      BM25Retriever');
const line = (name: string, a: number, b?: number) =>
  console.log(
    `${name.padEnd(30)} ${pct(a).padStart(6)}    ${b === undefined ? '     -' : pct(b).padStart(6)}`,
  );
line('Recall@1', metrics.ours.recallAt1, metrics.baselineBm25.recallAt1);
line('Recall@5', metrics.ours.recallAt5, metrics.baselineBm25.recallAt5);
line('MRR@10', metrics.ours.mrrAt10, metrics.baselineBm25.mrrAt10);
line('Recall@5 có dấu', metrics.ours.recallAt5WithDiacritics, metrics.baselineBm25.recallAt5WithDiacritics);
line(
  'Recall@5 không dấu',
  metrics.ours.recallAt5WithoutDiacritics,
  metrics.baselineBm25.recallAt5WithoutDiacritics,
);
line('answered in scope', metrics.ours.answeredInScope);
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
  console.log('\nIn scope, not answered:');
  for (const r of inScope.filter((x) => !x.answered))
    console.log(`  (${r.confidence.toFixed(2)}) ${r.item.q}`);
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

const dir = path.join(config.dataDir, 'eval');
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, `${index.version}.json`), JSON.stringify(metrics, null, 2));
assistant.knowledge.stop();
assistant.db.close();
