import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/storage/database.js';
import {
  PgDb,
  SqlError,
  SqliteDb,
  forUpdate,
  isUniqueViolation,
  openSqlDb,
  toPgPlaceholders,
  type SqlDb,
  type SqlMigration,
} from '../../src/storage/sql/index.js';
import { createTestDatabase, postgresAvailable } from '../helpers/postgres.js';

/** A fresh store; open() gives another handle on it — another replica for PostgreSQL. */
interface Store {
  url?: string;
  open(): Promise<SqlDb>;
  cleanup(): Promise<void>;
}

interface Backend {
  name: 'sqlite' | 'postgres';
  setup(): Promise<Store>;
}

const sqlite: Backend = {
  name: 'sqlite',
  async setup() {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqldb-'));
    return {
      open: () => openSqlDb({ dataDir }),
      async cleanup() {
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

const postgres: Backend = {
  name: 'postgres',
  async setup() {
    const database = await createTestDatabase();
    return {
      url: database.url,
      open: () => openSqlDb({ dataDir: '/nonexistent', databaseUrl: database.url }),
      cleanup: () => database.drop(),
    };
  },
};

const backends: Backend[] = [sqlite];
if (postgresAvailable()) backends.push(postgres);

/** The tables of these tests, in both dialects. */
const SCHEMA: SqlMigration[] = [
  {
    id: 'test_items/1',
    sqlite: `CREATE TABLE items (id TEXT PRIMARY KEY, name TEXT NOT NULL, note TEXT, created_at TEXT);
             CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL, etag TEXT);`,
    postgres: `CREATE TABLE items (id TEXT PRIMARY KEY, name TEXT NOT NULL, note TEXT, created_at TEXT);
               CREATE TABLE counters (name TEXT PRIMARY KEY, n BIGINT NOT NULL, etag TEXT);`,
  },
  {
    id: 'test_nums/1',
    sqlite: `CREATE TABLE nums (id TEXT PRIMARY KEY, big INTEGER, flag INTEGER NOT NULL DEFAULT 0)`,
    postgres: `CREATE TABLE nums (id TEXT PRIMARY KEY, big BIGINT, flag INTEGER NOT NULL DEFAULT 0)`,
  },
  {
    id: 'test_log/1',
    sqlite: `CREATE TABLE log (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL)`,
    postgres: `CREATE TABLE log (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT NOT NULL)`,
  },
];

async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await sleep(10);
  }
}

describe('toPgPlaceholders', () => {
  it('numbers the placeholders in order', () => {
    expect(toPgPlaceholders('SELECT * FROM t WHERE a = ? AND b IN (?, ?)')).toBe(
      'SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)',
    );
  });

  it('leaves string literals, identifiers, comments and dollar quotes alone', () => {
    expect(toPgPlaceholders(`SELECT 'a?''?b', "c?" FROM t WHERE x = ? -- why?\nAND y = ?`)).toBe(
      `SELECT 'a?''?b', "c?" FROM t WHERE x = $1 -- why?\nAND y = $2`,
    );
    expect(toPgPlaceholders('SELECT /* ? /* ? */ ? */ ?, $$?$$, $tag$ ? $tag$, ?')).toBe(
      'SELECT /* ? /* ? */ ? */ $1, $$?$$, $tag$ ? $tag$, $2',
    );
    expect(toPgPlaceholders('SELECT 1')).toBe('SELECT 1');
  });
});

describe.each(backends)('SqlDb on $name', (backend) => {
  let store: Store;
  let db: SqlDb;
  let others: SqlDb[];

  beforeEach(async () => {
    store = await backend.setup();
    db = await store.open();
    others = [];
    await db.migrate(SCHEMA);
  });

  afterEach(async () => {
    for (const other of others) await other.close();
    await db.close();
    await store.cleanup();
  });

  /** Another handle on the same store: for PostgreSQL, what another replica would hold. */
  async function replica(): Promise<SqlDb> {
    const other = await store.open();
    others.push(other);
    return other;
  }

  it('reports its dialect', () => {
    expect(db.dialect).toBe(backend.name);
  });

  it('inserts, reads, updates and deletes', async () => {
    const now = new Date().toISOString();
    expect(
      await db.run('INSERT INTO items (id, name, created_at) VALUES (?, ?, ?)', ['a', 'Ánh', now]),
    ).toEqual({
      changes: 1,
    });
    await db.run('INSERT INTO items (id, name, created_at) VALUES (?, ?, ?)', ['b', 'Bình', now]);
    expect(await db.get('SELECT id, name, note, created_at FROM items WHERE id = ?', ['a'])).toEqual({
      id: 'a',
      name: 'Ánh',
      note: null,
      created_at: now,
    });
    expect(await db.get('SELECT id FROM items WHERE id = ?', ['zz'])).toBeUndefined();
    expect(await db.all<{ id: string }>('SELECT id FROM items ORDER BY id')).toEqual([
      { id: 'a' },
      { id: 'b' },
    ]);
    expect(await db.run('UPDATE items SET note = ? WHERE id IN (?, ?)', ['x', 'a', 'b'])).toEqual({
      changes: 2,
    });
    expect(await db.run('UPDATE items SET note = ? WHERE id = ?', ['x', 'zz'])).toEqual({ changes: 0 });
    expect(await db.run('DELETE FROM items WHERE id = ?', ['a'])).toEqual({ changes: 1 });
    expect(await db.all('SELECT id FROM items')).toEqual([{ id: 'b' }]);
    expect(await db.all('DELETE FROM items WHERE id = ?', ['b'])).toEqual([]);
  });

  it('stores text with a NUL character the same way on both backends, and finds nothing for it', async () => {
    await db.run('INSERT INTO items (id, name) VALUES (?, ?)', ['n', 'a\u0000b']);
    expect(await db.get('SELECT name FROM items WHERE id = ?', ['n'])).toEqual({ name: 'a\uFFFDb' });
    expect(await db.get('SELECT id FROM items WHERE id = ?', ['\u0000'])).toBeUndefined();
  });

  it("rewrites placeholders but not a '?' inside literals or comments", async () => {
    await db.run(`INSERT INTO items (id, name, note) VALUES (?, 'why? it''s -- not a comment', ?)`, [
      'a',
      'n?',
    ]);
    const row = await db.get(
      `SELECT name, note /* ? */ FROM items -- a ? here
       WHERE id = ? AND name <> '?'`,
      ['a'],
    );
    expect(row).toEqual({ name: "why? it's -- not a comment", note: 'n?' });
  });

  it('takes LIMIT and OFFSET as parameters and keeps quoted alias case', async () => {
    for (const id of ['a', 'b', 'c', 'd']) {
      await db.run('INSERT INTO items (id, name, created_at) VALUES (?, ?, ?)', [
        id,
        id,
        '2024-01-01T00:00:00.000Z',
      ]);
    }
    const rows = await db.all(
      'SELECT id, created_at AS "createdAt" FROM items ORDER BY id LIMIT ? OFFSET ?',
      [2, 1],
    );
    expect(rows).toEqual([
      { id: 'b', createdAt: '2024-01-01T00:00:00.000Z' },
      { id: 'c', createdAt: '2024-01-01T00:00:00.000Z' },
    ]);
  });

  it('upserts with ON CONFLICT and reports changes', async () => {
    const upsert = `INSERT INTO counters (name, n) VALUES (?, ?)
      ON CONFLICT (name) DO UPDATE SET n = counters.n + excluded.n`;
    expect(await db.run(upsert, ['c', 1])).toEqual({ changes: 1 });
    expect(await db.run(upsert, ['c', 2])).toEqual({ changes: 1 });
    expect(await db.get('SELECT n FROM counters WHERE name = ?', ['c'])).toEqual({ n: 3 });
    const ignore = 'INSERT INTO counters (name, n) VALUES (?, ?) ON CONFLICT (name) DO NOTHING';
    expect(await db.run(ignore, ['c', 9])).toEqual({ changes: 0 });
    expect(await db.run(ignore, ['d', 9])).toEqual({ changes: 1 });
  });

  it('returns generated ids with RETURNING, through get and run', async () => {
    const first = await db.get<{ id: number }>('INSERT INTO log (v) VALUES (?) RETURNING id', ['one']);
    const second = await db.get<{ id: number }>('INSERT INTO log (v) VALUES (?) RETURNING id', ['two']);
    expect(typeof first!.id).toBe('number');
    expect(second!.id).toBeGreaterThan(first!.id);
    expect(await db.run('UPDATE log SET v = ? RETURNING id', ['x'])).toEqual({ changes: 2 });
  });

  it('returns numbers for COUNT, SUM, AVG and BIGINT, and 1/0 for booleans', async () => {
    const big = 2 ** 40 + 1;
    await db.run('INSERT INTO nums (id, big, flag) VALUES (?, ?, ?)', ['a', big, true]);
    await db.run('INSERT INTO nums (id, big, flag) VALUES (?, ?, ?)', ['b', 1, false]);
    await db.run('INSERT INTO nums (id, big) VALUES (?, ?)', ['c', undefined]);
    expect(await db.get('SELECT big, flag FROM nums WHERE id = ?', ['a'])).toEqual({ big, flag: 1 });
    expect(await db.get('SELECT big, flag FROM nums WHERE id = ?', ['b'])).toEqual({ big: 1, flag: 0 });
    expect(await db.get('SELECT big FROM nums WHERE id = ?', ['c'])).toEqual({ big: null });
    expect(await db.get('SELECT COUNT(*) AS n FROM nums')).toEqual({ n: 3 });
    expect(await db.get('SELECT COUNT(*) AS n FROM nums WHERE flag = ?', [true])).toEqual({ n: 1 });
    expect(await db.get('SELECT SUM(big) AS s, AVG(flag) AS a FROM nums')).toEqual({ s: big + 1, a: 1 / 3 });
    const e = await db.get('SELECT EXISTS (SELECT 1 FROM nums WHERE id = ?) AS yes, 1 = 2 AS no', ['a']);
    expect(e).toEqual({ yes: 1, no: 0 });
  });

  it('refuses objects as parameters and stores a Date as its ISO string', async () => {
    await expect(db.run('INSERT INTO items (id, name) VALUES (?, ?)', ['a', { x: 1 }])).rejects.toThrow(
      /JSON/,
    );
    const when = new Date('2024-05-06T07:08:09.010Z');
    await db.run('INSERT INTO items (id, name, created_at) VALUES (?, ?, ?)', ['a', 'n', when]);
    expect(await db.get('SELECT created_at FROM items')).toEqual({ created_at: when.toISOString() });
  });

  it('reports a duplicate key as a SqlError of kind unique, without the parameters', async () => {
    await db.run('INSERT INTO items (id, name) VALUES (?, ?)', ['0912345678', 'a']);
    const err = await db.run('INSERT INTO items (id, name)\nVALUES (?, ?)', ['0912345678', 'b']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SqlError);
    expect(isUniqueViolation(err)).toBe(true);
    expect((err as SqlError).message).toContain('(in: INSERT INTO items (id, name))');
    expect((err as SqlError).message).not.toContain('0912345678');
    await expect(db.get('SELECT nope FROM items')).rejects.toThrow(/SELECT nope FROM items/);
  });

  it('commits a transaction and rolls it back on throw', async () => {
    const result = await db.transaction(async (tx) => {
      await tx.run('INSERT INTO items (id, name) VALUES (?, ?)', ['a', 'kept']);
      return (await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM items'))!.n;
    });
    expect(result).toBe(1);
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO items (id, name) VALUES (?, ?)', ['b', 'lost']);
        await tx.run('UPDATE items SET name = ? WHERE id = ?', ['changed', 'a']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.all('SELECT id, name FROM items')).toEqual([{ id: 'a', name: 'kept' }]);
  });

  it('rolls back a failed nested transaction only (SAVEPOINT)', async () => {
    await db.transaction(async (tx) => {
      await tx.run('INSERT INTO items (id, name) VALUES (?, ?)', ['a', 'outer']);
      await expect(
        tx.transaction(async (inner) => {
          await inner.run('INSERT INTO items (id, name) VALUES (?, ?)', ['b', 'inner']);
          await inner.run('INSERT INTO items (id, name) VALUES (?, ?)', ['a', 'duplicate']);
        }),
      ).rejects.toSatisfy(isUniqueViolation);
      await tx.transaction((inner) =>
        inner.run('INSERT INTO items (id, name) VALUES (?, ?)', ['c', 'inner ok']),
      );
    });
    expect(await db.all('SELECT id FROM items ORDER BY id')).toEqual([{ id: 'a' }, { id: 'c' }]);
  });

  it('keeps statements from outside out of a running transaction', async () => {
    const running = db
      .transaction(async (tx) => {
        await tx.run('INSERT INTO items (id, name) VALUES (?, ?)', ['in-tx', 'x']);
        await sleep(30);
        throw new Error('boom');
      })
      .catch((e: Error) => e.message);
    await sleep(5);
    await db.run('INSERT INTO items (id, name) VALUES (?, ?)', ['outside', 'y']);
    expect(await running).toBe('boom');
    expect(await db.all('SELECT id FROM items')).toEqual([{ id: 'outside' }]);
  });

  it('refuses the outer handle inside a transaction and a finished tx handle', async () => {
    await expect(db.transaction(async () => db.get('SELECT 1 AS one'))).rejects.toThrow(
      /use the `tx` handle/,
    );
    let leaked: SqlDb | undefined;
    await db.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.get('SELECT 1 AS one')).rejects.toThrow(/already finished/);
  });

  it('runs concurrent read-modify-write transactions one at a time (FOR UPDATE on PostgreSQL)', async () => {
    await db.run('INSERT INTO counters (name, n) VALUES (?, 0)', ['c']);
    const other = await replica();
    const bump = (handle: SqlDb) =>
      handle.transaction(async (tx) => {
        const row = await tx.get<{ n: number }>(`SELECT n FROM counters WHERE name = ?${forUpdate(tx)}`, [
          'c',
        ]);
        await sleep(2);
        await tx.run('UPDATE counters SET n = ? WHERE name = ?', [row!.n + 1, 'c']);
      });
    await Promise.all(Array.from({ length: 10 }, (_, i) => bump(i % 2 ? db : other)));
    expect(await db.get('SELECT n FROM counters WHERE name = ?', ['c'])).toEqual({ n: 10 });
  });

  it('increments atomically from two replicas with a single UPDATE', async () => {
    await db.run('INSERT INTO counters (name, n) VALUES (?, 0)', ['c']);
    const other = await replica();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? db : other).run('UPDATE counters SET n = n + 1 WHERE name = ?', ['c']),
      ),
    );
    expect(await db.get('SELECT n FROM counters WHERE name = ?', ['c'])).toEqual({ n: 20 });
  });

  it('lets exactly one replica win a compare-and-set on an eTag', async () => {
    await db.run('INSERT INTO counters (name, n, etag) VALUES (?, 0, ?)', ['c', 'e0']);
    const other = await replica();
    const results = await Promise.all(
      [db, other].map((handle, i) =>
        handle.run('UPDATE counters SET n = ?, etag = ? WHERE name = ? AND etag = ?', [
          i + 1,
          `e${i + 1}`,
          'c',
          'e0',
        ]),
      ),
    );
    expect(results.map((r) => r.changes).sort()).toEqual([0, 1]);
  });

  it('lets one holder of a named lock in at a time, across replicas, also when fn throws', async () => {
    const other = await replica();
    let inside = 0;
    let most = 0;
    let runs = 0;
    const work = (handle: SqlDb, fail: boolean) =>
      handle.withLock('zalo_token', async () => {
        inside++;
        most = Math.max(most, inside);
        await sleep(5);
        inside--;
        runs++;
        if (fail) throw new Error('refresh failed');
        return runs;
      });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => work(i % 2 ? db : other, i % 3 === 0)),
    );
    expect(runs).toBe(12);
    expect(most).toBe(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(4);
    // Other names do not wait.
    let insideA = false;
    await db.withLock('a', async () => {
      insideA = true;
      await other.withLock('b', async () => expect(insideA).toBe(true));
    });
  });

  it('delivers notifications across replicas, from transactions only on commit', async () => {
    const other = await replica();
    const received: string[] = [];
    const second: string[] = [];
    const unlisten = await db.listen('team_inbox', (p) => received.push(p));
    await db.listen('team_inbox', (p) => second.push(p));
    await other.notify('team_inbox', 'Tổ công nghệ số: câu hỏi mới');
    await waitFor(() => received.length === 1 && second.length === 1);
    expect(received).toEqual(['Tổ công nghệ số: câu hỏi mới']);

    await other.transaction(async (tx) => {
      await tx.notify('team_inbox', 'committed');
    });
    await other
      .transaction(async (tx) => {
        await tx.notify('team_inbox', 'rolled back');
        throw new Error('boom');
      })
      .catch(() => {});
    await other.notify('team_inbox', 'marker');
    await waitFor(() => received.includes('marker'));
    expect(received).toEqual(['Tổ công nghệ số: câu hỏi mới', 'committed', 'marker']);

    await unlisten();
    await other.notify('team_inbox', 'after');
    await waitFor(() => second.includes('after'));
    expect(received).not.toContain('after');
  });

  it('validates channel names and payload sizes', async () => {
    await expect(db.notify('Bad-Name', 'x')).rejects.toThrow(/channel/);
    await expect(db.listen('x"; DROP TABLE items; --', () => {})).rejects.toThrow(/channel/);
    await expect(db.notify('ok', 'x'.repeat(7 * 1024 + 1))).rejects.toThrow(/exceeds/);
    await expect(db.notify('ok', 'x'.repeat(7 * 1024))).resolves.toBeUndefined();
  });

  it('applies migrations once, also when two replicas migrate at the same time', async () => {
    const other = await replica();
    const migrations: SqlMigration[] = [
      {
        id: 'm/1',
        sqlite: `CREATE TABLE m1 (id INTEGER PRIMARY KEY, v TEXT NOT NULL); INSERT INTO m1 (v) VALUES ('seed')`,
        postgres: `CREATE TABLE m1 (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT NOT NULL);
                   INSERT INTO m1 (v) VALUES ('seed')`,
      },
      { id: 'm/2', sqlite: 'ALTER TABLE m1 ADD COLUMN w TEXT', postgres: 'ALTER TABLE m1 ADD COLUMN w TEXT' },
    ];
    await Promise.all([db.migrate(migrations), other.migrate(migrations), db.migrate(migrations)]);
    await db.migrate(migrations);
    expect(await db.all('SELECT v, w FROM m1')).toEqual([{ v: 'seed', w: null }]);
    expect(await db.get(`SELECT COUNT(*) AS n FROM schema_migrations WHERE id LIKE 'm/%'`)).toEqual({ n: 2 });
  });

  it('rolls back a failing migration entirely and does not record it', async () => {
    const bad: SqlMigration = {
      id: 'bad/1',
      sqlite: 'CREATE TABLE m3 (x INTEGER); THIS IS NOT SQL',
      postgres: 'CREATE TABLE m3 (x INTEGER); THIS IS NOT SQL',
    };
    await expect(db.migrate([bad])).rejects.toThrow(/migration bad\/1/);
    await expect(db.get('SELECT x FROM m3')).rejects.toThrow();
    expect(await db.get('SELECT id FROM schema_migrations WHERE id = ?', ['bad/1'])).toBeUndefined();
  });

  it('is writable until closed', async () => {
    expect(await db.writable()).toBe(true);
    const other = await replica();
    expect(await Promise.all([db.writable(), other.writable(), db.writable()])).toEqual([true, true, true]);
    await other.close();
    expect(await other.writable()).toBe(false);
    await expect(other.get('SELECT 1 AS one')).rejects.toThrow(/closed/);
  });
});

describe('SqliteDb specifics', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqldb-'));
  });

  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('shares schema_migrations with applyMigrations, so an existing store upgrades cleanly', async () => {
    const db = (await openSqlDb({ dataDir })) as SqliteDb;
    applyMigrations(db.raw, [{ id: 'legacy/1', sql: 'CREATE TABLE legacy (x INTEGER)' }]);
    const again = { id: 'legacy/1', sqlite: 'CREATE TABLE legacy (x INTEGER)', postgres: '' };
    await db.migrate([
      again,
      { id: 'legacy/2', sqlite: 'ALTER TABLE legacy ADD COLUMN y TEXT', postgres: '' },
    ]);
    applyMigrations(db.raw, [{ id: 'legacy/2', sql: 'ALTER TABLE legacy ADD COLUMN y TEXT' }]);
    db.raw.prepare('INSERT INTO legacy (x, y) VALUES (?, ?)').run(1, 'raw');
    expect(await db.all('SELECT x, y FROM legacy')).toEqual([{ x: 1, y: 'raw' }]);
    await db.close();
  });

  it('runs a statement at once when no transaction is open, and in order after one', async () => {
    const db = (await openSqlDb({ dataDir })) as SqliteDb;
    await db.migrate(SCHEMA);
    const order: string[] = [];
    const tx = db.transaction(async (t) => {
      await sleep(10);
      await t.run('INSERT INTO items (id, name) VALUES (?, ?)', ['t', 'tx']);
      order.push('tx');
    });
    const after = db
      .run('INSERT INTO items (id, name) VALUES (?, ?)', ['o', 'outside'])
      .then(() => order.push('run'));
    await Promise.all([tx, after]);
    expect(order).toEqual(['tx', 'run']);
    // Without a transaction the statement has already run when the promise is returned.
    void db.run('DELETE FROM items');
    expect(db.raw.prepare('SELECT COUNT(*) AS n FROM items').get()).toEqual({ n: 0 });
    await db.close();
  });

  it('does not close a connection it does not own', async () => {
    const first = (await openSqlDb({ dataDir })) as SqliteDb;
    const borrowed = new SqliteDb(first.raw, { ownsConnection: false });
    await borrowed.close();
    expect(first.raw.open).toBe(true);
    await first.close();
    expect(first.raw.open).toBe(false);
  });
});

describe.runIf(backends.some((b) => b.name === 'postgres'))('PgDb specifics', () => {
  let url: string;
  let drop: () => Promise<void>;
  const opened: PgDb[] = [];

  beforeEach(async () => {
    ({ url, drop } = await createTestDatabase());
  });

  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    await drop();
  });

  function open(options: { poolMax?: number } = {}): PgDb {
    const db = new PgDb({ url, ...options });
    opened.push(db);
    return db;
  }

  it('holds a real advisory lock while withLock runs', async () => {
    const a = open();
    const b = open();
    const advisory = `SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted`;
    await a.withLock('outbox', async () => {
      expect(await b.get(advisory)).toEqual({ n: 1 });
    });
    expect(await b.get(advisory)).toEqual({ n: 0 });
  });

  it('keeps serving queries while waiting for a lock held by another replica', async () => {
    const a = open();
    const b = open({ poolMax: 1 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holding = a.withLock('refresh', () => held);
    await sleep(50);
    const waiting = b.withLock('refresh', async () => 'got it');
    await sleep(50);
    expect(await b.get('SELECT 1 AS one')).toEqual({ one: 1 });
    release();
    expect(await waiting).toBe('got it');
    await holding;
  });

  it('re-LISTENs after its listening connection is killed', async () => {
    const a = open();
    const b = open();
    const received: string[] = [];
    let reconnects = 0;
    await a.listen('conversation', (p) => received.push(p), { onReconnect: () => reconnects++ });
    const killed = await b.all(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE application_name = 'tro-ly-cong-dan-so-listen' AND datname = current_database()`,
    );
    expect(killed).toEqual([{ ok: 1 }]);
    for (let i = 0; !received.some((p) => p.startsWith('again')); i++) {
      if (i > 100) throw new Error('no notification after reconnection');
      await b.notify('conversation', `again ${i}`);
      await sleep(100);
    }
    expect(reconnects).toBe(1);
  });

  it('masks values in data errors and rolls back what a transaction did', async () => {
    const db = open();
    await db.migrate(SCHEMA);
    const err = await db.run('INSERT INTO nums (id, big) VALUES (?, ?)', ['a', 'secret-0912345678']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SqlError);
    expect((err as SqlError).code).toBe('22P02');
    expect((err as SqlError).message).not.toContain('0912345678');
    expect((err as SqlError).message).toContain('INSERT INTO nums');
  });

  it('fails openSqlDb at once on an unreachable server', async () => {
    await expect(
      openSqlDb({ dataDir: '/nonexistent', databaseUrl: 'postgres://nobody:x@127.0.0.1:1/none' }),
    ).rejects.toMatchObject({ kind: 'connection' });
  });
});
