import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZaloChannel } from '../../src/channels/zalo/index.js';
import { postEvent, startFakeZalo, textEvent, type FakeZalo } from '../helpers/fakeZalo.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { onPostgres, startApp, tempDataDir, type RunningApp } from '../helpers/testApp.js';

/**
 * The real app (real bot and dialogs) with the Zalo channel on, against a fake Zalo API; its store is
 * SQLite, or PostgreSQL with TEST_BACKEND=postgres.
 */
const APP_ID = '1234567890123456789';
const OA_SECRET = 'oa-secret-key';
const APP_SECRET = 'app-secret-key';
const OA_ID = '1646843870823903717';

const env = (f: FakeZalo, extra: Record<string, string> = {}) => ({
  ZALO_APP_ID: APP_ID,
  ZALO_OA_SECRET_KEY: OA_SECRET,
  ZALO_APP_SECRET: APP_SECRET,
  ZALO_ACCESS_TOKEN: 'env-access',
  ZALO_REFRESH_TOKEN: 'env-refresh',
  ZALO_API_BASE: f.url,
  ZALO_OAUTH_BASE: f.url,
  ...extra,
});
const zaloOf = (r: RunningApp) => r.app.channels.find((c) => c.channelIds.includes('zalo')) as ZaloChannel;
const send = (r: RunningApp, event: unknown, signature?: string | null) =>
  postEvent(r.url, event, { appId: APP_ID, oaSecretKey: OA_SECRET, signature });
const texts = (f: FakeZalo, userId: string) => f.delivered(userId).map((c) => c.body.message.text ?? '');
const settle = () => new Promise((r) => setTimeout(r, 300));
const follow = (userId: string) => ({
  oa_id: OA_ID,
  follower: { id: userId },
  user_id_by_app: '6655413641204889003',
  event_name: 'follow',
  source: 'zalo',
  app_id: APP_ID,
  timestamp: String(Date.now()),
});

describe('Zalo channel in the app', () => {
  let f: FakeZalo;
  let r: RunningApp;
  beforeAll(async () => {
    f = await startFakeZalo({
      accessToken: 'env-access',
      refreshToken: 'env-refresh',
      appSecret: APP_SECRET,
    });
    r = await startApp(env(f));
  });
  afterAll(async () => {
    await r?.stop();
    await f?.close();
  });

  it('answers a signed text event once, to the sender, with the access token', async () => {
    const res = await send(
      r,
      textEvent(APP_ID, '5510185758261927916', 'lam sao kich hoat vneid muc 2', 'm-1'),
    );
    expect(res.status).toBe(200);
    const [reply] = await f.waitFor(
      () => f.delivered('5510185758261927916').length > 0 && f.delivered('5510185758261927916'),
    );
    await zaloOf(r).idle();
    await settle();
    const all = f.cs.filter((c) => c.body.recipient.user_id === '5510185758261927916');
    expect(all).toHaveLength(1);
    expect(reply!.accessToken).toBe('env-access');
    expect(reply!.body.recipient).toEqual({ user_id: '5510185758261927916' });
    expect(reply!.body.message.text).toMatch(/kích hoạt/i);

    // The same msg_id again (a Zalo redelivery): 200, nothing more is sent.
    const again = await send(
      r,
      textEvent(APP_ID, '5510185758261927916', 'lam sao kich hoat vneid muc 2', 'm-1'),
    );
    expect(again.status).toBe(200);
    await settle();
    expect(f.cs.filter((c) => c.body.recipient.user_id === '5510185758261927916')).toHaveLength(1);
  });

  it('rejects a missing or wrong signature with 401 and sends nothing', async () => {
    const event = textEvent(APP_ID, 'u-unsigned', 'xin chào');
    expect((await send(r, event, null)).status).toBe(401);
    expect((await send(r, event, 'mac=' + '0'.repeat(64))).status).toBe(401);
    expect((await send(r, event, 'sha256=abc')).status).toBe(401);
    const otherSecret = await postEvent(r.url, event, { appId: APP_ID, oaSecretKey: APP_SECRET });
    expect(otherSecret.status).toBe(401);
    await settle();
    expect(f.cs.filter((c) => c.body.recipient.user_id === 'u-unsigned')).toHaveLength(0);
    // The console's unsigned empty probe.
    const probe = await fetch(`${r.url}/api/zalo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(probe.status).toBe(200);
  });

  it('welcomes a follower with numbered options, and "1" picks the first', async () => {
    expect((await send(r, follow('u-menu'))).status).toBe(200);
    const [welcome] = await f.waitFor(() => texts(f, 'u-menu').length > 0 && texts(f, 'u-menu'));
    expect(welcome).toMatch(/Xin chào/);
    expect(welcome).toMatch(/\n1\. Dịch vụ công trực tuyến\n2\. Chữ ký số\n/);
    await send(r, textEvent(APP_ID, 'u-menu', '1'));
    const replies = await f.waitFor(() => texts(f, 'u-menu').length > 1 && texts(f, 'u-menu'));
    expect(replies[1]).toMatch(/Về dịch vụ công trực tuyến/);
    expect(replies[1]).toMatch(/\n1\. Cổng Dịch vụ công quốc gia là gì\?/);
  });

  it('offers unsure suggestions as a numbered menu, and the number answers from that entry', async () => {
    await send(r, textEvent(APP_ID, 'u-unsure', 'cán bộ xã nói hồ sơ chưa đủ, tui phải làm chi tiếp'));
    const [asked] = await f.waitFor(() => texts(f, 'u-unsure').length > 0 && texts(f, 'u-unsure'));
    expect(asked).toMatch(/^Mình chưa chắc đã hiểu đúng ý bạn/);
    const menu = asked!.split('Bạn gõ số để chọn:\n')[1]!.split('\n');
    expect(menu.at(-1)).toMatch(/^\d\. Không phải các câu trên$/);
    const supplement = menu.find((line) => /bổ sung/i.test(line))!;
    expect(supplement).toBeDefined();
    await send(r, textEvent(APP_ID, 'u-unsure', supplement.split('.')[0]!));
    const replies = await f.waitFor(() => texts(f, 'u-unsure').length > 1 && texts(f, 'u-unsure'));
    expect(replies[1]).toMatch(/bổ sung/i);
    expect(replies[1]).toMatch(/Nguồn: /);
  });

  it('sends a long answer from the team split at paragraphs, in order', async () => {
    await send(r, textEvent(APP_ID, 'u-long', 'xin chào'));
    await f.waitFor(() => texts(f, 'u-long').length > 0);
    const zalo = zaloOf(r);
    const long = Array.from(
      { length: 9 },
      (_, i) =>
        `Bước ${i + 1}: ${'Mở ứng dụng VNeID, chọn mục Thủ tục hành chính và làm theo hướng dẫn. '.repeat(7).trim()}`,
    ).join('\n\n');
    expect(long.length).toBeGreaterThan(4000);
    let id = '';
    const reference = (await zalo.conversations.get('u-long'))!.reference;
    await zalo.continueConversation(reference, async (context) => {
      id = (await context.sendActivity(long))!.id;
    });
    const parts = await f.waitFor(
      async () => (await zalo.statusOf(id))?.status === 'sent' && texts(f, 'u-long').slice(1),
    );
    expect(parts.length).toBe(3);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(2000);
    expect(parts.join('\n\n')).toBe(long);
    expect(await zalo.statusOf(id)).toMatchObject({ status: 'sent', parts: 3 });
  });

  it('marks a reply undeliverable on -230 without retrying', async () => {
    const zalo = zaloOf(r);
    const before = (await zalo.outbox.counts()).undeliverable;
    f.state.perUser.set('u-window', 'window');
    await send(r, textEvent(APP_ID, 'u-window', 'xin chào'));
    await f.waitFor(async () => (await zalo.outbox.counts()).undeliverable > before);
    await settle();
    expect(f.cs.filter((c) => c.body.recipient.user_id === 'u-window')).toHaveLength(1);
    f.state.perUser.delete('u-window');
  });

  it('delays replies while the Zalo API is down, without losing them', async () => {
    f.state.perUser.set('u-down', 'down');
    await send(r, textEvent(APP_ID, 'u-down', 'chu ky so la gi'));
    await f.waitFor(() => f.cs.some((c) => c.body.recipient.user_id === 'u-down'));
    // Meanwhile the webhook and other users are served.
    const other = await send(r, textEvent(APP_ID, 'u-other', 'xin chào'));
    expect(other.status).toBe(200);
    await f.waitFor(() => texts(f, 'u-other').length > 0);
    expect(texts(f, 'u-down')).toHaveLength(0);
    f.state.perUser.delete('u-down');
    const [answer] = await f.waitFor(() => texts(f, 'u-down').length > 0 && texts(f, 'u-down'));
    expect(answer).toMatch(/chữ ký số/i);
  });
});

describe('Zalo tokens and restarts', () => {
  it('refreshes an expired token once, retries, persists the new pair, and survives a restart', async () => {
    const f = await startFakeZalo({
      accessToken: 'env-access',
      refreshToken: 'env-refresh',
      appSecret: APP_SECRET,
    });
    const dataDir = tempDataDir();
    // The restarted app finds the same store: the same DATA_DIR, or the same PostgreSQL database.
    const database = onPostgres ? await createTestDatabase() : undefined;
    const store = { DATA_DIR: dataDir, ...(database ? { DATABASE_URL: database.url } : {}) };
    try {
      f.state.accessToken = 'zalo-expired-it'; // env-access is no longer valid: -216
      const first = await startApp(env(f, store));
      try {
        await send(first, textEvent(APP_ID, 'u-token', 'xin chào', 'm-token'));
        await f.waitFor(() => texts(f, 'u-token').length > 0);
        expect(f.refreshes).toHaveLength(1);
        expect(f.refreshes[0]).toMatchObject({
          secretKey: APP_SECRET,
          contentType: 'application/x-www-form-urlencoded',
          form: { app_id: APP_ID, grant_type: 'refresh_token', refresh_token: 'env-refresh' },
          ok: true,
        });
        const attempts = f.cs.filter((c) => c.body.recipient.user_id === 'u-token');
        expect(attempts.map((c) => [c.accessToken, c.outcome])).toEqual([
          ['env-access', 'token_invalid'],
          ['access-1', 'ok'],
        ]);
        const row = await first.app.assistant.sql.get<{
          access_token: string;
          refresh_token: string;
          expires_at: number;
        }>('SELECT access_token, refresh_token, expires_at FROM zalo_tokens');
        expect(row).toMatchObject({ access_token: 'access-1', refresh_token: 'refresh-1' });
        expect(row!.expires_at).toBeGreaterThan(Date.now() + 24 * 3_600_000);
        expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
      } finally {
        await first.stop();
      }

      // Same environment (its refresh token is spent), same store: the stored pair is used.
      const second = await startApp(env(f, store), { loadKnowledge: false });
      try {
        const dup = await send(second, textEvent(APP_ID, 'u-token', 'xin chào', 'm-token'));
        expect(((await dup.json()) as { status: string }).status).toBe('duplicate');
        await send(second, textEvent(APP_ID, 'u-token', 'xin chào lần nữa'));
        await f.waitFor(() => texts(f, 'u-token').length > 1);
        expect(f.cs.at(-1)!.accessToken).toBe('access-1');
        expect(f.refreshes).toHaveLength(1);
      } finally {
        await second.stop();
      }
    } finally {
      await f.close();
      await database?.drop();
    }
  });

  it('shows a failed refresh in /readyz and keeps the reply queued', async () => {
    const f = await startFakeZalo({
      accessToken: 'env-access',
      refreshToken: 'env-refresh',
      appSecret: APP_SECRET,
    });
    const r = await startApp(env(f));
    try {
      expect((await fetch(`${r.url}/readyz`)).status).toBe(200);
      f.state.accessToken = 'zalo-expired-it';
      f.state.refreshFails = true;
      await send(r, textEvent(APP_ID, 'u-refresh', 'xin chào'));
      await f.waitFor(() => f.refreshes.length === 1);
      const ready = await f.waitFor(async () => {
        const res = await fetch(`${r.url}/readyz`);
        return res.status === 503 && res;
      });
      const body = (await ready.json()) as { reason: string; checks: { name: string; ok: boolean }[] };
      expect(body.reason).toMatch(/^zalo: the access token could not be refreshed/);
      expect(body.reason).not.toMatch(/env-refresh|env-access/);
      expect(body.checks.find((c) => c.name === 'zalo')?.ok).toBe(false);
      expect((await zaloOf(r).outbox.counts()).pending).toBeGreaterThan(0);
    } finally {
      await r.stop();
      await f.close();
    }
  });

  it('answers 404 on /api/zalo when Zalo is not configured', async () => {
    const r = await startApp({}, { loadKnowledge: false });
    try {
      expect((await fetch(`${r.url}/api/zalo`, { method: 'POST', body: '{}' })).status).toBe(404);
    } finally {
      await r.stop();
    }
  });
});
