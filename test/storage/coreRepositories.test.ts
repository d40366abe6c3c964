import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConversationStore } from '../../src/channels/directline/conversationStore.js';
import { SqlFeedbackStore } from '../../src/feedback/feedbackStore.js';
import { SqlRateLimitStore, SqlRateLimits } from '../../src/http/sqlRateLimit.js';
import { applyMigrations, openDatabase } from '../../src/storage/database.js';
import { SettingsStore } from '../../src/storage/settings.js';
import { openSqlDb, type SqlDb } from '../../src/storage/sql/index.js';
import { ETagConflictError, SqlStorage } from '../../src/storage/sqlStorage.js';
import { SqlUnansweredLog } from '../../src/unanswered/sqlUnansweredLog.js';
import { createTestDatabase, postgresAvailable } from '../helpers/postgres.js';

/**
 * The core repositories (bot state, settings, Direct Line, feedback, questions, rate limits) on both
 * backends. `open()` gives another handle on the same store: another replica on PostgreSQL.
 */
interface Store {
  open(): Promise<SqlDb>;
  cleanup(): Promise<void>;
}

const backends: { name: string; setup(): Promise<Store> }[] = [
  {
    name: 'sqlite',
    async setup() {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-repos-'));
      return {
        open: () => openSqlDb({ dataDir }),
        cleanup: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
      };
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

const quiet = { warn: () => undefined, info: () => undefined };

describe.each(backends)('core repositories on $name', (backend) => {
  const opened: SqlDb[] = [];
  let store: Store | undefined;
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close().catch(() => undefined);
    await store?.cleanup();
    store = undefined;
  });
  /** Two handles (replicas) on one fresh store. */
  const replicas = async (): Promise<[SqlDb, SqlDb]> => {
    store = await backend.setup();
    const a = await store.open();
    const b = await store.open();
    opened.push(a, b);
    return [a, b];
  };

  describe('bot state (SqlStorage)', () => {
    it('has MemoryStorage semantics: "*" or no eTag overwrites, a stale eTag is refused', async () => {
      const [db] = await replicas();
      const s = new SqlStorage(db);
      await s.migrate();
      await s.write({ k: { n: 1 } });
      const first = (await s.read(['k'])).k as { n: number; eTag: string };
      expect(first.n).toBe(1);
      expect(first.eTag).toBeTruthy();
      await s.write({ k: { n: 2, eTag: first.eTag } });
      const second = (await s.read(['k'])).k as { n: number; eTag: string };
      expect(second).toMatchObject({ n: 2 });
      expect(second.eTag).not.toBe(first.eTag);
      await expect(s.write({ k: { n: 3, eTag: first.eTag } })).rejects.toBeInstanceOf(ETagConflictError);
      await s.write({ k: { n: 4, eTag: '*' } });
      await s.write({ k: { n: 5 } });
      expect((await s.read(['k', 'missing'])).k).toMatchObject({ n: 5 });
      expect(Object.keys(await s.read(['k', 'missing']))).toEqual(['k']);
      // A key that does not exist is written whatever eTag comes with it (as MemoryStorage does).
      await s.write({ fresh: { n: 1, eTag: 'whatever' } });
      expect((await s.read(['fresh'])).fresh).toMatchObject({ n: 1 });
      await s.delete(['k', 'fresh']);
      expect(await s.read(['k', 'fresh'])).toEqual({});
    });

    it('lets exactly one of two replicas writing with the same eTag win', async () => {
      const [a, b] = await replicas();
      const sa = new SqlStorage(a);
      const sb = new SqlStorage(b);
      await Promise.all([sa.migrate(), sb.migrate()]);
      for (let round = 0; round < 20; round++) {
        const key = `conv/${round}`;
        await sa.write({ [key]: { v: 'initial' } });
        const { eTag } = (await sb.read([key]))[key] as { eTag: string };
        const results = await Promise.allSettled([
          sa.write({ [key]: { v: 'a', eTag } }),
          sb.write({ [key]: { v: 'b', eTag } }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(refused.reason).toBeInstanceOf(ETagConflictError);
        const winner = results[0]!.status === 'fulfilled' ? 'a' : 'b';
        expect((await sa.read([key]))[key]).toMatchObject({ v: winner });
      }
    });

    it('lets exactly one of two replicas create a new key with an expected eTag', async () => {
      const [a, b] = await replicas();
      const sa = new SqlStorage(a);
      const sb = new SqlStorage(b);
      await sa.migrate();
      for (let round = 0; round < 10; round++) {
        const key = `new/${round}`;
        const results = await Promise.allSettled([
          sa.write({ [key]: { v: 'a', eTag: 'e1' } }),
          sb.write({ [key]: { v: 'b', eTag: 'e1' } }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      }
    });
  });

  it('settings: replicas generating a secret at once all end with the one stored', async () => {
    const [a, b] = await replicas();
    await new SettingsStore(a).migrate();
    const stores = [a, b, a, b].map((db) => new SettingsStore(db));
    const secrets = await Promise.all(stores.map((s) => s.secret('directline.tokenSecret')));
    expect(new Set(secrets).size).toBe(1);
    expect(await new SettingsStore(b).get('directline.tokenSecret')).toBe(secrets[0]);
    await new SettingsStore(a).set('x', '1');
    await new SettingsStore(b).set('x', '2');
    expect(await new SettingsStore(a).get('x')).toBe('2');
  });

  describe('Direct Line conversations (ConversationStore)', () => {
    it('gives concurrent appends from two replicas distinct, gapless sequence numbers in commit order', async () => {
      const [a, b] = await replicas();
      const sa = new ConversationStore(a);
      const sb = new ConversationStore(b);
      await Promise.all([sa.migrate(), sb.migrate()]);
      await sa.create('c1', 'u1');
      const appended = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? sa : sb).append('c1', { type: 'message', text: `m${i}` }),
        ),
      );
      const seqs = appended.map((x) => Number(x.id.split('|')[1])).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      const page = await sb.since('c1', 0);
      expect(page.activities).toHaveLength(40);
      expect(page.watermark).toBe('40');
      expect((await sa.since('c1', 38)).activities.map((x) => (x as { id: string }).id)).toEqual([
        'c1|0000039',
        'c1|0000040',
      ]);
      expect(await sa.since('c1', 40)).toEqual({ activities: [], watermark: '40' });
      expect(await sa.hasActivity('c1', 'c1|0000007')).toBe(true);
      expect(await sa.hasActivity('c1', 'c1|0000099')).toBe(false);
      expect(await sa.latest('c1')).toBe(40);
      await expect(sa.append('nope', { type: 'message' })).rejects.toThrow(/unknown/);
    });

    it('starts a conversation once, whichever replica asks', async () => {
      const [a, b] = await replicas();
      const sa = new ConversationStore(a);
      const sb = new ConversationStore(b);
      await sa.migrate();
      await sa.create('c2', 'u2');
      expect(await sb.get('c2')).toEqual({ id: 'c2', userId: 'u2', started: false });
      const started = await Promise.all([sa.markStarted('c2'), sb.markStarted('c2'), sa.markStarted('c2')]);
      expect(started.filter(Boolean)).toHaveLength(1);
      expect((await sa.get('c2'))!.started).toBe(true);
      expect(await sa.get('missing')).toBeUndefined();
    });

    it('gives the turn lease to one replica at a time, and back after release or expiry', async () => {
      const [a, b] = await replicas();
      const sa = new ConversationStore(a);
      const sb = new ConversationStore(b);
      await sa.migrate();
      await sa.create('c3', 'u3');
      const now = Date.now();
      const claims = await Promise.all([
        sa.claimTurn('c3', 'A', now, now + 1000),
        sb.claimTurn('c3', 'B', now, now + 1000),
      ]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      const [holder, other, otherStore] = claims[0] ? ['A', 'B', sb] : ['B', 'A', sa];
      expect(await otherStore.claimTurn('c3', other, now + 10, now + 1000)).toBe(false);
      expect(await sa.claimTurn('c3', holder, now + 10, now + 2000)).toBe(true); // renewal
      await sa.releaseTurn('c3', other); // not the holder: no effect
      expect(await otherStore.claimTurn('c3', other, now + 20, now + 1000)).toBe(false);
      await sb.releaseTurn('c3', holder);
      expect(await otherStore.claimTurn('c3', other, now + 30, now + 1000)).toBe(true);
      // Expired: anyone may take it.
      expect(await sa.claimTurn('c3', 'C', now + 5000, now + 6000)).toBe(true);
    });
  });

  it('feedback and the unanswered log store and list what they are given', async () => {
    const [a, b] = await replicas();
    const feedback = new SqlFeedbackStore(a);
    const log = new SqlUnansweredLog(b);
    await feedback.migrate();
    await log.migrate();
    const id = await feedback.record({
      answerId: 'a1',
      helpful: false,
      question: 'q',
      sources: [{ title: 't', file: 'f.md', section: 's' }],
      channel: 'directline',
      conversationId: 'c1',
    });
    await new SqlFeedbackStore(b).addReason(id, 'sai');
    expect(await new SqlFeedbackStore(b).list()).toMatchObject([
      { id, helpful: false, reason: 'sai', sources: [{ file: 'f.md' }] },
    ]);
    const announced: string[] = [];
    log.onLogged((q) => announced.push(q.id));
    const stored = await log.log({
      text: 'gà bị toi báo ai',
      channel: 'directline',
      conversationId: 'c1',
      userId: 'u1',
      reference: { conversation: { id: 'c1' } as never },
      commune: 'phường 5',
      reason: 'not_answered',
      confidence: 0.25,
      sources: [{ title: 't', file: 'f.md', score: 0.5 }],
      transcript: [{ from: 'user', text: 'gà bị toi báo ai', at: new Date().toISOString() }],
    });
    expect(announced).toEqual([stored.id]);
    const again = await new SqlUnansweredLog(a).get(stored.id);
    expect(again).toMatchObject({ commune: 'phường 5', confidence: 0.25, status: 'open' });
    expect(await log.list(10)).toHaveLength(1);
  });

  describe('rate limits (SqlRateLimits)', () => {
    it('shares one budget between replicas and renews it after the window', async () => {
      const [a, b] = await replicas();
      const la = new SqlRateLimits(a, quiet);
      const lb = new SqlRateLimits(b, quiet);
      await la.init();
      await lb.init();
      try {
        const t = 1_700_000_000_000;
        const decisions = await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 ? la : lb).consume('user:x', 4, 60_000, t)),
        );
        expect(decisions.filter((d) => d.allowed)).toHaveLength(4);
        expect(decisions.filter((d) => !d.allowed).every((d) => d.retryAfterSeconds === 60)).toBe(true);
        expect((await la.consume('user:y', 4, 60_000, t + 10)).allowed).toBe(true); // another key
        const later = await lb.consume('user:x', 4, 60_000, t + 30_000);
        expect(later).toEqual({ allowed: false, retryAfterSeconds: 30 });
        expect((await la.consume('user:x', 4, 60_000, t + 60_000)).allowed).toBe(true); // new window
        expect(await la.sweep(t + 60_000 + 11 * 60_000)).toBe(2);
      } finally {
        la.stop();
        lb.stop();
      }
    });

    it('keeps counting a client-chosen key with a NUL byte or of any length (no store error)', async () => {
      const [db] = await replicas();
      const warnings: string[] = [];
      const limits = new SqlRateLimits(db, { warn: (_o, m) => warnings.push(m), info: () => undefined });
      await limits.init();
      limits.stop();
      const store = new SqlRateLimitStore(limits, 'bot_user', 1, 60_000);
      for (const key of ['user\u0000x', 'u'.repeat(5000)]) {
        expect((await store.consume(key)).allowed).toBe(true);
        expect((await store.consume(key)).allowed).toBe(false);
      }
      expect(warnings).toEqual([]);
    });

    it('fails open, logging once, when the store cannot answer', async () => {
      const [db] = await replicas();
      const warnings: string[] = [];
      const limits = new SqlRateLimits(db, { warn: (_o, m) => warnings.push(m), info: () => undefined });
      await limits.init();
      limits.stop();
      await db.close();
      for (let i = 0; i < 5; i++) {
        expect(await limits.consume('k', 1, 60_000)).toEqual({ allowed: true, retryAfterSeconds: 0 });
      }
      expect(warnings).toHaveLength(1);
    });
  });
});

describe('upgrading an existing SQLite DATA_DIR', () => {
  it('keeps the migrations the synchronous repositories applied and adds the new ones', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-upgrade-'));
    try {
      // What the synchronous ConversationStore created, with a conversation of three activities.
      const raw = openDatabase(dataDir);
      applyMigrations(raw, [
        {
          id: 'directline/1',
          sql: `CREATE TABLE dl_conversations (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
              started INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
            CREATE TABLE dl_activities (conversation_id TEXT NOT NULL REFERENCES dl_conversations(id) ON DELETE CASCADE,
              seq INTEGER NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (conversation_id, seq));
            CREATE UNIQUE INDEX dl_activities_id ON dl_activities (id);`,
        },
        {
          id: 'bot_state/1',
          sql: `CREATE TABLE bot_state (key TEXT PRIMARY KEY, etag TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL)`,
        },
      ]);
      raw.prepare("INSERT INTO dl_conversations VALUES ('old', 'u', 1, 'x', 'x')").run();
      for (const seq of [1, 2, 3]) {
        raw
          .prepare('INSERT INTO dl_activities VALUES (?, ?, ?, ?)')
          .run('old', seq, `old|000000${seq}`, JSON.stringify({ id: `old|000000${seq}` }));
      }
      raw.prepare("INSERT INTO bot_state VALUES ('k', 'e', '{\"n\":1}', 'x')").run();
      raw.close();

      const db = await openSqlDb({ dataDir });
      try {
        const conversations = new ConversationStore(db);
        await conversations.migrate();
        const next = await conversations.append('old', { type: 'message' });
        expect(next.id).toBe('old|0000004');
        const storage = new SqlStorage(db);
        await storage.migrate();
        expect(await storage.read(['k'])).toEqual({ k: { n: 1, eTag: 'e' } });
      } finally {
        await db.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
