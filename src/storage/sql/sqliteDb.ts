import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { durably, isWritable, openDatabase, type Db } from '../database.js';
import { AsyncMutex, KeyedMutex, insideTransactionOf, runInScope, txScopes, type TxScope } from './mutex.js';
import {
  SqlError,
  assertChannel,
  assertPayload,
  firstLine,
  normalizeParams,
  outerHandleInTransaction,
  type ListenOptions,
  type SqlDb,
  type SqlErrorKind,
  type SqlMigration,
} from './sqlDb.js';
import { defaultLogger, type SqlLogger } from './logger.js';

type Handler = (payload: string) => void;

/**
 * What every SqliteDb on one database file in this process shares: the connection mutex (so two
 * handles on the same file serialize their transactions instead of blocking each other in
 * busy_timeout), the named locks of withLock, and the listeners of notify/listen.
 */
interface FileState {
  readonly mutex: AsyncMutex;
  readonly locks: KeyedMutex;
  readonly listeners: Map<string, Set<Handler>>;
  refs: number;
}

const files = new Map<string, FileState>();

function acquireFileState(raw: Db): { key: string | undefined; state: FileState } {
  const fresh = (): FileState => ({
    mutex: new AsyncMutex(),
    locks: new KeyedMutex(),
    listeners: new Map(),
    refs: 0,
  });
  if (raw.memory) return { key: undefined, state: fresh() };
  const key = path.resolve(raw.name);
  let state = files.get(key);
  if (!state) {
    state = fresh();
    files.set(key, state);
  }
  state.refs++;
  return { key, state };
}

const STATEMENT_CACHE_MAX = 500;

export interface SqliteDbOptions {
  /** Close the better-sqlite3 connection on close() (default true). */
  ownsConnection?: boolean;
  logger?: SqlLogger;
  /**
   * Report the outer handle used inside one of its transactions, instead of waiting for the
   * transaction forever (default true). See runInScope for its cost.
   */
  checkTransactions?: boolean;
}

/**
 * The SQLite driver: better-sqlite3 (synchronous, one connection) behind the async SqlDb interface.
 *
 * Concurrency: an async transaction keeps the one connection inside BEGIN…COMMIT across awaits, so
 * while it is open every other caller's statement would silently become part of it. A per-file FIFO
 * mutex prevents that: transaction() holds it from BEGIN to COMMIT/ROLLBACK, and a statement outside a
 * transaction runs immediately (synchronously, no queuing) when the mutex is free and otherwise waits
 * for its turn. Statements of one caller keep their order. Using the outer handle from inside the
 * transaction's callback throws instead of deadlocking.
 *
 * `raw` is the better-sqlite3 connection, for code not yet converted to SqlDb: it shares the file and
 * the connection. Synchronous code using `raw` cannot wait for the mutex; since an async transaction
 * that awaits only its `tx` calls completes within one turn of the event loop, this only matters for a
 * transaction that awaits something else (network, timers) — keep transactions to database work.
 */
export class SqliteDb implements SqlDb {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly file: FileState;
  private readonly fileKey: string | undefined;
  private readonly ownsConnection: boolean;
  private readonly checkTransactions: boolean;
  readonly logger: SqlLogger;
  private closed = false;

  constructor(
    readonly raw: Db,
    options: SqliteDbOptions = {},
  ) {
    this.ownsConnection = options.ownsConnection ?? true;
    this.checkTransactions = options.checkTransactions ?? true;
    this.logger = options.logger ?? defaultLogger;
    const { key, state } = acquireFileState(raw);
    this.fileKey = key;
    this.file = state;
  }

  // ---- synchronous core, used by this handle and by its transactions ----

  /** The cached prepared statement for this SQL text. */
  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      try {
        stmt = this.raw.prepare(sql);
      } catch (err) {
        throw wrapSqliteError(err, sql);
      }
      if (this.statements.size >= STATEMENT_CACHE_MAX) this.statements.clear();
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  allSync<T>(sql: string, params: readonly unknown[] | undefined): T[] {
    const stmt = this.prepare(sql);
    const values = normalizeParams(params);
    try {
      if (stmt.reader) return stmt.all(values) as T[];
      stmt.run(values);
      return [];
    } catch (err) {
      throw wrapSqliteError(err, sql);
    }
  }

  getSync<T>(sql: string, params: readonly unknown[] | undefined): T | undefined {
    const stmt = this.prepare(sql);
    const values = normalizeParams(params);
    try {
      if (stmt.reader) return stmt.get(values) as T | undefined;
      stmt.run(values);
      return undefined;
    } catch (err) {
      throw wrapSqliteError(err, sql);
    }
  }

  runSync(sql: string, params: readonly unknown[] | undefined): { changes: number } {
    const stmt = this.prepare(sql);
    const values = normalizeParams(params);
    try {
      return { changes: stmt.run(values).changes };
    } catch (err) {
      throw wrapSqliteError(err, sql);
    }
  }

  execSync(sql: string): void {
    try {
      this.raw.exec(sql);
    } catch (err) {
      throw wrapSqliteError(err, sql);
    }
  }

  /** Runs a synchronous unit now when the connection is free, else after the running transaction(s). */
  private schedule<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    if (!this.file.mutex.locked) {
      try {
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (insideTransactionOf(this.file.mutex)) return Promise.reject(outerHandleInTransaction());
    return this.file.mutex.runExclusive(() => {
      if (this.closed) throw closedError();
      return fn();
    });
  }

  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.schedule(() => this.allSync<T>(sql, params));
  }

  get<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T | undefined> {
    return this.schedule(() => this.getSync<T>(sql, params));
  }

  run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }> {
    return this.schedule(() => this.runSync(sql, params));
  }

  /**
   * `run`, resolved once its commit is fsync'ed, so it survives a power loss, not only a process
   * crash. For the writes a citizen is told about (a forwarded question); everything else keeps
   * synchronous=NORMAL. Not inside a transaction.
   *
   * In WAL mode the statement commits as usual and the WAL file is then fdatasync'ed on libuv's
   * thread pool, so the event loop never waits for the disk: the same guarantee as
   * synchronous=FULL (which fsyncs the WAL inside the commit), since a commit is durable once its
   * frames in the WAL are, and a checkpoint fsyncs the WAL before it copies from it. Otherwise
   * (another journal mode, an in-memory database) the statement runs with synchronous=FULL.
   */
  async runDurably(sql: string, params?: readonly unknown[]): Promise<{ changes: number }> {
    const wal = this.walFile();
    if (wal === undefined) return this.schedule(() => durably(this.raw, () => this.runSync(sql, params)));
    const result = await this.schedule(() => this.runSync(sql, params));
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(wal, 'r');
    } catch (err) {
      // No WAL any more: the last connection closed meanwhile, and closing checkpointed and
      // fsync'ed the database file.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
      throw err;
    }
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
    return result;
  }

  private walPath: string | null | undefined;

  /** The WAL file's path, or undefined when the connection does not use one. */
  private walFile(): string | undefined {
    if (this.walPath === undefined) {
      const mode = String(this.raw.pragma('journal_mode', { simple: true })).toLowerCase();
      this.walPath = !this.raw.memory && mode === 'wal' ? `${this.raw.name}-wal` : null;
    }
    return this.walPath ?? undefined;
  }

  async transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
    if (this.closed) throw closedError();
    if (insideTransactionOf(this.file.mutex)) throw outerHandleInTransaction();
    await this.file.mutex.acquire();
    try {
      if (this.closed) throw closedError();
      const scope: TxScope = { owner: this.file.mutex, done: false };
      const tx = new SqliteTx(this, scope);
      // IMMEDIATE takes the write lock at once: no SQLITE_BUSY when a read later turns into a write
      // while another process (npm run team…) writes the same file.
      this.execSync('BEGIN IMMEDIATE');
      let result: T;
      try {
        result = await runInScope(this.checkTransactions, scope, () => fn(tx));
        scope.done = true;
        this.execSync('COMMIT');
      } catch (err) {
        scope.done = true;
        if (this.raw.inTransaction) this.rollbackQuietly('ROLLBACK');
        throw err;
      }
      for (const [channel, payload] of tx.pending) this.deliver(channel, payload);
      return result;
    } finally {
      this.file.mutex.release();
    }
  }

  rollbackQuietly(sql: string): void {
    try {
      this.raw.exec(sql);
    } catch (err) {
      this.logger.warn({ err: String(err) }, `sqlite: ${sql} failed`);
    }
  }

  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    return this.file.locks.runExclusive(name, fn);
  }

  async notify(channel: string, payload: string): Promise<void> {
    assertChannel(channel);
    assertPayload(payload);
    if (this.closed) throw closedError();
    this.deliver(channel, payload);
  }

  /** Delivers asynchronously (as PostgreSQL does) and outside any transaction's async context. */
  deliver(channel: string, payload: string): void {
    const handlers = this.file.listeners.get(channel);
    if (!handlers || handlers.size === 0) return;
    const snapshot = [...handlers];
    txScopes.exit(() =>
      setImmediate(() => {
        for (const handler of snapshot) {
          try {
            handler(payload);
          } catch (err) {
            this.logger.warn({ err, channel }, 'sqlite: notification handler failed');
          }
        }
      }),
    );
  }

  async listen(channel: string, handler: Handler, _options?: ListenOptions): Promise<() => Promise<void>> {
    assertChannel(channel);
    if (this.closed) throw closedError();
    // A distinct wrapper per call, so listening twice with one function unsubscribes each separately.
    const entry: Handler = (payload) => handler(payload);
    let set = this.file.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.file.listeners.set(channel, set);
    }
    set.add(entry);
    return async () => {
      const current = this.file.listeners.get(channel);
      current?.delete(entry);
      if (current && current.size === 0) this.file.listeners.delete(channel);
    };
  }

  /**
   * Applies the SQLite text of each migration not yet recorded in schema_migrations — the table and
   * ids of `applyMigrations`, so a store upgraded from the synchronous repositories skips what they
   * already applied. Each migration runs in its own IMMEDIATE transaction and is re-checked inside it,
   * so two processes starting on one file apply it once.
   */
  async migrate(migrations: readonly SqlMigration[]): Promise<void> {
    if (this.closed) throw closedError();
    if (insideTransactionOf(this.file.mutex)) throw outerHandleInTransaction();
    await this.file.mutex.runExclusive(() => {
      this.execSync(
        `CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`,
      );
      const applied = (id: string) =>
        this.getSync('SELECT 1 AS one FROM schema_migrations WHERE id = ?', [id]);
      for (const m of migrations) {
        if (applied(m.id)) continue;
        this.execSync('BEGIN IMMEDIATE');
        try {
          if (!applied(m.id)) {
            this.execMigration(m);
            this.runSync('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [
              m.id,
              new Date().toISOString(),
            ]);
          }
          this.execSync('COMMIT');
        } catch (err) {
          if (this.raw.inTransaction) this.rollbackQuietly('ROLLBACK');
          throw err;
        }
      }
    });
  }

  private execMigration(m: SqlMigration): void {
    try {
      this.raw.exec(m.sqlite);
    } catch (err) {
      const e = wrapSqliteError(err, m.sqlite);
      throw new SqlError(`migration ${m.id}: ${e.message}`, e.code, e.kind);
    }
  }

  async writable(): Promise<boolean> {
    try {
      return await this.schedule(() => isWritable(this.raw));
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (insideTransactionOf(this.file.mutex)) throw outerHandleInTransaction();
    await this.file.mutex.runExclusive(() => {
      if (this.closed) return;
      this.closed = true;
      this.statements.clear();
      if (this.ownsConnection) this.raw.close();
    });
    if (this.fileKey !== undefined && --this.file.refs <= 0) files.delete(this.fileKey);
  }
}

/** The handle passed to a SQLite transaction's callback: runs directly on the connection. */
class SqliteTx implements SqlDb {
  readonly dialect = 'sqlite' as const;
  /** Notifications sent inside the transaction, delivered after COMMIT. */
  pending: Array<[string, string]> = [];
  private readonly nested = new AsyncMutex();
  private static savepoints = 0;

  constructor(
    private readonly db: SqliteDb,
    private readonly scope: TxScope,
  ) {}

  private check(): void {
    if (this.scope.done) throw new Error('SqlDb: this transaction has already finished');
  }

  private now<T>(fn: () => T): Promise<T> {
    try {
      this.check();
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.now(() => this.db.allSync<T>(sql, params));
  }

  get<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T | undefined> {
    return this.now(() => this.db.getSync<T>(sql, params));
  }

  run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }> {
    return this.now(() => this.db.runSync(sql, params));
  }

  /** A nested transaction is a SAVEPOINT; nested transactions of one handle run one at a time. */
  async transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
    this.check();
    return this.nested.runExclusive(async () => {
      this.check();
      const name = `sp_${++SqliteTx.savepoints}`;
      const child = new SqliteTx(this.db, this.scope);
      this.db.execSync(`SAVEPOINT ${name}`);
      let result: T;
      try {
        result = await fn(child);
        this.check();
        this.db.execSync(`RELEASE ${name}`);
      } catch (err) {
        if (!this.scope.done && this.db.raw.inTransaction) {
          this.db.rollbackQuietly(`ROLLBACK TO ${name}`);
          this.db.rollbackQuietly(`RELEASE ${name}`);
        }
        throw err;
      }
      this.pending.push(...child.pending);
      return result;
    });
  }

  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.db.withLock(name, fn);
  }

  async notify(channel: string, payload: string): Promise<void> {
    assertChannel(channel);
    assertPayload(payload);
    this.check();
    this.pending.push([channel, payload]);
  }

  listen(channel: string, handler: Handler, options?: ListenOptions): Promise<() => Promise<void>> {
    return this.db.listen(channel, handler, options);
  }

  async migrate(): Promise<void> {
    throw new Error('SqlDb: migrate() cannot run inside a transaction');
  }

  async writable(): Promise<boolean> {
    try {
      this.check();
      return isWritable(this.db.raw);
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    throw new Error('SqlDb: close() cannot be called on a transaction handle');
  }
}

function closedError(): Error {
  return new Error('SqlDb: the database is closed');
}

function sqliteKind(code: string): SqlErrorKind {
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') return 'unique';
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign_key';
  if (code === 'SQLITE_CONSTRAINT_NOTNULL') return 'not_null';
  if (code === 'SQLITE_CONSTRAINT_CHECK') return 'check';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  return 'other';
}

export function wrapSqliteError(err: unknown, sql: string): SqlError {
  if (err instanceof SqlError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'SQLITE_ERROR';
  const message = typeof e.message === 'string' ? e.message : String(err);
  return new SqlError(`${message} (in: ${firstLine(sql)})`, code, sqliteKind(code));
}

/** Opens (creating when needed) `dataDir/assistant.db` with the pragmas of openDatabase. */
export function openSqliteDb(
  dataDir: string,
  options: { fileName?: string; logger?: SqlLogger } = {},
): SqliteDb {
  return new SqliteDb(openDatabase(dataDir, options.fileName), {
    ownsConnection: true,
    logger: options.logger,
  });
}
