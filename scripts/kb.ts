/**
 * The knowledge console from the command line (issue 8), on KNOWLEDGE_DIR and DATA_DIR:
 *   npm run kb -- list                          every document, its chunks and whether it is indexed
 *   npm run kb -- show <id>                     a document and its chunks as retrieval sees them
 *   npm run kb -- add <file> [--kind guide|faq|plan] [--title …] [--topic …] [--owner …]
 *   npm run kb -- retire <id> [--reason …]
 *   npm run kb -- versions                      index versions with their eval figures
 *   npm run kb -- rollback [version]            back to the previous (or the given) version
 *   npm run kb -- reindex
 *   npm run kb -- hit "câu hỏi" [--k 10]       what each retrieval leg found, and the answer
 *   npm run kb -- expect "câu hỏi" <docId>      add to the eval set: this question should find docId
 *   npm run kb -- eval                          evaluate the current version now
 * `--json` prints JSON. Changes re-index into a new version (then evaluate it; `--skip-eval` not),
 * and a running service picks the new CURRENT up within a few seconds. Changes are audited as
 * `cli:<user>` in the team audit log.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AnswerService } from '../src/answer/answerService.js';
import { requireDocument } from '../src/knowledgeConsole/documents.js';
import { ConsoleError } from '../src/knowledgeConsole/errors.js';
import { KnowledgeConsole, type Actor } from '../src/knowledgeConsole/service.js';
import type { EvalFigures } from '../src/quality/evaluation.js';
import { createEmbeddings } from '../src/retrieval/embeddingsFactory.js';
import { createIndexPublisher } from '../src/retrieval/indexPublisher.js';
import { KnowledgeBase } from '../src/retrieval/knowledgeIndex.js';
import { openSqlDb } from '../src/storage/sql/index.js';
import { createTeamStore } from '../src/team/teamStore.js';
import { cliSetup } from './cli.js';

const USAGE = `Cách dùng:
  npm run kb -- list | versions | reindex | eval
  npm run kb -- show <id>
  npm run kb -- add <tệp> [--kind guide|faq|plan] [--title "…"] [--topic …] [--owner "…"]
  npm run kb -- retire <id> [--reason "…"]
  npm run kb -- rollback [phiên bản]
  npm run kb -- hit "câu hỏi" [--k 10]
  npm run kb -- expect "câu hỏi" <id tài liệu>
Thêm --json để in JSON; --skip-eval để không chấm điểm phiên bản mới.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: 'boolean', default: false },
    'skip-eval': { type: 'boolean', default: false },
    kind: { type: 'string' },
    title: { type: 'string' },
    topic: { type: 'string' },
    owner: { type: 'string' },
    reason: { type: 'string' },
    k: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const [command, ...args] = positionals;

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

const pct = (x: number | undefined) => (x === undefined ? '   -  ' : `${(x * 100).toFixed(1)}%`.padStart(6));
const out = (v: unknown) => console.log(JSON.stringify(v, null, 2));

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  for (const r of rows) {
    console.log(
      r
        .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length)))
        .join('  ')
        .trimEnd(),
    );
  }
}

function jobLine(kb: KnowledgeConsole): string {
  const j = kb.job.snapshot();
  if (j.lastError) return `Lập chỉ mục lỗi: ${j.lastError}`;
  return `Phiên bản chỉ mục hiện hành: ${j.lastVersion ?? kb.currentVersion() ?? '(chưa có)'}`;
}

function evalLine(runs: EvalFigures[], version: string | undefined): string | undefined {
  const r = runs.find((x) => x.version === version);
  return r
    ? `Chất lượng ${r.version}: Recall@1 ${pct(r.recallAt1).trim()}, Recall@5 ${pct(r.recallAt5).trim()}, ` +
        `MRR ${pct(r.mrr).trim()}, trả lời trong phạm vi ${pct(r.answeredInScope).trim()}, ` +
        `từ chối ngoài phạm vi ${pct(r.outOfScopeRejected).trim()} (${r.questions} câu)`
    : undefined;
}

async function main(): Promise<number> {
  if (values.help || !command) {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const { config, logger } = cliSetup();
  // The knowledge base and answer policy as the service composes them (src/assistant.ts), without
  // the dialogs and the Bot Framework, which this tool does not need.
  // The team audit log in the service's store (SQLite in DATA_DIR, or PostgreSQL with DATABASE_URL).
  const db = await openSqlDb({
    dataDir: config.dataDir,
    databaseUrl: config.database?.url,
    poolMax: 2,
    logger,
  });
  const store = createTeamStore(db);
  await store.migrate({ questions: false }); // the audit log only; the service adds the rest
  const { embeddings, id: embedderId } = createEmbeddings(config);
  const knowledge = new KnowledgeBase({
    knowledgeDir: config.knowledgeDir,
    dataDir: config.dataDir,
    embeddings,
    embedderId,
    logger,
    // With DATABASE_URL: builds and rollbacks are published to every replica (issue 10).
    publisher: createIndexPublisher(db, { logger, instance: `npm run kb (${userName()})` }),
  });
  const model = config.llm
    ? (await import('../src/answer/groundedGenerator.js')).createGroundedModel(
        config.llm,
        config.answerMaxChars,
      )
    : undefined;
  const answers = new AnswerService({
    retriever: knowledge,
    maxChars: config.answerMaxChars,
    logger,
    generator: model,
    rewriter: model,
    generatorTimeoutMs: config.llm?.timeoutMs,
  });
  const user = userName();
  const actor: Actor = { id: `cli:${user}`, name: `npm run kb (${user})` };
  const kb = new KnowledgeConsole({
    knowledgeDir: config.knowledgeDir,
    dataDir: config.dataDir,
    knowledge,
    answers,
    audit: store.audit,
    logger,
    uploadMaxBytes: config.kb.uploadMaxBytes,
    maxMessageChars: config.maxMessageChars,
    answerMaxChars: config.answerMaxChars,
    evalAfterIndex: !values['skip-eval'],
    source: 'npm run kb',
    background: false,
  });
  const changed = async () => {
    await kb.idle();
    const version = kb.job.snapshot().lastVersion;
    if (values.json) return;
    console.log(jobLine(kb));
    const line = evalLine(kb.evals.list(), version);
    if (line) console.log(line);
  };
  try {
    switch (command) {
      case 'list': {
        const r = kb.documents();
        if (values.json) return (out(r), 0);
        console.log(`Chỉ mục hiện hành: ${r.version ?? '(chưa có)'} · ${r.documents.length} tài liệu\n`);
        table([
          ['TÀI LIỆU', 'LOẠI', 'ĐOẠN', 'CHỈ MỤC', 'CẬP NHẬT', 'TIÊU ĐỀ'],
          ...r.documents.map((d) => [
            d.id,
            d.kind,
            String(d.chunks),
            d.error ? 'lỗi' : d.kind === 'flow' ? '-' : d.indexed ? 'có' : 'chưa',
            d.updated ?? '',
            d.title,
          ]),
        ]);
        if (r.retired.length) {
          console.log(`\nĐã gỡ (${r.retired.length}):`);
          for (const d of r.retired) console.log(`  ${d.id}  ${d.retiredAt?.slice(0, 10) ?? ''}  ${d.title}`);
        }
        return 0;
      }
      case 'show': {
        if (!args[0]) break;
        requireDocument(config.knowledgeDir, args[0]); // a wrong id fails before the index loads
        await knowledge.start();
        const r = await kb.document(args[0]);
        if (values.json) return (out(r), 0);
        const d = r.document;
        console.log(
          `${d.title}\n${d.id} · ${d.kind} · ${d.format} · cập nhật ${d.updated ?? '?'} · ${d.owner ?? ''}`,
        );
        console.log(
          `${r.chunks.length} đoạn (${r.chunksFrom === 'index' ? `trong chỉ mục ${kb.currentVersion()}` : r.chunksFrom === 'file' ? 'xem trước từ tệp, chưa lập chỉ mục' : 'không có'})`,
        );
        if (d.error) console.log(`Lỗi: ${d.error}`);
        r.chunks.forEach((c, i) => {
          console.log(`\n── ${i + 1}. ${c.headingPath.join(' › ') || '(đầu tài liệu)'}  [${c.id}]`);
          console.log(c.text);
        });
        return 0;
      }
      case 'add': {
        const file = args[0];
        if (!file) break;
        if (!fs.existsSync(file)) throw new ConsoleError(400, 'BadArgument', `không có tệp ${file}`);
        const r = await kb.upload(actor, {
          filename: path.basename(file),
          contentBase64: fs.readFileSync(file).toString('base64'),
          kind: values.kind,
          title: values.title,
          topic: values.topic,
          owner: values.owner,
        });
        if (!values.json) console.log(`Đã thêm ${r.document.id} ("${r.document.title}"); đang lập chỉ mục…`);
        await changed();
        if (values.json) out({ ...r, job: kb.job.snapshot() });
        return kb.job.snapshot().lastError ? 1 : 0;
      }
      case 'retire': {
        if (!args[0]) break;
        const r = await kb.retire(actor, args[0], values.reason);
        if (!values.json) console.log(`Đã gỡ ${r.id} → ${r.retiredTo}; đang lập chỉ mục…`);
        await changed();
        if (values.json) out({ ...r, job: kb.job.snapshot() });
        return kb.job.snapshot().lastError ? 1 : 0;
      }
      case 'reindex': {
        await kb.reindex(actor);
        if (!values.json) console.log('Đang lập chỉ mục…');
        await changed();
        if (values.json) out({ job: kb.job.snapshot() });
        return kb.job.snapshot().lastError ? 1 : 0;
      }
      case 'rollback': {
        await knowledge.syncFromCluster(); // with DATABASE_URL: from the cluster's current version
        const r = await kb.rollback(actor, args[0]);
        if (values.json) return (out(r), 0);
        console.log(`Đã quay lại phiên bản ${r.current} (trước đó: ${r.rolledBackFrom ?? '-'}).`);
        return 0;
      }
      case 'versions': {
        await knowledge.syncFromCluster();
        const r = kb.versionList();
        if (values.json) return (out(r), 0);
        table([
          ['', 'PHIÊN BẢN', 'TẠO LÚC', 'TÀI LIỆU', 'ĐOẠN', 'R@1', 'R@5', 'MRR', 'TRẢ LỜI', 'TỪ CHỐI'],
          ...r.versions.map((v) => [
            v.current ? '*' : '',
            v.version,
            v.createdAt?.replace('T', ' ').slice(0, 19) ?? '',
            String(v.documentCount),
            String(v.chunkCount),
            pct(v.eval?.recallAt1),
            pct(v.eval?.recallAt5),
            pct(v.eval?.mrr),
            pct(v.eval?.answeredInScope),
            pct(v.eval?.outOfScopeRejected),
          ]),
        ]);
        console.log(`\n* hiện hành; quay lại được: ${r.previous ?? '(không có)'}`);
        return 0;
      }
      case 'hit': {
        const q = args.join(' ');
        if (!q.trim()) break;
        await knowledge.start();
        const r = await kb.hit(q, values.k);
        if (values.json) return (out(r), 0);
        console.log(`Chỉ mục ${r.version}`);
        console.log(`Chuẩn hoá:  ${r.normalized}`);
        console.log(`Bỏ dấu:     ${r.folded}`);
        for (const e of r.expansions) console.log(`Mở rộng:    ${e.matched} → ${e.added.join(', ')}`);
        for (const leg of ['lexical', 'vector', 'faq'] as const) {
          console.log(`\n${leg} (${r.legs[leg].length})`);
          for (const h of r.legs[leg].slice(0, 5)) {
            console.log(
              `  ${String(h.rank).padStart(2)}. ${h.score.toFixed(3).padStart(7)}  ${h.docId} › ${h.headingPath.join(' › ')}`,
            );
          }
        }
        console.log('\nXếp hạng gộp');
        for (const h of r.fused) {
          const ranks = Object.entries(h.ranks)
            .map(([k, v]) => `${k}#${v}`)
            .join(' ');
          console.log(
            `  ${String(h.rank).padStart(2)}. ${h.docId} › ${h.headingPath.join(' › ')}  (${ranks})`,
          );
        }
        console.log(
          `\nĐộ tin cậy ${r.confidence.toFixed(3)} (ngưỡng ${r.threshold}) → ${r.answer.answered ? 'trả lời' : 'không trả lời'}`,
        );
        console.log(`\n${r.answer.text}`);
        return 0;
      }
      case 'expect': {
        const [q, docId] = args;
        if (!q || !docId) break;
        const r = await kb.expected(actor, q, docId);
        if (values.json) return (out(r), 0);
        console.log(
          r.duplicate
            ? `Đã có trong bộ câu hỏi đánh giá (${r.file}).`
            : `Đã thêm vào ${r.file}: "${r.added.q}" → ${docId}`,
        );
        return 0;
      }
      case 'eval': {
        await knowledge.start();
        const index = knowledge.current!;
        const m = await kb.evals.run(index);
        if (values.json) return (out(m), 0);
        console.log(evalLine(kb.evals.list(), m.version));
        return 0;
      }
      default:
        break;
    }
    console.error(USAGE);
    return 2;
  } catch (err) {
    if (err instanceof ConsoleError) {
      console.error(`Lỗi: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await kb.auditIdle(); // the background re-index's entries (kb.indexed)
    kb.stop();
    knowledge.stop();
    await db.close();
  }
}

process.exitCode = await main();
