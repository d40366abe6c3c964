import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/logger.js';
import { HashingEmbeddings } from '../../src/retrieval/hashingEmbeddings.js';
import { createIndexPublisher, IndexPublisher } from '../../src/retrieval/indexPublisher.js';
import { IndexVersions } from '../../src/retrieval/indexVersions.js';
import { KnowledgeBase } from '../../src/retrieval/knowledgeIndex.js';
import { openSqlDb, type SqlDb } from '../../src/storage/sql/index.js';
import { copySmallKnowledge, makeTempDir, pollUntil, removeDir } from '../helpers/knowledge.js';
import { createTestDatabase, postgresAvailable } from '../helpers/postgres.js';

/**
 * Index versions published through the shared store and followed by other "replicas" (KnowledgeBases
 * with their own DATA_DIR on one store), on SQLite (one file, in-process locks and notifications) and,
 * when TEST_DATABASE_URL is set, on PostgreSQL (two connections pools, advisory locks, LISTEN/NOTIFY).
 * test/replicas/knowledge.test.ts does the same with two whole apps.
 */

class CountingEmbeddings extends HashingEmbeddings {
  embedded = 0;
  override async embedDocuments(texts: string[]): Promise<number[][]> {
    this.embedded += texts.length;
    return super.embedDocuments(texts);
  }
}

interface Store {
  /** Another handle on the same store: another replica. */
  open(): Promise<SqlDb>;
  cleanup(): Promise<void>;
}

const backends: { name: string; setup(): Promise<Store> }[] = [
  {
    name: 'sqlite',
    async setup() {
      const dir = makeTempDir('tlcds-publish-db-');
      return { open: () => openSqlDb({ dataDir: dir }), cleanup: async () => removeDir(dir) };
    },
  },
];
if (postgresAvailable()) {
  backends.push({
    name: 'postgres',
    async setup() {
      const database = await createTestDatabase();
      return {
        open: () => openSqlDb({ dataDir: '/nonexistent', databaseUrl: database.url }),
        cleanup: () => database.drop(),
      };
    },
  });
}

/** A logger whose lines are kept (JSON objects). */
function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  });
  return { logger, lines };
}

const temps: string[] = [];
afterAll(() => temps.forEach(removeDir));

describe.each(backends)('published index versions ($name)', ({ setup }) => {
  let store: Store;
  const dbs: SqlDb[] = [];
  const bases: KnowledgeBase[] = [];

  afterEach(async () => {
    for (const kb of bases.splice(0)) {
      kb.stop();
      await kb.stopped();
    }
    for (const db of dbs.splice(0)) await db.close();
    await store?.cleanup();
  });

  async function replica(knowledgeDir: string, name: string) {
    const sql = await store.open();
    dbs.push(sql);
    const { logger, lines } = capturingLogger();
    const publisher = new IndexPublisher(sql, { logger, instance: name });
    const embeddings = new CountingEmbeddings();
    const dataDir = makeTempDir(`tlcds-replica-${name}-`);
    temps.push(dataDir);
    const kb = new KnowledgeBase({
      knowledgeDir,
      dataDir,
      embeddings,
      embedderId: embeddings.modelId,
      logger,
      publisher,
      followIntervalMs: 200,
      retryDelayMs: 200,
    });
    bases.push(kb);
    return { kb, sql, publisher, embeddings, dataDir, versions: new IndexVersions(dataDir), lines };
  }

  it('builds once for the cluster, then every replica follows new versions and rollbacks', async () => {
    store = await setup();
    const knowledgeDir = copySmallKnowledge();
    temps.push(knowledgeDir);
    const a = await replica(knowledgeDir, 'a');
    const b = await replica(knowledgeDir, 'b');

    // First start of an empty cluster, both at once: one build, the other downloads it.
    await Promise.all([a.kb.start(), b.kb.start()]);
    const first = a.kb.status().version!;
    expect(b.kb.status()).toEqual({ ready: true, version: first });
    expect((await a.publisher.versions()).map((v) => v.version)).toEqual([first]);
    expect((await a.publisher.pointer())?.version).toBe(first);
    expect([a.embeddings.embedded, b.embeddings.embedded].filter((n) => n > 0)).toHaveLength(1);
    expect(a.versions.current()).toBe(first);
    expect(b.versions.current()).toBe(first);

    // A new guide, built on A, is picked up by B without restart.
    a.kb.watch(50);
    b.kb.watch(50);
    fs.writeFileSync(
      path.join(knowledgeDir, 'guides/nuoi-ong-mat.md'),
      '---\ntitle: Khai báo đàn ong mật\ntopic: khac\nupdated: 2025-01-01\nowner: Thử nghiệm\n---\n\n' +
        '# Khai báo đàn ong mật\n\nHộ nuôi ong mật báo cho cán bộ nông nghiệp của xã khi đặt thêm thùng ong mật.\n',
    );
    const second = (await a.kb.rebuild()).version;
    expect(second).not.toBe(first);
    expect(await pollUntil(() => b.kb.status().version === second, 10_000)).toBe(true);
    expect((await b.kb.retrieve('nuôi ong mật khai báo')).hits[0]!.chunk.docId).toBe(
      'guides/nuoi-ong-mat.md',
    );
    expect(b.versions.current()).toBe(second);
    expect(b.versions.list()).toEqual([second, first]);
    expect((await a.publisher.pointer())?.updatedBy).toBe('a');

    // Rollback on A (as the console does it: switch CURRENT, refresh): B goes back too.
    a.versions.switchTo(first);
    await a.kb.refresh(); // (A's own CURRENT watcher may have been quicker; same result)
    expect(a.kb.status().version).toBe(first);
    expect((await a.publisher.pointer())?.version).toBe(first);
    expect(await pollUntil(() => b.kb.status().version === first, 10_000)).toBe(true);
    expect((await b.kb.retrieve('nuôi ong mật khai báo')).hits[0]?.chunk.docId).not.toBe(
      'guides/nuoi-ong-mat.md',
    );
    expect(b.versions.current()).toBe(first);

    // A replica started later takes the cluster's version and builds nothing.
    const c = await replica(knowledgeDir, 'c');
    await c.kb.start();
    expect(c.kb.status().version).toBe(first);
    expect(c.embeddings.embedded).toBe(0);
    await c.kb.syncFromCluster(); // the versions kept for rollback come too
    expect(c.versions.list()).toEqual([second, first]);
  });

  it('keeps the loaded version when a published archive is damaged, and retries', async () => {
    store = await setup();
    const knowledgeDir = copySmallKnowledge();
    temps.push(knowledgeDir);
    const a = await replica(knowledgeDir, 'a');
    const b = await replica(knowledgeDir, 'b');
    await a.kb.start();
    await b.kb.start();
    const good = b.kb.status().version!;

    // A publishes a new version whose stored archive then gets damaged.
    const next = (await a.kb.rebuild()).version;
    const row = await a.sql.get<{ archive: Buffer }>(
      'SELECT archive FROM kb_index_versions WHERE version = ?',
      [next],
    );
    const damaged = Buffer.from(row!.archive);
    damaged[100]! ^= 0xff;
    await a.sql.run('UPDATE kb_index_versions SET archive = ? WHERE version = ?', [damaged, next]);

    b.kb.watch(50);
    expect(
      await pollUntil(() => b.lines.some((l) => /damaged/.test(String(l.msg)) && l.version === next), 10_000),
    ).toBe(true);
    expect(b.kb.status()).toEqual({ ready: true, version: good });
    expect(b.versions.current()).toBe(good);
    expect(b.versions.list()).toEqual([good]);
    expect(fs.readdirSync(b.versions.root).filter((f) => f.startsWith('.'))).toEqual([]);

    // Repaired in the store: B takes it at its next attempt.
    await a.sql.run('UPDATE kb_index_versions SET archive = ? WHERE version = ?', [row!.archive, next]);
    expect(await pollUntil(() => b.kb.status().version === next, 10_000)).toBe(true);

    // A new replica whose cluster version is damaged (and with nothing local) builds and publishes its own.
    await a.sql.run('UPDATE kb_index_versions SET archive = ? WHERE version = ?', [damaged, next]);
    const c = await replica(knowledgeDir, 'c');
    await c.kb.start();
    const own = c.kb.status().version!;
    expect(own).not.toBe(next);
    expect((await a.publisher.pointer())?.version).toBe(own);
  });

  it('moves the pointer conditionally for automatic publications', async () => {
    store = await setup();
    const knowledgeDir = copySmallKnowledge();
    temps.push(knowledgeDir);
    const a = await replica(knowledgeDir, 'a');
    await a.kb.start();
    const v1 = a.kb.status().version!;
    const v2 = (await a.kb.rebuild()).version;
    expect(await a.publisher.movePointer(v1, { expected: 'v-other' })).toBe(false);
    expect((await a.publisher.pointer())?.version).toBe(v2);
    expect(await a.publisher.movePointer(v1, { expected: v2 })).toBe(true);
    expect(await a.publisher.movePointer(v1, { expected: 'v-other' })).toBe(true); // already there
    expect(await a.publisher.movePointer(v2)).toBe(true);
    expect((await a.publisher.pointer())?.version).toBe(v2);
    // A version that was never published cannot become current.
    await expect(a.publisher.movePointer('v-never-published')).rejects.toThrow();
  });

  it('prunes published versions like local ones', async () => {
    store = await setup();
    const knowledgeDir = copySmallKnowledge();
    temps.push(knowledgeDir);
    const a = await replica(knowledgeDir, 'a');
    await a.kb.start();
    const made = [a.kb.status().version!];
    for (let i = 0; i < 4; i++) made.push((await a.kb.rebuild()).version);
    const names = async () => (await a.publisher.versions()).map((v) => v.version);
    expect(await names()).toEqual(made.slice(2).reverse());
    // Rolled back to the oldest kept: it and the one before it stay, with the newest three.
    a.versions.switchTo(made[2]!);
    await a.kb.refresh();
    made.push((await a.kb.rebuild()).version); // current again the newest
    expect(await names()).toEqual(made.slice(3).reverse());
  });
});

describe('createIndexPublisher', () => {
  it('publishes nothing on the embedded SQLite store (the local directory is the publication)', async () => {
    const dir = makeTempDir('tlcds-publish-none-');
    temps.push(dir);
    const sql = await openSqlDb({ dataDir: dir });
    try {
      const logger = createLogger({ level: 'silent', pretty: false });
      expect(createIndexPublisher(sql, { logger })).toBeUndefined();
    } finally {
      await sql.close();
    }
  });
});
