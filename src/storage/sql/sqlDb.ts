/**
 * One async SQL abstraction with two drivers: SQLite (better-sqlite3, the embedded default) and
 * PostgreSQL (`pg`, the shared store of several replicas). A repository is written once, in portable
 * SQL, against this interface.
 *
 * Conventions every repository follows (so the same SQL runs on both):
 * - Placeholders are `?` everywhere; the PostgreSQL driver rewrites them to `$1…$n` (a `?` inside a
 *   '…' literal, a "…" identifier or a comment is left alone). PostgreSQL's jsonb operators `?`, `?|`,
 *   `?&` therefore cannot be written; they are not portable anyway.
 * - Booleans are stored as INTEGER 0/1 on both backends. A JS boolean parameter is sent as 1/0, and a
 *   boolean computed by PostgreSQL (`EXISTS(…)`, `a = b`) comes back as 1/0, as on SQLite.
 * - Timestamps are ISO-8601 TEXT on both (`new Date().toISOString()`, always UTC with milliseconds, so
 *   they compare and sort as strings). A `Date` parameter is sent as its ISO string.
 * - Integers that may exceed 2^31 (epoch milliseconds, counters) are BIGINT on PostgreSQL, INTEGER on
 *   SQLite; both come back as JS numbers (exact up to 2^53). COUNT(*), SUM and AVG are numbers on both.
 * - JSON is TEXT: `JSON.stringify` in, `JSON.parse` out. Objects and arrays are refused as parameters.
 */

export type Dialect = 'sqlite' | 'postgres';

export interface SqlDb {
  readonly dialect: Dialect;
  /** All rows of a query (an empty array for a statement that returns none). */
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** The first row, or undefined. */
  get<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Executes a statement; `changes` is the number of rows inserted, updated or deleted. */
  run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }>;
  /**
   * Runs fn in one transaction (BEGIN…COMMIT, ROLLBACK on throw); queries inside must use `tx`.
   * Calling the outer handle from inside fn throws (it would deadlock on SQLite). `tx.transaction`
   * nests as a SAVEPOINT. `tx.notify` is delivered only if the transaction commits.
   * Isolation: SQLite transactions are serializable (one writer, BEGIN IMMEDIATE); PostgreSQL's are
   * READ COMMITTED, so a read-then-write must be one conditional statement (see src/storage/sql/README.md).
   */
  transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T>;
  /**
   * Runs fn while holding a cluster-wide named lock (pg_advisory_lock on a dedicated connection;
   * in-process keyed mutex on SQLite). Always released, also when fn throws.
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Cross-replica notifications (LISTEN/NOTIFY on PostgreSQL; in-process on SQLite). Payload ≤ 7 KB
   * text. Channel names are lower-case identifiers: [a-z_][a-z0-9_]*, at most 63 characters.
   * Delivery is at most once: a notification sent while a replica's listening connection is down is
   * lost, so treat it as a hint and re-read the store (`onReconnect` says when that may have happened).
   */
  notify(channel: string, payload: string): Promise<void>;
  listen(
    channel: string,
    handler: (payload: string) => void,
    options?: ListenOptions,
  ): Promise<() => Promise<void>>;
  /** Applies, in order and once each (also across replicas starting together), the given migrations. */
  migrate(migrations: readonly SqlMigration[]): Promise<void>;
  /** True when a write succeeds (for /readyz). Never throws. */
  writable(): Promise<boolean>;
  close(): Promise<void>;
}

export interface ListenOptions {
  /**
   * Called after the listening connection was lost and re-established (PostgreSQL only): notifications
   * may have been missed meanwhile.
   */
  onReconnect?: () => void;
}

/** One schema change, in both dialects. The id is unique and never reused, e.g. "bot_state/1". */
export interface SqlMigration {
  id: string;
  sqlite: string;
  postgres: string;
}

export type SqlErrorKind =
  | 'unique'
  | 'foreign_key'
  | 'not_null'
  | 'check'
  | 'serialization'
  | 'deadlock'
  | 'busy'
  | 'connection'
  | 'other';

/**
 * An error from either driver. The message is the driver's message followed by the first line of the
 * SQL; it never contains the parameters (they may hold personal data), and no `cause` is attached.
 */
export class SqlError extends Error {
  constructor(
    message: string,
    /** The driver's code: SQLSTATE on PostgreSQL ("23505"), SQLITE_* on SQLite. */
    readonly code: string,
    /** The portable kind: `unique` for a duplicate key on both backends, and so on. */
    readonly kind: SqlErrorKind,
    /** PostgreSQL's constraint name, when known. */
    readonly constraint?: string,
  ) {
    super(message);
    this.name = 'SqlError';
  }
}

/**
 * ` FOR UPDATE` on PostgreSQL, nothing on SQLite: append it to a SELECT inside a transaction to lock the
 * rows read until COMMIT, for a read-modify-write that must not lose updates. (SQLite transactions
 * already run one at a time; SQLite does not know the clause.) Lock several rows in a fixed order.
 */
export function forUpdate(db: SqlDb): string {
  return db.dialect === 'postgres' ? ' FOR UPDATE' : '';
}

/** True for a duplicate key (PRIMARY KEY or UNIQUE) on either backend. */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof SqlError && err.kind === 'unique';
}

/** The first non-empty line of a statement, shortened, for error messages and logs. */
export function firstLine(sql: string): string {
  const line =
    sql
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? '';
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

export const MAX_NOTIFY_BYTES = 7 * 1024;
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertChannel(channel: string): void {
  if (!CHANNEL.test(channel)) {
    throw new TypeError(
      `invalid notification channel "${channel}": expected [a-z_][a-z0-9_]*, ≤ 63 characters`,
    );
  }
}

export function assertPayload(payload: string): void {
  if (typeof payload !== 'string') throw new TypeError('notification payload must be a string');
  if (Buffer.byteLength(payload, 'utf8') > MAX_NOTIFY_BYTES) {
    throw new RangeError(`notification payload exceeds ${MAX_NOTIFY_BYTES} bytes`);
  }
}

/**
 * Normalizes one parameter the same way for both drivers: boolean → 1/0, undefined → null,
 * Date → ISO string, NUL characters in text → U+FFFD (PostgreSQL text cannot hold NUL, and both
 * backends must store the same thing). Numbers, bigints, null and Buffers pass through; anything else
 * is refused (serialize JSON yourself).
 */
export function normalizeParam(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
    case 'number':
    case 'bigint':
      return value;
    case 'boolean':
      return value ? 1 : 0;
    case 'undefined':
      return null;
    case 'object':
      if (value === null || Buffer.isBuffer(value)) return value;
      if (value instanceof Date) return value.toISOString();
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      break;
  }
  throw new TypeError(
    `unsupported SQL parameter of type ${Array.isArray(value) ? 'array' : typeof value} (JSON.stringify objects)`,
  );
}

export function normalizeParams(params: readonly unknown[] | undefined): unknown[] {
  if (!params || params.length === 0) return [];
  const out = new Array<unknown>(params.length);
  for (let i = 0; i < params.length; i++) out[i] = normalizeParam(params[i]);
  return out;
}

/** Thrown when a transaction's outer handle is used from inside it (the `tx` handle must be used). */
export function outerHandleInTransaction(): Error {
  return new Error(
    'SqlDb: the outer handle was used inside db.transaction(); use the `tx` handle passed to the callback',
  );
}
