import { afterEach, describe, expect, it } from 'vitest';
import { TokenManager } from '../../src/channels/zalo/tokenStore.js';
import { ZaloApi } from '../../src/channels/zalo/zaloApi.js';
import type { SqlDb } from '../../src/storage/sql/index.js';
import { startFakeZalo, type FakeZalo } from '../helpers/fakeZalo.js';
import { capturingLogger } from '../helpers/knowledge.js';
import { createTestStore } from './store.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(initial = { accessToken: 'env-access', refreshToken: 'env-refresh' }) {
  const f: FakeZalo = await startFakeZalo({ ...initial, appSecret: 'app-secret' });
  cleanups.push(f.close);
  const store = await createTestStore('zalo-tokens-');
  cleanups.push(() => store.close());
  const sql: SqlDb = await store.open();
  const { logger, lines } = capturingLogger('debug');
  const api = new ZaloApi({
    apiBase: f.url,
    oauthBase: f.url,
    appId: '42',
    appSecret: 'app-secret',
    requestTimeoutMs: 2000,
  });
  /** A token manager as a replica builds it at start (another replica when called again). */
  const make = async (init = initial, over: { sql?: SqlDb } = {}) => {
    const tokens = new TokenManager({
      sql: over.sql ?? sql,
      api,
      logger,
      initial: init,
      refreshMarginMs: 3_600_000,
      retryAfterFailureMs: 60_000,
    });
    await tokens.load();
    return tokens;
  };
  return { f, sql, store, lines, make };
}

describe('Zalo tokens', () => {
  it('refreshes once for concurrent rejections, and retries with the token another send obtained', async () => {
    const { f, make } = await setup();
    const tokens = await make();
    const results = await Promise.all([tokens.rejected('env-access'), tokens.rejected('env-access')]);
    expect(results).toEqual(['access-1', 'access-1']);
    expect(await tokens.rejected('env-access')).toBe('access-1'); // already replaced: no refresh
    expect(f.refreshes).toHaveLength(1);
  });

  it('refreshes ahead of expiry, and a new environment pair replaces the stored one', async () => {
    const { f, sql, make } = await setup();
    const tokens = await make();
    await tokens.refresh(); // access-1, expires in 25 h
    expect(await tokens.accessToken()).toBe('access-1');
    await sql.run('UPDATE zalo_tokens SET expires_at = ?', [Date.now() + 60_000]);
    const reloaded = await make();
    expect(await reloaded.accessToken()).toBe('access-2'); // < 1 h left: refreshed first
    expect(f.refreshes.map((r) => r.form.refresh_token)).toEqual(['env-refresh', 'refresh-1']);

    // An admin re-authorized the OA: the new environment pair wins over the stored one.
    const reseeded = await make({ accessToken: 'new-env-access', refreshToken: 'new-env-refresh' });
    expect(await reseeded.accessToken()).toBe('new-env-access');
  });

  it('reports a failed refresh once in the log, without tokens, and in its status until it recovers', async () => {
    const { f, lines, make } = await setup();
    const tokens = await make();
    f.state.refreshFails = true;
    expect(await tokens.rejected('env-access')).toBeUndefined();
    expect(await tokens.rejected('env-access')).toBeUndefined(); // throttled: no second call
    expect(f.refreshes).toHaveLength(1);
    const status = tokens.status();
    expect(status.ok).toBe(false);
    expect(!status.ok && status.reason).toMatch(/-14020.*authorize the app again/);
    const errors = lines.filter((l) => l.includes('"level":50'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/refresh FAILED/);
    expect(lines.join('')).not.toMatch(/env-access|env-refresh|app-secret/);
  });

  it('replicas share the pair: one refresh for concurrent expiry, a stale replica picks up the stored token', async () => {
    const { f, store, make } = await setup();
    // Two replicas: their own handles on the one store (PostgreSQL: their own pools).
    const a = await make();
    const b = await make(undefined, { sql: await store.open() });
    const results = await Promise.all([a.rejected('env-access'), b.rejected('env-access')]);
    expect(results).toEqual(['access-1', 'access-1']);
    expect(f.refreshes).toHaveLength(1);

    // Forced refreshes on both at once: the second one finds the token the first stored.
    const forced = await Promise.all([a.refresh(), b.refresh()]);
    expect(f.refreshes).toHaveLength(2);
    expect(new Set(forced)).toEqual(new Set(['access-2']));

    // A replica whose token in memory is stale (access-2 was replaced by a): it re-reads on -216.
    await a.refresh();
    expect(f.refreshes).toHaveLength(3);
    expect(await b.accessToken()).toBe('access-2'); // still the old one in memory
    expect(await b.rejected('access-2')).toBe('access-3');
    expect(f.refreshes).toHaveLength(3);
    // A replica starting now uses the stored pair (its environment's refresh token is spent).
    expect(await (await make()).accessToken()).toBe('access-3');
  });
});
