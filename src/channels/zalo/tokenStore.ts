import { createHash } from 'node:crypto';
import type { Logger } from '../../logger.js';
import { applyMigrations, type Db } from '../../storage/database.js';
import type { RefreshResult, ZaloApi } from './zaloApi.js';

const MIGRATIONS = [
  {
    id: 'zalo_tokens/1',
    sql: `CREATE TABLE zalo_tokens (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      access_token TEXT,
      refresh_token TEXT,
      expires_at INTEGER,
      seed TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    );`,
  },
];

export interface TokenManagerOptions {
  db: Db;
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

/**
 * The OA access token and its single-use refresh token (reference §5). The pair lives in the store:
 * each refresh persists the new pair before it is used, so it survives restarts. The environment
 * pair seeds the store; a different environment pair later (an admin re-authorized the OA) replaces
 * the stored one. Refreshes are single-flight. Token values are never logged.
 */
export class TokenManager {
  private row: TokenRow;
  private inFlight?: Promise<string | undefined>;
  private lastFailure?: { at: number; code: number; kind: string; message: string };
  private failureLogged = false;

  constructor(private readonly o: TokenManagerOptions) {
    applyMigrations(o.db, MIGRATIONS);
    const seed = fingerprint(o.initial.accessToken, o.initial.refreshToken);
    const stored = o.db
      .prepare('SELECT access_token, refresh_token, expires_at, seed FROM zalo_tokens WHERE id = 1')
      .get() as TokenRow | undefined;
    if (stored && stored.seed === seed) {
      this.row = stored;
    } else {
      this.row = {
        access_token: o.initial.accessToken ?? null,
        refresh_token: o.initial.refreshToken ?? null,
        expires_at: null,
        seed,
      };
      this.persist(this.row);
      if (stored) o.logger.info('Zalo tokens: a new pair was configured; it replaces the stored pair');
    }
  }

  /** The current access token, refreshed first when it is missing or about to expire. */
  async accessToken(): Promise<string | undefined> {
    const { access_token: access, expires_at: expiresAt } = this.row;
    const dueSoon = expiresAt !== null && expiresAt - Date.now() < this.o.refreshMarginMs;
    if (access && !dueSoon) return access;
    const refreshed = await this.refresh();
    if (refreshed) return refreshed;
    // A proactive refresh failed: the old token may still work until it really expires.
    return access && (expiresAt === null || expiresAt > Date.now()) ? access : undefined;
  }

  /**
   * Zalo rejected `usedToken` (-216, -220, HTTP 401): refresh, unless another send already did.
   * Resolves with the token to retry with, or undefined when none could be obtained.
   */
  async rejected(usedToken: string): Promise<string | undefined> {
    if (this.row.access_token && this.row.access_token !== usedToken) return this.row.access_token;
    return this.refresh();
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

  /** Refreshes now, one refresh at a time; resolves with the new access token or undefined. */
  refresh(): Promise<string | undefined> {
    this.inFlight ??= this.doRefresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
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
    // The old refresh token is spent: persist the new pair before anything uses it.
    this.persist(next);
    this.row = next;
    if (this.failureLogged) this.o.logger.info('Zalo access token refresh succeeded again');
    else this.o.logger.info({ expiresAt: next.expires_at }, 'Zalo access token refreshed');
    this.lastFailure = undefined;
    this.failureLogged = false;
    return next.access_token ?? undefined;
  }

  private persist(row: TokenRow): void {
    this.o.db
      .prepare(
        `INSERT INTO zalo_tokens (id, access_token, refresh_token, expires_at, seed, updated_at)
         VALUES (1, @access_token, @refresh_token, @expires_at, @seed, @now)
         ON CONFLICT (id) DO UPDATE SET access_token = excluded.access_token,
           refresh_token = excluded.refresh_token, expires_at = excluded.expires_at,
           seed = excluded.seed, updated_at = excluded.updated_at`,
      )
      .run({ ...row, now: Date.now() });
  }
}

/** Identifies the environment pair without storing it a second time in clear. */
function fingerprint(access?: string, refresh?: string): string {
  return createHash('sha256')
    .update(`${access ?? ''}\n${refresh ?? ''}`)
    .digest('hex');
}
