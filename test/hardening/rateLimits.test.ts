import { describe, expect, it } from 'vitest';
import { RateLimiter, UNLIMITED, perMinute } from '../../src/http/rateLimit.js';
import { clientIp, ipKey, limitedPerIp } from '../../src/http/rateLimits.js';
import { TOO_FAST_TEXT } from '../../src/bot/citizenBot.js';
import { loadConfig } from '../../src/config.js';
import { DirectLineClient } from '../helpers/directLineClient.js';
import { messageActivity, startFakeConnector } from '../helpers/fakeConnector.js';
import { postEvent, startFakeZalo, textEvent } from '../helpers/fakeZalo.js';
import { appsStoppedAfterEach } from '../helpers/testApp.js';
import { prebuiltDataDir } from '../faults/service.js';

const start = appsStoppedAfterEach();

const ADMIN_TOKEN = 'rate-limit-admin-token';

/** Checks a 429 in the one error shape, with a Retry-After in whole seconds within the minute. */
async function expectTooMany(res: Response): Promise<void> {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('TooManyRequests');
  expect(body.error.message).toBeTruthy();
}

async function citizen(url: string, userId: string): Promise<DirectLineClient> {
  const dl = new DirectLineClient(url, userId);
  await dl.generate();
  await dl.start();
  await dl.waitFor((bot) => bot.some((b) => /Xin chào/.test(b.text ?? '')));
  return dl;
}

const team = (url: string, token: string, path = '/me', headers: Record<string, string> = {}) =>
  fetch(`${url}/api/team${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });

describe('RateLimiter', () => {
  it('refuses past the budget with the seconds left in the window, and renews after it', () => {
    const l = new RateLimiter(2, 60_000);
    expect(l.consume('a', 0)).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(l.consume('a', 1000).allowed).toBe(true);
    expect(l.consume('a', 20_500)).toEqual({ allowed: false, retryAfterSeconds: 40 });
    expect(l.consume('b', 20_500).allowed).toBe(true); // another key has its own budget
    expect(l.consume('a', 60_000).allowed).toBe(true);
  });

  it('keeps memory bounded: a flood of distinct keys never grows it past maxKeys, old keys expire', () => {
    const l = new RateLimiter(5, 60_000, { maxKeys: 1000 });
    let largest = 0;
    for (let i = 0; i < 200_000; i++) {
      l.consume(`ip-${i}`, Math.floor(i / 10)); // 200 000 addresses within 20 s
      largest = Math.max(largest, l.size);
    }
    expect(largest).toBeLessThanOrEqual(1000);
    // Everything expires once its window has passed.
    for (let i = 0; i < 50; i++) l.consume(`late-${i}`, 200_000);
    expect(l.size).toBe(50);
  });

  it('a budget of 0 means no limit', () => {
    expect(perMinute(0)).toBe(UNLIMITED);
    expect(perMinute(3)).toBeInstanceOf(RateLimiter);
  });
});

describe('rate limit settings', () => {
  it('has generous defaults, 0 = no limit, TRUST_PROXY as a hop count or true/false', () => {
    expect(loadConfig({}).rateLimits).toEqual({
      ipPerMinute: 600,
      directLineTokensPerMinute: 20,
      directLineUserPerMinute: 60,
      botUserPerMinute: 60,
      teamPerMinute: 300,
      trustProxyHops: 0,
    });
    expect(loadConfig({ TRUST_PROXY: 'true' }).rateLimits.trustProxyHops).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'false' }).rateLimits.trustProxyHops).toBe(0);
    expect(loadConfig({ TRUST_PROXY: '2' }).rateLimits.trustProxyHops).toBe(2);
    expect(loadConfig({ RATE_LIMIT_IP_PER_MINUTE: '0' }).rateLimits.ipPerMinute).toBe(0);
    expect(() => loadConfig({ TRUST_PROXY: 'maybe' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ RATE_LIMIT_TEAM_PER_MINUTE: '-1' })).toThrow(/RATE_LIMIT_TEAM_PER_MINUTE/);
  });
});

describe('client address', () => {
  const req = (remoteAddress: string, xff?: string) =>
    ({ socket: { remoteAddress }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as never;

  it('ignores X-Forwarded-For unless proxies are trusted, then takes the entry the proxy added', () => {
    expect(clientIp(req('127.0.0.1', '203.0.113.9'))).toBe('127.0.0.1');
    expect(clientIp(req('::ffff:10.0.0.5'))).toBe('10.0.0.5');
    // nginx appends the address it saw: a client-supplied first entry is not trusted.
    expect(clientIp(req('127.0.0.1', '1.2.3.4, 203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientIp(req('127.0.0.1', '1.2.3.4, 203.0.113.9, 10.0.0.2'), 2)).toBe('203.0.113.9');
    expect(clientIp(req('127.0.0.1', 'garbage'), 1)).toBe('127.0.0.1');
    expect(clientIp(req('127.0.0.1'), 1)).toBe('127.0.0.1');
  });

  it('groups IPv6 clients by /64 and limits only the APIs', () => {
    expect(ipKey('2001:db8:1:2:aaaa::1')).toBe(ipKey('2001:db8:1:2:bbbb::2'));
    expect(ipKey('2001:db8:1:2::1')).not.toBe(ipKey('2001:db8:1:3::1'));
    expect(ipKey('203.0.113.9')).toBe('203.0.113.9');
    for (const p of ['/v3/directline/tokens/generate', '/api/team/me', '/api/team/kb/files'])
      expect(limitedPerIp(p)).toBe(true);
    for (const p of ['/api/messages', '/api/zalo', '/healthz', '/readyz', '/', '/team', '/webchat/app.js'])
      expect(limitedPerIp(p)).toBe(false);
  });
});

describe('HTTP rate limits', () => {
  it('limits the APIs per client IP (429, Retry-After, JSON), never health checks or pages', async () => {
    const { url } = await start({
      DATA_DIR: await prebuiltDataDir(),
      ADMIN_TOKEN,
      RATE_LIMIT_IP_PER_MINUTE: '4',
      TRUST_PROXY: 'true',
    });
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 0; i < 4; i++)
      expect((await team(url, ADMIN_TOKEN, '/me', from('203.0.113.9'))).status).toBe(200);
    await expectTooMany(await team(url, ADMIN_TOKEN, '/me', from('203.0.113.9')));
    // The router decodes the path: an encoded one is limited all the same.
    await expectTooMany(
      await fetch(`${url}/%61pi/t%65am/me`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...from('203.0.113.9') },
      }),
    );
    // Every API under the limit: Direct Line too.
    const generate = await fetch(`${url}/v3/directline/tokens/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...from('203.0.113.9') },
      body: '{}',
    });
    await expectTooMany(generate);

    // Another address is not slowed down.
    expect((await team(url, ADMIN_TOKEN, '/me', from('198.51.100.20'))).status).toBe(200);
    const other = new DirectLineClient(url, 'neighbour');
    await other.generate();
    // Health checks and pages are never limited.
    for (const path of ['/healthz', '/readyz', '/', '/team']) {
      const res = await fetch(`${url}${path}`, { headers: from('203.0.113.9') });
      expect(res.status, path).toBe(200);
    }
  });

  it('limits Direct Line posts per token user; another citizen still gets answers at once', async () => {
    const { url } = await start({
      DATA_DIR: await prebuiltDataDir(),
      RATE_LIMIT_DL_USER_PER_MINUTE: '3',
      RATE_LIMIT_DL_TOKENS_PER_MINUTE: '2',
      CHAT_MESSAGES_PER_MINUTE: '100',
    });
    const flooder = await citizen(url, 'flooder');
    const neighbour = await citizen(url, 'neighbour');
    // Conversations started per IP: the third within the minute is refused.
    await expectTooMany(
      await fetch(`${url}/v3/directline/tokens/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    );

    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await flooder.post(`chu ky so ${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
    const refused = await fetch(`${url}/v3/directline/conversations/${flooder.conversationId}/activities`, {
      method: 'POST',
      headers: { authorization: `Bearer ${flooder.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', text: 'nữa', from: { id: 'flooder' } }),
    });
    await expectTooMany(refused);
    // Reading its conversation is not refused (only posts are counted per user).
    expect((await flooder.activities()).status).toBe(200);

    const t0 = Date.now();
    expect((await neighbour.post('lam sao kich hoat vneid muc 2')).status).toBe(200);
    await neighbour.waitFor((bot) => bot.some((b) => /Nguồn: /.test(b.text ?? '')), 5000);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('limits /api/team per token; another member is not affected', async () => {
    const { url } = await start({ ADMIN_TOKEN, RATE_LIMIT_TEAM_PER_MINUTE: '3' }, { loadKnowledge: false });
    const created = await fetch(`${url}/api/team/members`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Chị Lan', role: 'member', communes: ['phường 5'] }),
    });
    expect(created.status).toBe(200);
    const { token } = (await created.json()) as { token: string };
    expect((await team(url, ADMIN_TOKEN)).status).toBe(200);
    expect((await team(url, ADMIN_TOKEN, '/questions')).status).toBe(200);
    await expectTooMany(await team(url, ADMIN_TOKEN));
    // The dashboard's event stream passes its token in the query: counted against the same budget.
    await expectTooMany(await fetch(`${url}/api/team/events?token=${ADMIN_TOKEN}`));
    expect((await team(url, token)).status).toBe(200);
    expect((await team(url, token, '/questions')).status).toBe(200);
  });

  it('limits /api/messages per conversation user (after authentication), not per connector IP', async () => {
    const connector = await startFakeConnector();
    try {
      const { url } = await start({
        DATA_DIR: await prebuiltDataDir(),
        RATE_LIMIT_BOT_USER_PER_MINUTE: '2',
        RATE_LIMIT_IP_PER_MINUTE: '2',
      });
      const post = (conversation: string, text: string) =>
        fetch(`${url}/api/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(messageActivity(connector.url, text, conversation, `user-${conversation}`)),
        });
      expect((await post('conv-a', 'xin chào')).status).toBeLessThan(300);
      expect((await post('conv-a', 'chữ ký số là gì')).status).toBeLessThan(300);
      await expectTooMany(await post('conv-a', 'nữa'));
      const before = connector.messages().length;
      // Another conversation from the same (connector) address: answered, the per-IP budget of 2 does not apply.
      expect((await post('conv-b', 'lam sao kich hoat vneid muc 2')).status).toBeLessThan(300);
      expect((await post('conv-c', 'lam sao kich hoat vneid muc 2')).status).toBeLessThan(300);
      await connector.waitForMessages(before + 2);
      const answers = connector.messages().filter((m) => /conv-[bc]/.test(m.path));
      expect(answers.some((m) => /Nguồn: /.test(m.body.text ?? ''))).toBe(true);
    } finally {
      await connector.close();
    }
  });

  it('does not count unauthenticated activities: with MicrosoftAppId set they get 401, never 429', async () => {
    const { url } = await start(
      {
        MicrosoftAppId: '00000000-0000-0000-0000-000000000001',
        MicrosoftAppPassword: 'secret',
        RATE_LIMIT_BOT_USER_PER_MINUTE: '1',
      },
      { loadKnowledge: false },
    );
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(messageActivity('https://smba.trafficmanager.net/apis/', 'xin chào')),
      });
      expect(res.status).toBe(401);
    }
  });

  it('Zalo: the webhook is not limited per IP (events come from Zalo servers); each Zalo user gets the chat brake', async () => {
    const APP_ID = '1234567890123456789';
    const OA_SECRET = 'oa-secret-key';
    const f = await startFakeZalo({
      accessToken: 'access',
      refreshToken: 'refresh',
      appSecret: 'app-secret',
    });
    try {
      const { url } = await start({
        DATA_DIR: await prebuiltDataDir(),
        ZALO_APP_ID: APP_ID,
        ZALO_OA_SECRET_KEY: OA_SECRET,
        ZALO_APP_SECRET: 'app-secret',
        ZALO_ACCESS_TOKEN: 'access',
        ZALO_REFRESH_TOKEN: 'refresh',
        ZALO_API_BASE: f.url,
        ZALO_OAUTH_BASE: f.url,
        CHAT_MESSAGES_PER_MINUTE: '2',
        RATE_LIMIT_IP_PER_MINUTE: '2',
      });
      const send = (user: string, text: string) =>
        postEvent(url, textEvent(APP_ID, user, text), { appId: APP_ID, oaSecretKey: OA_SECRET });
      for (let i = 0; i < 4; i++) expect((await send('u-flood', `chu ky so la gi ${i}`)).status).toBe(200);
      expect((await send('u-calm', 'lam sao kich hoat vneid muc 2')).status).toBe(200);
      const texts = (user: string) => f.delivered(user).map((c) => c.body.message.text ?? '');
      await f.waitFor(() => texts('u-flood').length >= 4 && texts('u-calm').length >= 1);
      expect(texts('u-flood').filter((t) => t === TOO_FAST_TEXT)).toHaveLength(2);
      expect(texts('u-flood').filter((t) => /Nguồn: /.test(t))).toHaveLength(2);
      expect(texts('u-calm')[0]).toMatch(/Nguồn: /);
    } finally {
      await f.close();
    }
  });
});
