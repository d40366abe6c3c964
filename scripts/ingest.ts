/**
 * npm run ingest: reads knowledge/, builds a new index version under DATA_DIR/index and switches
 * to it atomically. A running service picks the new version up within a few seconds, no restart.
 * With DATABASE_URL (replicas sharing PostgreSQL) the version is built under the cluster-wide build
 * lock and published: every replica downloads and loads it within seconds.
 */
import os from 'node:os';
import { createEmbeddings } from '../src/retrieval/embeddingsFactory.js';
import { buildIndex, type IndexManifest } from '../src/retrieval/indexBuilder.js';
import { IndexPublisher } from '../src/retrieval/indexPublisher.js';
import { IndexVersions } from '../src/retrieval/indexVersions.js';
import { loadIndexVersion } from '../src/retrieval/knowledgeIndex.js';
import { PgDb } from '../src/storage/sql/index.js';
import { cliSetup } from './cli.js';

const { config, logger } = cliSetup();
const { embeddings, id } = createEmbeddings(config);
const tty = Boolean(process.stdout.isTTY);
const versions = new IndexVersions(config.dataDir);

const build = (version?: string): Promise<IndexManifest> =>
  buildIndex({
    knowledgeDir: config.knowledgeDir,
    dataDir: config.dataDir,
    embeddings,
    embedderId: id,
    version,
    onProgress: (done, total, file) => {
      if (tty && total) process.stdout.write(`\r\x1b[K[${done}/${total}] ${file}`);
    },
  });

let manifest: IndexManifest;
if (config.database) {
  const sql = new PgDb({ url: config.database.url, poolMax: 2, logger });
  const publisher = new IndexPublisher(sql, {
    logger,
    instance: `npm run ingest (${os.userInfo().username})`,
  });
  try {
    manifest = await publisher.withBuildLock(async () => {
      const taken = new Set((await publisher.versions()).map((v) => v.version));
      const built = await build(versions.newVersionName(new Date(), taken));
      // Never publish a version that does not load.
      await loadIndexVersion(versions.dir(built.version), embeddings);
      await publisher.publish(versions.dir(built.version), built);
      return built;
    });
  } finally {
    await sql.close();
  }
} else {
  manifest = await build();
}
if (tty) process.stdout.write('\r\x1b[K');
for (const s of manifest.skipped) console.log(`Bỏ qua (không đọc được): ${s.file} — ${s.error}`);
console.log(
  `Đã tạo phiên bản chỉ mục ${manifest.version}: ${manifest.documents.length} tài liệu, ${manifest.chunkCount} đoạn, ` +
    `${manifest.faqQuestionCount} câu hỏi FAQ, ${manifest.skipped.length} tệp bị bỏ qua, ${manifest.reusedVectors} vector dùng lại, ${manifest.seconds} giây (embedder ${id}).`,
);
if (config.database)
  console.log('Đã phát hành cho mọi máy chủ (PostgreSQL); các máy chủ tự nạp trong vài giây.');
