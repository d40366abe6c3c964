import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZaloChannel } from '../../src/channels/zalo/index.js';
import { TOKEN_REFRESH_LOCK } from '../../src/channels/zalo/tokenStore.js';
import { zaloReference } from '../../src/channels/zalo/zaloAdapter.js';
import { openSqlDb } from '../../src/storage/sql/index.js';
import { postEvent, startFakeZalo, textEvent, type FakeZalo } from '../helpers/fakeZalo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { onPostgres, startApp, tempDataDir, type RunningApp } from '../helpers/testApp.js';

/**
 * Two app instances (two replicas, each with its own port and DATA_DIR) on ONE PostgreSQL database and
 * one fake Zalo: the access token is refreshed once for both, the shared outbox delivers a burst queued
 * through both without duplicates and in each user's order, and an event posted to both (or left
 * unprocessed by a crash) is processed once.
 */
const APP_ID = '1234567890123456789';
const OA_SECRET = 'oa-secret-key';
const APP_SECRET = 'app-secret-key';
const OA_ID = '1646843870823903717';
const LONG = Array.from(
  { length: 9 },
  (_, i) => `Phần ${i + 1}. ${'Hướng dẫn từng bước cho người dân. '.repeat(15).trim()}`,
).join('\n\n');

const zaloOf = (r: RunningApp) => r.app.channels.find((c) => c.channelIds.includes('zalo')) as ZaloChannel;
const settle = (ms = 400) => new Promise((r) => setTimeout(r, ms));

describe.runIf(onPostgres)('Zalo with two replicas on one PostgreSQL', () => {
  let f: FakeZalo;
  let database: TestDatabase;
  let a: RunningApp;
  let b: RunningApp;

  const texts = (userId: string) => f.delivered(userId).map((c) => c.body.message.text ?? '');
  /** A proactive message (as the community team sends) queued through one instance. */
  const queue = (r: RunningApp, userId: string, text: string) =>
    zaloOf(r).continueConversation(zaloReference(userId, OA_ID), async (context) => {
      await context.sendActivity(text);
    });
  const post = (r: RunningApp, event: unknown) =>
    postEvent(r.url, event, { appId: APP_ID, oaSecretKey: OA_SECRET });

  beforeAll(async () => {
    f = await startFakeZalo({
      accessToken: 'env-access',
      refreshToken: 'env-refresh',
      appSecret: APP_SECRET,
    });
    database = await createTestDatabase();
    const env = {
      DATABASE_URL: database.url,
      ZALO_APP_ID: APP_ID,
      ZALO_OA_SECRET_KEY: OA_SECRET,
      ZALO_APP_SECRET: APP_SECRET,
      ZALO_ACCESS_TOKEN: 'env-access',
      ZALO_REFRESH_TOKEN: 'env-refresh',
      ZALO_API_BASE: f.url,
      ZALO_OAUTH_BASE: f.url,
    };
    // Started together: the migrations are applied once, under PostgreSQL's advisory lock.
    [a, b] = await Promise.all([
      startApp(env, { loadKnowledge: false }),
      startApp(env, { loadKnowledge: false }),
    ]);
    expect(a.port).not.toBe(b.port);
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await f?.close();
    await database?.drop();
  });

  it('refreshes an expired access token exactly once for both instances, which go on with the new one', async () => {
    f.state.accessToken = 'zalo-side-expired'; // env-access is refused from now on: -216
    // A third session holds the refresh lock until both instances are waiting for it, so the expiry
    // is met by both at once. Each instance sends to at most 8 users at a time (sendConcurrency): of
    // 12 users, both instances get some.
    const other = await openSqlDb({ dataDir: tempDataDir(), databaseUrl: database.url });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = other.withLock(TOKEN_REFRESH_LOCK, async () => {
      locked();
      await released;
    });
    try {
      await isLocked;
      const claimed = [zaloOf(a).outbox.stats.claimed, zaloOf(b).outbox.stats.claimed];
      const users = Array.from({ length: 12 }, (_, i) => `u-tok-${i}`);
      await Promise.all(users.map((u, i) => queue(i % 2 ? b : a, u, `token ${u}`)));
      // Every send was refused and is waiting for the lock, on both instances.
      await f.waitFor(() => f.cs.filter((c) => c.outcome === 'token_invalid').length === users.length);
      expect(zaloOf(a).outbox.stats.claimed).toBeGreaterThan(claimed[0]!);
      expect(zaloOf(b).outbox.stats.claimed).toBeGreaterThan(claimed[1]!);
      expect(f.refreshes).toHaveLength(0);
      release();
      await holder;
      await f.waitFor(() => users.every((u) => texts(u).length === 1));
      expect(f.refreshes).toHaveLength(1);
      expect(f.refreshes[0]).toMatchObject({ ok: true, form: { refresh_token: 'env-refresh' } });
      expect(f.delivered().every((c) => c.accessToken === 'access-1')).toBe(true);
      expect(await zaloOf(a).tokens.accessToken()).toBe('access-1');
      expect(await zaloOf(b).tokens.accessToken()).toBe('access-1');
    } finally {
      release();
      await holder.catch(() => undefined);
      await other.close();
    }
    const users = ['u-tok-1', 'u-tok-2', 'u-tok-3', 'u-tok-4', 'u-tok-5', 'u-tok-6'];

    // Both go on sending with it: no more refusals, no more refreshes.
    const before = f.cs.length;
    await Promise.all(users.map((u, i) => queue(i % 2 ? a : b, u, `again ${u}`)));
    await f.waitFor(() => users.every((u) => texts(u).length === 2));
    expect(zaloOf(a).tokens.expiresAt()).toBeGreaterThan(Date.now());
    expect(f.cs.slice(before).map((c) => [c.accessToken, c.outcome])).toEqual(
      users.map(() => ['access-1', 'ok']),
    );
    expect(f.refreshes).toHaveLength(1);

    // The expiry reached on both at once (a proactive refresh): one refresh, both use its token.
    const refreshed = await Promise.all([zaloOf(a).tokens.refresh(), zaloOf(b).tokens.refresh()]);
    expect(refreshed).toEqual(['access-2', 'access-2']);
    expect(f.refreshes).toHaveLength(2);
    const row = await a.app.assistant.sql.get<{ access_token: string; refresh_token: string }>(
      'SELECT access_token, refresh_token FROM zalo_tokens WHERE id = 1',
    );
    expect(row).toEqual({ access_token: 'access-2', refresh_token: 'refresh-2' });
  });

  it('delivers a burst queued through both instances once each, in each user’s order', async () => {
    const users = ['u-burst-1', 'u-burst-2', 'u-burst-3', 'u-burst-4'];
    const expected = new Map(users.map((u) => [u, [] as string[]]));
    const claimedBefore = [zaloOf(a).outbox.stats.claimed, zaloOf(b).outbox.stats.claimed];
    // A few transient failures: their rows are released and claimed again (by either instance).
    f.script('rate', 'http500');
    await Promise.all(
      users.map(async (u) => {
        // One user's messages are queued one after another (alternating instances): their order.
        for (let k = 0; k < 8; k++) {
          const text = k === 4 ? LONG : `${u} #${k}`;
          expected.get(u)!.push(text);
          await queue(k % 2 ? b : a, u, text);
        }
      }),
    );
    for (const u of users) {
      const want = expected.get(u)!.join('\n\n');
      await f.waitFor(() => texts(u).join('\n\n') === want, 15_000);
    }
    await settle();
    for (const u of users) {
      const got = texts(u);
      expect(got.join('\n\n')).toBe(expected.get(u)!.join('\n\n')); // in order, nothing missing
      expect(new Set(got).size).toBe(got.length); // nothing twice
      expect(got).toHaveLength(7 + 3); // seven short messages and a long one in three parts
    }
    // Both instances took part in sending.
    expect(zaloOf(a).outbox.stats.claimed).toBeGreaterThan(claimedBefore[0]!);
    expect(zaloOf(b).outbox.stats.claimed).toBeGreaterThan(claimedBefore[1]!);
    expect((await zaloOf(a).outbox.counts()).pending).toBe(0);
  }, 30_000);

  it('processes the same webhook event posted to both instances once, and a crashed event once', async () => {
    // How many messages the bot sends for this event (the reference: posted once).
    await post(a, textEvent(APP_ID, 'u-dup-ref', 'xin chào', 'm-dup-ref'));
    await f.waitFor(() => texts('u-dup-ref').length > 0);
    await zaloOf(a).idle();
    await settle();
    const perEvent = texts('u-dup-ref').length;

    const event = textEvent(APP_ID, 'u-dup', 'xin chào', 'm-dup-1');
    const responses = await Promise.all([post(a, event), post(b, event)]);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    const statuses = await Promise.all(
      responses.map(async (r) => ((await r.json()) as { status: string }).status),
    );
    expect(statuses.sort()).toEqual(['accepted', 'duplicate']);
    await f.waitFor(() => texts('u-dup').length >= perEvent);
    await Promise.all([zaloOf(a).idle(), zaloOf(b).idle()]);
    await settle();
    expect(texts('u-dup')).toHaveLength(perEvent);

    // An event accepted by a replica that crashed before processing it (no lease): recovered once.
    const lost = textEvent(APP_ID, 'u-crash', 'xin chào', 'm-crash-1');
    await a.app.assistant.sql.run(
      `INSERT INTO zalo_inbound (event_key, received_at, status, payload) VALUES (?, ?, 'pending', ?)`,
      ['msg:m-crash-1', Date.now(), JSON.stringify(lost)],
    );
    const recovered = await Promise.all([zaloOf(a).recover(), zaloOf(b).recover()]);
    expect(recovered.sort()).toEqual([0, 1]);
    await f.waitFor(() => texts('u-crash').length >= perEvent);
    await Promise.all([zaloOf(a).idle(), zaloOf(b).idle()]);
    await settle();
    expect(texts('u-crash')).toHaveLength(perEvent);
    const row = await b.app.assistant.sql.get<{ status: string; payload: string | null }>(
      'SELECT status, payload FROM zalo_inbound WHERE event_key = ?',
      ['msg:m-crash-1'],
    );
    expect(row).toEqual({ status: 'done', payload: null });
  });
});
