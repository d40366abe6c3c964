import { createHash } from 'node:crypto';
import type { Logger } from '../../logger.js';
import type { SqlDb, SqlMigration } from '../../storage/sql/index.js';
import type { RefreshResult, ZaloApi } from './zaloApi.js';

export const TOKEN_MIGRATIONS: readonly SqlMigration[] = [
  {
    id: 'zalo_tokens/1',
    sqlite: `CREATE TABLE zalo_tokens (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      access_token TEXT,
      refresh_token TEXT,
      expires_at INTEGER,
      seed TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    );`,
    postgres: `CREATE TABLE zalo_tokens (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      access_token TEXT,
      refresh_token TEXT,
      expires_at BIGINT,
      seed TEXT NOT NULL,
      updated_at BIGINT NOT NULL
    );`,
  },
];

/** The cluster-wide lock held while the stored pair is refreshed (one refresh at a time, all replicas). */
export const TOKEN_REFRESH_LOCK = 'zalo-token-refresh';

export interface TokenManagerOptions {
  sql: SqlDb;
  api: Pick<ZaloApi, 'refresh'>;
  logger: Logger;
  /** The pair from the environment (ZALO_ACCESS_TOKEN, ZALO_REFRESH_TOKEN). */
  initial: { accessToken?: string; refreshToken?: string };
  /** Refresh ahead when less than this is left (when the expiry is known). */
  refreshMarginMs: number;
  /** After a failed refresh, wait at least this long before trying again. */
  retryAfterFailureMs: number;
}

interface TokenRow {
  access_token: string | null;
  refresh_token: string | null;
  expires_at: number | null;
  seed: string;
}

const SELECT_ROW = 'SELECT access_token, refresh_token, expires_at, seed FROM zalo_tokens WHERE id = 1';

/**
 * The OA access token and its single-use refresh token (reference §5). The pair lives in the store,
 * shared by every replica: each refresh persists the new pair before it is used, so it survives
 * restarts. The environment pair seeds the store; a different environment pair later (an admin
 * re-authorized the OA) replaces the stored one.
 *
 * Refreshes are single-flight in the process and, across replicas, run under the advisory lock
 * `zalo-token-refresh`: inside it the stored pair is read again first, and when another replica has
 * already replaced the token this one considered bad, that token is used instead of refreshing again
 * (a second refresh would also spend the refresh token the other replica just stored). Token values
 * are never logged.
 */
export class TokenManager {
  private row: TokenRow;
  private readonly seed: string;
  private loaded = false;
  private inFlight?: Promise<string | undefined>;
  private lastFailure?: { at: number; code: number; kind: string; message: string };
  private failureLogged = false;

  constructor(private readonly o: TokenManagerOptions) {
    this.seed = fingerprint(o.initial.accessToken, o.initial.refreshToken);
    // Until load(): the environment pair (nothing is sent before the channel has started).
    this.row = {
      access_token: o.initial.accessToken ?? null,
      refresh_token: o.initial.refreshToken ?? null,
      expires_at: null,
      seed: this.seed,
    };
  }

  /**
   * Applies the migrations and reads the stored pair, seeding it from the environment when the store
   * has none or another environment pair. Under the refresh lock, so a replica starting while another
   * refreshes does not overwrite the pair just obtained.
   */
  async load(): Promise<void> {
    await this.o.sql.migrate(TOKEN_MIGRATIONS);
    await this.o.sql.withLock(TOKEN_REFRESH_LOCK, async () => {
      const stored = await this.read();
      if (stored && stored.seed === this.seed) {
        this.row = stored;
        return;
      }
      // Conditional: only a row seeded from another pair is replaced (never one seeded from this pair
      // and refreshed since by another replica).
      await this.o.sql.run(
        `INSERT INTO zalo_tokens (id, access_token, refresh_token, expires_at, seed, updated_at)
         VALUES (1, ?, ?, NULL, ?, ?)
         ON CONFLICT (id) DO UPDATE SET access_token = excluded.access_token,
           refresh_token = excluded.refresh_token, expires_at = excluded.expires_at,
           seed = excluded.seed, updated_at = excluded.updated_at
         WHERE zalo_tokens.seed <> excluded.seed`,
        [this.o.initial.accessToken ?? null, this.o.initial.refreshToken ?? null, this.seed, Date.now()],
      );
      this.row = (await this.read()) ?? this.row;
      if (stored) this.o.logger.info('Zalo tokens: a new pair was configured; it replaces the stored pair');
    });
    this.loaded = true;
  }

  /** The current access token, refreshed first when it is missing or about to expire. */
  async accessToken(): Promise<string | undefined> {
    const { access_token: access, expires_at: expiresAt } = this.row;
    if (access && !this.dueSoon(this.row)) return access;
    const refreshed = await this.refresh();
    if (refreshed) return refreshed;
    // A proactive refresh failed: the old token may still work until it really expires.
    return access && (expiresAt === null || expiresAt > Date.now()) ? access : undefined;
  }

  /**
   * Zalo rejected `usedToken` (-216, -220, HTTP 401): use the token another send (of this replica or,
   * read from the store, of another one) obtained meanwhile, else refresh. Resolves with the token to
   * retry with, or undefined when none could be obtained.
   */
  async rejected(usedToken: string): Promise<string | undefined> {
    if (this.row.access_token && this.row.access_token !== usedToken) return this.row.access_token;
    return this.refresh(usedToken);
  }

  /** For /readyz: failing while the last refresh failed. */
  status(): { ok: true } | { ok: false; reason: string } {
    if (!this.lastFailure) return { ok: true };
    const f = this.lastFailure;
    return {
      ok: false,
      reason: `the access token could not be refreshed at ${new Date(f.at).toISOString()} (${f.message}${
        f.code ? `, code ${f.code}` : ''
      }); ${
        f.kind === 'invalid'
          ? 'an OA admin must authorize the app again and set ZALO_ACCESS_TOKEN / ZALO_REFRESH_TOKEN (docs/zalo.md)'
          : 'retrying'
      }`,
    };
  }

  /** When the access token expires (epoch ms), if known. */
  expiresAt(): number | undefined {
    return this.row.expires_at ?? undefined;
  }

  /**
   * Refreshes now, one refresh at a time (in the process and across replicas); resolves with the new
   * access token, or with the one another replica stored meanwhile, or undefined. `badToken` is the
   * token considered unusable (default: the current one): a stored token other than it is used as is.
   */
  refresh(badToken?: string): Promise<string | undefined> {
    const basis = badToken ?? this.row.access_token;
    this.inFlight ??= this.refreshUnderLock(basis).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private dueSoon(row: TokenRow): boolean {
    return row.expires_at !== null && row.expires_at - Date.now() < this.o.refreshMarginMs;
  }

  private read(): Promise<TokenRow | undefined> {
    return this.o.sql.get<TokenRow>(SELECT_ROW);
  }

  private async refreshUnderLock(basis: string | null): Promise<string | undefined> {
    if (!this.loaded) await this.load();
    return this.o.sql.withLock(TOKEN_REFRESH_LOCK, async () => {
      // Another replica (or an earlier refresh of this one) may have replaced the token already.
      const stored = await this.read();
      if (stored && stored.seed === this.seed) {
        if (stored.access_token && stored.access_token !== basis && !this.dueSoon(stored)) {
          this.row = stored;
          this.recovered();
          return stored.access_token;
        }
        this.row = stored;
      }
      return this.doRefresh();
    });
  }

  private async doRefresh(): Promise<string | undefined> {
    const refreshToken = this.row.refresh_token;
    if (this.lastFailure && Date.now() - this.lastFailure.at < this.o.retryAfterFailureMs) return undefined;
    let result: RefreshResult;
    if (!refreshToken) {
      result = { ok: false, kind: 'invalid', code: 0, message: 'no refresh token (ZALO_REFRESH_TOKEN)' };
    } else {
      try {
        result = await this.o.api.refresh(refreshToken);
      } catch (err) {
        result = { ok: false, kind: 'transient', code: 0, message: (err as Error).message.slice(0, 100) };
      }
    }
    if (!result.ok) {
      this.lastFailure = { at: Date.now(), code: result.code, kind: result.kind, message: result.message };
      if (!this.failureLogged) {
        this.failureLogged = true;
        this.o.logger.error(
          { code: result.code, kind: result.kind, reason: result.message },
          result.kind === 'invalid'
            ? 'Zalo access token refresh FAILED: Zalo refused the refresh token. Replies to Zalo users are held in the outbox until an OA admin authorizes the app again and ZALO_ACCESS_TOKEN / ZALO_REFRESH_TOKEN are updated (see docs/zalo.md)'
            : 'Zalo access token refresh FAILED (network or Zalo error); replies are held in the outbox and the refresh will be retried',
        );
      }
      return undefined;
    }
    const next: TokenRow = {
      access_token: result.accessToken,
      refresh_token: result.refreshToken,
      expires_at: result.expiresInSeconds ? Date.now() + result.expiresInSeconds * 1000 : null,
      seed: this.row.seed,
    };
    // The old refresh token is spent: persist the new pair before anything uses it. Conditional on
    // the pair refreshed still being the stored one (the lock is lost if its session dies).
    const { changes } = await this.o.sql.run(
      `UPDATE zalo_tokens SET access_token = ?, refresh_token = ?, expires_at = ?, updated_at = ?
       WHERE id = 1 AND seed = ? AND refresh_token = ?`,
      [next.access_token, next.refresh_token, next.expires_at, Date.now(), next.seed, refreshToken],
    );
    if (changes === 0) {
      // Replaced meanwhile (re-seeded by an admin, or refreshed elsewhere): the stored pair wins.
      this.o.logger.warn('Zalo tokens: the stored pair changed during the refresh; using the stored pair');
      const stored = await this.read();
      if (stored) this.row = stored;
      this.recovered();
      return this.row.access_token ?? undefined;
    }
    this.row = next;
    if (this.failureLogged) this.o.logger.info('Zalo access token refresh succeeded again');
    else this.o.logger.info({ expiresAt: next.expires_at }, 'Zalo access token refreshed');
    this.lastFailure = undefined;
    this.failureLogged = false;
    return next.access_token ?? undefined;
  }

  /** A usable token was obtained from the store: a failure reported earlier is over. */
  private recovered(): void {
    if (this.failureLogged) this.o.logger.info('Zalo access token obtained from the store again');
    this.lastFailure = undefined;
    this.failureLogged = false;
  }
}

/** Identifies the environment pair without storing it a second time in clear. */
function fingerprint(access?: string, refresh?: string): string {
  return createHash('sha256')
    .update(`${access ?? ''}\n${refresh ?? ''}`)
    .digest('hex');
}
