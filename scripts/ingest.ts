/**
 * npm run ingest: reads knowledge/, builds a new index version under DATA_DIR/index and switches
 * to it atomically. A running service picks the new version up within a few seconds, no restart.
 */
import { createEmbeddings } from '../src/retrieval/embeddingsFactory.js';
import { buildIndex } from '../src/retrieval/indexBuilder.js';
import { cliSetup } from './cli.js';

const { config } = cliSetup();
const { embeddings, id } = createEmbeddings(config);
const tty = Boolean(process.stdout.isTTY);

const manifest = await buildIndex({
  knowledgeDir: config.knowledgeDir,
  dataDir: config.dataDir,
  embeddings,
  embedderId: id,
  onProgress: (done, total, file) => {
    if (tty && total) process.stdout.write(`\r\x1b[K[${done}/${total}] ${file}`);
  },
});
if (tty) process.stdout.write('\r\x1b[K');
for (const s of manifest.skipped) console.log(`Bỏ qua (không đọc được): ${s.file} — ${s.error}`);
console.log(
  `Đã tạo phiên bản chỉ mục ${manifest.version}: ${manifest.documents.length} tài liệu, ${manifest.chunkCount} đoạn, ` +
    `${manifest.faqQuestionCount} câu hỏi FAQ, ${manifest.skipped.length} tệp bị bỏ qua, ${manifest.reusedVectors} vector dùng lại, ${manifest.seconds} giây (embedder ${id}).`,
);
