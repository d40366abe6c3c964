import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenManager } from '../../src/channels/zalo/tokenStore.js';
import { ZaloApi } from '../../src/channels/zalo/zaloApi.js';
import { createLogger } from '../../src/logger.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import { startFakeZalo, type FakeZalo } from '../helpers/fakeZalo.js';
import { tempDataDir } from '../helpers/testApp.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(initial = { accessToken: 'env-access', refreshToken: 'env-refresh' }, db?: Db) {
  const f: FakeZalo = await startFakeZalo({ ...initial, appSecret: 'app-secret' });
  cleanups.push(f.close);
  const database = db ?? openDatabase(tempDataDir('zalo-tokens-'));
  if (!db) cleanups.push(() => database.close());
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    pretty: false,
    destination: new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  });
  const api = new ZaloApi({
    apiBase: f.url,
    oauthBase: f.url,
    appId: '42',
    appSecret: 'app-secret',
    requestTimeoutMs: 2000,
  });
  const make = (init = initial) =>
    new TokenManager({
      db: database,
      api,
      logger,
      initial: init,
      refreshMarginMs: 3_600_000,
      retryAfterFailureMs: 60_000,
    });
  return { f, db: database, lines, make };
}

describe('Zalo tokens', () => {
  it('refreshes once for concurrent rejections, and retries with the token another send obtained', async () => {
    const { f, make } = await setup();
    const tokens = make();
    const results = await Promise.all([tokens.rejected('env-access'), tokens.rejected('env-access')]);
    expect(results).toEqual(['access-1', 'access-1']);
    expect(await tokens.rejected('env-access')).toBe('access-1'); // already replaced: no refresh
    expect(f.refreshes).toHaveLength(1);
  });

  it('refreshes ahead of expiry, and a new environment pair replaces the stored one', async () => {
    const { f, db, make } = await setup();
    const tokens = make();
    await tokens.refresh(); // access-1, expires in 25 h
    expect(await tokens.accessToken()).toBe('access-1');
    db.prepare('UPDATE zalo_tokens SET expires_at = ?').run(Date.now() + 60_000);
    const reloaded = make();
    expect(await reloaded.accessToken()).toBe('access-2'); // < 1 h left: refreshed first
    expect(f.refreshes.map((r) => r.form.refresh_token)).toEqual(['env-refresh', 'refresh-1']);

    // An admin re-authorized the OA: the new environment pair wins over the stored one.
    const reseeded = make({ accessToken: 'new-env-access', refreshToken: 'new-env-refresh' });
    expect(await reseeded.accessToken()).toBe('new-env-access');
  });

  it('reports a failed refresh once in the log, without tokens, and in its status until it recovers', async () => {
    const { f, lines, make } = await setup();
    const tokens = make();
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
});
