import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { defaultLogger, type SqlLogger } from './logger.js';
import { AsyncMutex, KeyedMutex, insideTransactionOf, runInScope, txScopes, type TxScope } from './mutex.js';
import { toPgPlaceholders } from './placeholders.js';
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

type Handler = (payload: string) => void;
type Queryable = pg.Pool | pg.PoolClient | pg.Client;

/**
 * Result types made to match SQLite's: BIGINT (COUNT(*), epoch milliseconds) and NUMERIC (SUM of a
 * BIGINT, AVG) as JS numbers, BOOLEAN (EXISTS, comparisons) as 1/0. Set on this driver's connections
 * only, not globally on `pg`.
 */
export const pgTypes = new pg.TypeOverrides();
pgTypes.setTypeParser(20, (v: string) => Number(v)); // INT8
pgTypes.setTypeParser(1700, (v: string) => Number(v)); // NUMERIC
pgTypes.setTypeParser(16, (v: string) => (v === 't' ? 1 : 0)); // BOOL

export interface PgDbOptions {
  url: string;
  /** Connections of the query pool (default 10). */
  poolMax?: number;
  /** Connections waiting for or holding withLock's advisory locks (default 4), apart from the query pool. */
  lockPoolMax?: number;
  /** How long to wait for a connection before failing (default 5000 ms). */
  connectionTimeoutMillis?: number;
  /** Shown in pg_stat_activity (default "tro-ly-cong-dan-so"). */
  applicationName?: string;
  logger?: SqlLogger;
  /**
   * Report the outer handle used inside one of its transactions, instead of letting the statement
   * run outside it (default true). See runInScope for its cost.
   */
  checkTransactions?: boolean;
}

const SQL_CACHE_MAX = 1000;

/**
 * The PostgreSQL driver (`pg`): a pool for queries, a second small pool for the sessions holding
 * advisory locks (a replica waiting for a lock held elsewhere never starves its queries), and one
 * dedicated LISTEN connection, opened on the first listen() and re-opened with backoff when dropped.
 */
export class PgDb implements SqlDb {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly lockPool: pg.Pool;
  private readonly locks = new KeyedMutex();
  private readonly sqlCache = new Map<string, string>();
  private readonly listener: PgListener;
  readonly logger: SqlLogger;
  private closed = false;

  constructor(private readonly options: PgDbOptions) {
    this.logger = options.logger ?? defaultLogger;
    const base: pg.PoolConfig = {
      connectionString: options.url,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
      application_name: options.applicationName ?? 'tro-ly-cong-dan-so',
      types: pgTypes,
    };
    this.pool = new pg.Pool({ ...base, max: options.poolMax ?? 10, idleTimeoutMillis: 30_000 });
    this.lockPool = new pg.Pool({
      ...base,
      application_name: `${base.application_name}-lock`,
      max: options.lockPoolMax ?? 4,
      idleTimeoutMillis: 10_000,
    });
    // An idle connection dropped by the server (restart, failover) must not crash the process.
    const onIdleError = (err: Error) => this.logger.warn({ err }, 'postgres: idle connection error');
    this.pool.on('error', onIdleError);
    this.lockPool.on('error', onIdleError);
    this.listener = new PgListener(
      { ...base, application_name: `${base.application_name}-listen` },
      this.logger,
    );
  }

  /** The `$n` form of a portable statement (cached by text). */
  pgSql(sql: string): string {
    let text = this.sqlCache.get(sql);
    if (text === undefined) {
      text = toPgPlaceholders(sql);
      if (this.sqlCache.size >= SQL_CACHE_MAX) this.sqlCache.clear();
      this.sqlCache.set(sql, text);
    }
    return text;
  }

  async query(on: Queryable, sql: string, params: readonly unknown[] | undefined): Promise<pg.QueryResult> {
    const text = this.pgSql(sql);
    const values = normalizeParams(params);
    try {
      return await on.query(text, values);
    } catch (err) {
      throw wrapPgError(err, sql);
    }
  }

  private checkOuter(): void {
    if (this.closed) throw closedError();
    if (insideTransactionOf(this)) throw outerHandleInTransaction();
  }

  async all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    this.checkOuter();
    return (await this.query(this.pool, sql, params)).rows as T[];
  }

  async get<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T | undefined> {
    this.checkOuter();
    return (await this.query(this.pool, sql, params)).rows[0] as T | undefined;
  }

  async run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }> {
    this.checkOuter();
    return { changes: (await this.query(this.pool, sql, params)).rowCount ?? 0 };
  }

  private async checkout(pool: pg.Pool): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (err) {
      throw wrapPgError(err, 'connect');
    }
  }

  async transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
    this.checkOuter();
    const client = await this.checkout(this.pool);
    // A checked-out client has no error listener of the pool's; without one, a dropped connection
    // would be an uncaught 'error' event.
    const onError = (err: Error) => this.logger.warn({ err }, 'postgres: transaction connection error');
    client.on('error', onError);
    let broken: Error | undefined;
    try {
      await this.query(client, 'BEGIN', undefined);
      const scope: TxScope = { owner: this, done: false };
      const tx = new PgTx(this, client, scope);
      let result: T;
      try {
        result = await runInScope(this.options.checkTransactions ?? true, scope, () => fn(tx));
        scope.done = true;
        await this.query(client, 'COMMIT', undefined);
      } catch (err) {
        scope.done = true;
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        }
        throw err;
      }
      return result;
    } catch (err) {
      if (err instanceof SqlError && err.kind === 'connection') broken ??= err;
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /**
   * Holds `pg_advisory_lock(hashtextextended(name, 0))` on a session of the lock pool while fn runs,
   * and always unlocks (a session that cannot unlock is closed, which releases it too). Callers in
   * this process queue in memory first, so one name takes at most one session per replica.
   * If that session is lost while fn runs, the server releases the lock: fn should still make its
   * writes conditional where a duplicate would hurt.
   */
  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw closedError();
    return this.locks.runExclusive(name, async () => {
      const client = await this.checkout(this.lockPool);
      const onError = (err: Error) =>
        this.logger.warn({ err, lock: name }, 'postgres: lock connection error');
      client.on('error', onError);
      let broken: Error | undefined;
      try {
        try {
          await this.query(client, 'SELECT pg_advisory_lock(hashtextextended(?, 0))', [name]);
        } catch (err) {
          broken = err instanceof Error ? err : new Error(String(err));
          throw err;
        }
        try {
          return await fn();
        } finally {
          try {
            await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [name]);
          } catch (err) {
            broken = err instanceof Error ? err : new Error(String(err));
            this.logger.warn({ err, lock: name }, 'postgres: advisory unlock failed; closing the session');
          }
        }
      } finally {
        client.removeListener('error', onError);
        client.release(broken);
      }
    });
  }

  async notify(channel: string, payload: string): Promise<void> {
    assertChannel(channel);
    assertPayload(payload);
    if (this.closed) throw closedError();
    await this.query(this.pool, 'SELECT pg_notify(?, ?)', [channel, payload]);
  }

  async listen(channel: string, handler: Handler, options: ListenOptions = {}): Promise<() => Promise<void>> {
    assertChannel(channel);
    if (this.closed) throw closedError();
    return this.listener.add(channel, handler, options.onReconnect);
  }

  /**
   * Applies, under the advisory lock "migrations" (two replicas starting together take turns), the
   * PostgreSQL text of each migration not recorded in schema_migrations, each in its own transaction
   * with its record (DDL is transactional on PostgreSQL; CREATE INDEX CONCURRENTLY cannot be used).
   */
  async migrate(migrations: readonly SqlMigration[]): Promise<void> {
    this.checkOuter();
    await this.withLock('migrations', async () => {
      await this.query(
        this.pool,
        'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)',
        undefined,
      );
      const rows = await this.all<{ id: string }>('SELECT id FROM schema_migrations');
      const applied = new Set(rows.map((r) => r.id));
      for (const m of migrations) {
        if (applied.has(m.id)) continue;
        await this.transaction(async (tx) => {
          try {
            // No parameters: the simple protocol, so a migration may hold several statements.
            await (tx as PgTx).client.query(m.postgres);
          } catch (err) {
            const e = wrapPgError(err, m.postgres);
            throw new SqlError(`migration ${m.id}: ${e.message}`, e.code, e.kind, e.constraint);
          }
          await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [
            m.id,
            new Date().toISOString(),
          ]);
        });
        applied.add(m.id);
      }
    });
  }

  /** Commits a probe row into schema_migrations and deletes it (a unique id per call: no contention). */
  async writable(): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.transaction(async (tx) => {
        const id = `__probe__${randomUUID()}`;
        await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [id, 'x']);
        await tx.run('DELETE FROM schema_migrations WHERE id = ?', [id]);
      });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.listener.close();
    await Promise.all([this.pool.end(), this.lockPool.end()]);
  }
}

/** The handle passed to a PostgreSQL transaction's callback: one checked-out connection. */
class PgTx implements SqlDb {
  readonly dialect = 'postgres' as const;
  private readonly nested = new AsyncMutex();
  private savepoints = 0;

  constructor(
    private readonly db: PgDb,
    readonly client: pg.PoolClient,
    private readonly scope: TxScope,
  ) {}

  private check(): void {
    if (this.scope.done) throw new Error('SqlDb: this transaction has already finished');
  }

  async all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    this.check();
    return (await this.db.query(this.client, sql, params)).rows as T[];
  }

  async get<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T | undefined> {
    this.check();
    return (await this.db.query(this.client, sql, params)).rows[0] as T | undefined;
  }

  async run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }> {
    this.check();
    return { changes: (await this.db.query(this.client, sql, params)).rowCount ?? 0 };
  }

  /** A nested transaction is a SAVEPOINT; nested transactions of one handle run one at a time. */
  async transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
    this.check();
    return this.nested.runExclusive(async () => {
      this.check();
      const name = `sp_${++this.savepoints}`;
      await this.db.query(this.client, `SAVEPOINT ${name}`, undefined);
      try {
        const result = await fn(new PgTx(this.db, this.client, this.scope));
        this.check();
        await this.db.query(this.client, `RELEASE SAVEPOINT ${name}`, undefined);
        return result;
      } catch (err) {
        if (!this.scope.done) {
          try {
            await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
            await this.client.query(`RELEASE SAVEPOINT ${name}`);
          } catch {
            // The outer transaction fails and rolls back as a whole.
          }
        }
        throw err;
      }
    });
  }

  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.db.withLock(name, fn);
  }

  /** Sent on the transaction's connection: PostgreSQL delivers it at COMMIT, never on ROLLBACK. */
  async notify(channel: string, payload: string): Promise<void> {
    assertChannel(channel);
    assertPayload(payload);
    this.check();
    await this.db.query(this.client, 'SELECT pg_notify(?, ?)', [channel, payload]);
  }

  listen(channel: string, handler: Handler, options?: ListenOptions): Promise<() => Promise<void>> {
    return this.db.listen(channel, handler, options);
  }

  async migrate(): Promise<void> {
    throw new Error('SqlDb: migrate() cannot run inside a transaction');
  }

  /** A probe row inserted and deleted in a savepoint of this transaction. */
  async writable(): Promise<boolean> {
    try {
      await this.transaction(async (tx) => {
        const id = `__probe__${randomUUID()}`;
        await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [id, 'x']);
        await tx.run('DELETE FROM schema_migrations WHERE id = ?', [id]);
      });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    throw new Error('SqlDb: close() cannot be called on a transaction handle');
  }
}

interface Registration {
  handler: Handler;
  onReconnect?: () => void;
}

/**
 * The LISTEN connection of one PgDb. The channels listened to are kept as the desired state; after a
 * (re)connection or a change, `sync` LISTENs/UNLISTENs the difference on the current connection.
 * A dropped connection is re-opened with exponential backoff (0.1 s … 10 s) and every channel is
 * LISTENed again; then each registration's onReconnect says notifications may have been missed.
 */
class PgListener {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private readonly channels = new Map<string, Set<Registration>>();
  private listening = new Set<string>();
  private readonly syncMutex = new AsyncMutex();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs = 100;
  private everConnected = false;
  private closed = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly logger: SqlLogger,
  ) {}

  async add(channel: string, handler: Handler, onReconnect?: () => void): Promise<() => Promise<void>> {
    const registration: Registration = { handler, onReconnect };
    let set = this.channels.get(channel);
    if (!set) {
      set = new Set();
      this.channels.set(channel, set);
    }
    set.add(registration);
    try {
      if (!this.client && !this.reconnectTimer) await this.connect();
      await this.sync();
    } catch (err) {
      // Before the first connection, report the failure; later, the reconnect loop LISTENs it.
      if (!this.everConnected) {
        this.remove(channel, registration);
        throw err;
      }
      this.logger.warn({ err, channel }, 'postgres: LISTEN deferred until the connection is back');
    }
    return async () => {
      this.remove(channel, registration);
      try {
        await this.sync();
      } catch (err) {
        this.logger.warn({ err, channel }, 'postgres: UNLISTEN failed');
      }
    };
  }

  private remove(channel: string, registration: Registration): void {
    const set = this.channels.get(channel);
    set?.delete(registration);
    if (set && set.size === 0) this.channels.delete(channel);
  }

  private connect(): Promise<void> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('error', (err) => {
      this.logger.warn({ err }, 'postgres: LISTEN connection error');
      this.dropped(client);
    });
    client.on('end', () => this.dropped(client));
    client.on('notification', (msg) => this.dispatch(msg.channel, msg.payload ?? ''));
    try {
      await client.connect();
    } catch (err) {
      client.removeAllListeners('end');
      client.on('error', () => {});
      throw wrapPgError(err, 'connect (LISTEN)');
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.listening = new Set();
    this.everConnected = true;
  }

  private dropped(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.listening = new Set();
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = this.backoffMs * (0.75 + Math.random() / 2);
    this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    try {
      await this.connect();
      await this.sync();
    } catch (err) {
      this.logger.warn({ err }, 'postgres: LISTEN reconnection failed; retrying');
      if (this.client) this.dropped(this.client);
      else this.scheduleReconnect();
      return;
    }
    this.backoffMs = 100;
    for (const set of this.channels.values()) {
      for (const r of set) {
        try {
          r.onReconnect?.();
        } catch (err) {
          this.logger.warn({ err }, 'postgres: onReconnect handler failed');
        }
      }
    }
  }

  /** LISTEN / UNLISTEN so that the connection listens to exactly the registered channels. */
  private sync(): Promise<void> {
    return this.syncMutex.runExclusive(async () => {
      const client = this.client;
      if (!client) return;
      for (const channel of this.channels.keys()) {
        if (this.listening.has(channel)) continue;
        await client.query(`LISTEN "${channel}"`);
        if (this.client === client) this.listening.add(channel);
      }
      for (const channel of [...this.listening]) {
        if (this.channels.has(channel)) continue;
        await client.query(`UNLISTEN "${channel}"`);
        this.listening.delete(channel);
      }
    });
  }

  private dispatch(channel: string, payload: string): void {
    const set = this.channels.get(channel);
    if (!set) return;
    txScopes.exit(() => {
      for (const r of [...set]) {
        try {
          r.handler(payload);
        } catch (err) {
          this.logger.warn({ err, channel }, 'postgres: notification handler failed');
        }
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await this.connecting?.catch(() => {});
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => {});
  }
}

function closedError(): Error {
  return new Error('SqlDb: the database is closed');
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
]);

function pgKind(code: string, message: string): SqlErrorKind {
  switch (code) {
    case '23505':
      return 'unique';
    case '23503':
      return 'foreign_key';
    case '23502':
      return 'not_null';
    case '23514':
      return 'check';
    case '40001':
      return 'serialization';
    case '40P01':
      return 'deadlock';
    case '55P03':
      return 'busy';
  }
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return 'connection';
  if (CONNECTION_CODES.has(code)) return 'connection';
  if (/connection terminated|timeout exceeded when trying to connect|not queryable/i.test(message)) {
    return 'connection';
  }
  return 'other';
}

/**
 * A pg error as a SqlError: the server's message, its SQLSTATE and constraint name, and the first line
 * of the SQL. The server's `detail` ("Key (id)=(…) already exists") is dropped, and in data exceptions
 * (class 22: "invalid input syntax for type integer: "…"") quoted values are masked: they may hold
 * personal data.
 */
export function wrapPgError(err: unknown, sql: string): SqlError {
  if (err instanceof SqlError) return err;
  const e = err as { code?: unknown; message?: unknown; constraint?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'UNKNOWN';
  let message = typeof e.message === 'string' ? e.message : String(err);
  if (code.startsWith('22')) message = message.replace(/"[^"]*"/g, '"…"');
  const constraint = typeof e.constraint === 'string' ? e.constraint : undefined;
  return new SqlError(`${message} (in: ${firstLine(sql)})`, code, pgKind(code, message), constraint);
}
