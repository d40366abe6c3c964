import { createHash } from 'node:crypto';
import type { SqlDb, SqlMigration } from '../storage/sql/index.js';
import type { RateLimitDecision, RateLimitStore } from './rateLimit.js';
import { UNLIMITED } from './rateLimit.js';

export const RATE_LIMIT_MIGRATIONS: readonly SqlMigration[] = [
  {
    id: 'rate_limits/1',
    sqlite: `CREATE TABLE rate_limits (
      key TEXT PRIMARY KEY,
      window_start INTEGER NOT NULL,
      count INTEGER NOT NULL
    );
    CREATE INDEX rate_limits_window ON rate_limits (window_start);`,
    postgres: `CREATE TABLE rate_limits (
      key TEXT PRIMARY KEY,
      window_start BIGINT NOT NULL,
      count BIGINT NOT NULL
    );
    CREATE INDEX rate_limits_window ON rate_limits (window_start);`,
  },
];

/**
 * One statement counts the request and returns the key's count in its current window, atomically on
 * both backends (concurrent requests on several replicas each get a distinct count). A key's window
 * starts at its first request (as in the in-memory `RateLimiter`) and a new one starts once it is
 * over: parameters are (key, now, windowMs, windowMs). A replica whose clock is slightly behind
 * counts in the stored window.
 */
const CONSUME = `INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
  ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN rate_limits.window_start > excluded.window_start - CAST(? AS BIGINT)
      THEN rate_limits.count + 1 ELSE 1 END,
    window_start = CASE WHEN rate_limits.window_start > excluded.window_start - CAST(? AS BIGINT)
      THEN rate_limits.window_start ELSE excluded.window_start END
  RETURNING count, window_start`;

export interface SqlRateLimitLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * What the SQL-backed limits of one process share: the store, the health of the last attempts (a
 * store that is down is not asked again for a few seconds: requests are allowed meanwhile), the
 * one-time log of an outage, and the periodic cleanup of old windows.
 */
export class SqlRateLimits {
  private failingUntil = 0;
  private failing = false;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly db: SqlDb,
    private readonly logger: SqlRateLimitLogger,
    readonly options: { timeoutMs?: number; retryAfterFailureMs?: number; sweepEveryMs?: number } = {},
  ) {}

  /** Creates the table and starts the cleanup of expired windows. */
  async init(): Promise<void> {
    await this.db.migrate(RATE_LIMIT_MIGRATIONS);
    const every = this.options.sweepEveryMs ?? 60_000;
    this.sweeper ??= setInterval(() => void this.sweep(), every);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Deletes windows that ended more than `olderThanMs` ago (default 10 minutes). */
  async sweep(now = Date.now(), olderThanMs = 10 * 60_000): Promise<number> {
    try {
      return (await this.db.run('DELETE FROM rate_limits WHERE window_start < ?', [now - olderThanMs]))
        .changes;
    } catch {
      return 0; // the next sweep retries; the limiter itself reports outages
    }
  }

  /** A per-minute budget shared by every replica, under `name`; 0 = no limit. */
  perMinute(name: string, limit: number): RateLimitStore {
    return limit > 0 ? new SqlRateLimitStore(this, name, limit, 60_000) : UNLIMITED;
  }

  /** Counts one request; allows it (fail open) when the store cannot answer in time. */
  async consume(key: string, limit: number, windowMs: number, now = Date.now()): Promise<RateLimitDecision> {
    if (now < this.failingUntil) return { allowed: true, retryAfterSeconds: 0 };
    let timer: NodeJS.Timeout | undefined;
    try {
      const row = await Promise.race([
        this.db.get<{ count: number; window_start: number }>(CONSUME, [key, now, windowMs, windowMs]),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error('the rate limit store did not answer in time')),
            this.options.timeoutMs ?? 1000,
          );
        }),
      ]);
      if (this.failing) {
        this.failing = false;
        this.logger.info({}, 'rate limit store is back; shared limits apply again');
      }
      if (!row) return { allowed: true, retryAfterSeconds: 0 };
      const count = Number(row.count);
      if (count <= limit) return { allowed: true, retryAfterSeconds: 0 };
      const end = Number(row.window_start) + windowMs;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((end - now) / 1000)) };
    } catch (err) {
      this.failingUntil = Date.now() + (this.options.retryAfterFailureMs ?? 5000);
      if (!this.failing) {
        this.failing = true;
        this.logger.warn({ err }, 'rate limit store unavailable; requests are allowed until it is back');
      }
      return { allowed: true, retryAfterSeconds: 0 };
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A fixed-window budget per key kept in the SQL store, so replicas sharing one PostgreSQL share the
 * budget (the key's window starts at its first request, on whichever replica). Fails open: while the store is unreachable every request is allowed (logged once).
 */
export class SqlRateLimitStore implements RateLimitStore {
  constructor(
    private readonly limits: SqlRateLimits,
    readonly name: string,
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  consume(key: string, now?: number): Promise<RateLimitDecision> {
    return this.limits.consume(`${this.name}:${storedKey(key)}`, this.limit, this.windowMs, now);
  }
}

/**
 * The key as stored: as given when short and printable, else a hash — a client-chosen id (a
 * conversation user on /api/messages) with a NUL byte, which PostgreSQL refuses in TEXT, must not
 * turn into a store error that makes the limiter fail open.
 */
function storedKey(key: string): string {
  if (key.length <= 200 && !/[\u0000-\u001f]/.test(key)) return key;
  return `#${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
}
