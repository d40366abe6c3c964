import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { MessageFactory, type Activity, type TurnContext } from 'botbuilder';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createZaloChannel,
  type UndeliverableMessage,
  type ZaloChannelOptions,
} from '../../src/channels/zalo/index.js';
import { createHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { postEvent, startFakeZalo, textEvent, type FakeZalo } from '../helpers/fakeZalo.js';
import { createTestStore, type TestStore } from './store.js';

/**
 * The Zalo channel built around a small restify server (the same createHttpServer as the app) and
 * a stub bot, with short backoff: failures, retries, ordering and restarts, against the fake Zalo.
 * The store is SQLite, or PostgreSQL with TEST_BACKEND=postgres.
 */
const APP_ID = '1234567890123456789';
const OA_SECRET = 'oa-secret-key';
const APP_SECRET = 'app-secret-key';
const LONG = Array.from(
  { length: 9 },
  (_, i) => `Phần ${i + 1}. ${'Hướng dẫn từng bước cho người dân. '.repeat(15).trim()}`,
).join('\n\n');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function fake(): Promise<FakeZalo> {
  const f = await startFakeZalo({
    accessToken: 'env-access',
    refreshToken: 'env-refresh',
    appSecret: APP_SECRET,
  });
  cleanups.push(f.close);
  return f;
}

async function startChannel(
  f: FakeZalo,
  o: { store?: TestStore; options?: Partial<ZaloChannelOptions> } = {},
) {
  let store = o.store;
  if (!store) {
    const created = (store = await createTestStore('zalo-'));
    cleanups.push(() => created.close());
  }
  const sql = await store.open();
  const logger = createLogger({ level: 'silent', pretty: false });
  const turns: Partial<Activity>[] = [];
  const bot = {
    run: async (context: TurnContext) => {
      const a = context.activity;
      turns.push({ ...a });
      if (a.type === 'conversationUpdate') await context.sendActivity('welcome');
      if (a.type !== 'message') return;
      if (!a.text) await context.sendActivity('notice: text only');
      else if (a.text === 'long') await context.sendActivity(LONG);
      else if (a.text === 'menu')
        await context.sendActivity(MessageFactory.suggestedActions(['Một', 'Hai'], 'Chọn'));
      else await context.sendActivity(`echo: ${a.text}`);
    },
  };
  const channel = createZaloChannel({
    config: {
      appId: APP_ID,
      appSecret: APP_SECRET,
      oaSecretKey: OA_SECRET,
      accessToken: 'env-access',
      refreshToken: 'env-refresh',
      apiBase: f.url,
      oauthBase: f.url,
    },
    sql,
    bot,
    logger,
    baseBackoffMs: 40,
    maxBackoffMs: 200,
    requestTimeoutMs: 2000,
    ...o.options,
  });
  const server = createHttpServer({ logger, maxBodyBytes: 256 * 1024 });
  channel.register(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  await channel.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await new Promise<void>((r) => server.close(() => r()));
    await channel.stop();
    await sql.close();
  };
  cleanups.push(stop);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const send = (event: unknown) => postEvent(url, event, { appId: APP_ID, oaSecretKey: OA_SECRET });
  return { url, channel, sql, store, turns, send, stop };
}

const textsTo = (f: FakeZalo, userId: string) => f.delivered(userId).map((r) => r.body.message.text ?? '');

describe('Zalo webhook body', () => {
  it('keeps the exact body bytes while restify still parses JSON bodies for every route', async () => {
    const logger = createLogger({ level: 'silent', pretty: false });
    const server = createHttpServer({ logger, maxBodyBytes: 1024 });
    server.post('/echo', async (req, res) => {
      res.json(200, { body: req.body as unknown, bytes: req.rawBodyBytes?.toString('base64') });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const raw = '{ "a": "chữ ký số" }';
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: raw,
    });
    const json = (await res.json()) as { body: unknown; bytes: string };
    expect(json.body).toEqual({ a: 'chữ ký số' });
    expect(Buffer.from(json.bytes, 'base64').toString('utf8')).toBe(raw);
  });

  it('verifies the signature on the exact bytes received (not a re-encoded string)', async () => {
    const f = await fake();
    const c = await startChannel(f);
    const event = textEvent(APP_ID, 'u-bytes', 'PLACEHOLDER', 'm-bytes');
    // An invalid UTF-8 byte in the text: decoding and re-encoding would change the bytes.
    const [head, tail] = JSON.stringify(event).split('PLACEHOLDER') as [string, string];
    const raw = Buffer.concat([Buffer.from(head), Buffer.from([0x78, 0xff, 0x79]), Buffer.from(tail)]);
    const post = (signature: string) =>
      fetch(`${c.url}/api/zalo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-zevent-signature': signature },
        body: raw,
      });
    const macOf = (bytes: Buffer) =>
      `mac=${createHash('sha256')
        .update(
          Buffer.concat([Buffer.from(APP_ID), bytes, Buffer.from(event.timestamp), Buffer.from(OA_SECRET)]),
        )
        .digest('hex')}`;
    const reencoded = Buffer.from(raw.toString('utf8'), 'utf8');
    expect(reencoded.equals(raw)).toBe(false);
    expect((await post(macOf(reencoded))).status).toBe(401);
    expect((await post(macOf(raw))).status).toBe(200);
    await f.waitFor(() => textsTo(f, 'u-bytes').length === 1);
  });

  it('answers the unsigned empty probe with 200 and ignores echoes; images get the text-only notice', async () => {
    const f = await fake();
    const c = await startChannel(f);
    const probe = await fetch(`${c.url}/api/zalo`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(probe.status).toBe(200);
    expect((await fetch(`${c.url}/api/zalo`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${c.url}/api/zalo`)).status).toBe(200);
    const echo = {
      ...textEvent(APP_ID, 'oa', 'hi'),
      event_name: 'oa_send_text',
      recipient: { id: 'u-echo' },
    };
    expect((await c.send(echo)).status).toBe(200);
    const image = {
      ...textEvent(APP_ID, 'u-img', 'caption'),
      event_name: 'user_send_image',
    };
    image.message = {
      ...image.message,
      attachments: [{ type: 'image', payload: { url: 'https://x/y.jpg' } }],
    } as never;
    expect((await c.send(image)).status).toBe(200);
    await f.waitFor(() => textsTo(f, 'u-img')[0] === 'notice: text only');
    await c.channel.idle();
    expect(c.turns.map((t) => t.from?.id)).toEqual(['u-img']);
    expect(f.delivered('u-echo')).toHaveLength(0);
  });
});

describe('Zalo outbox', () => {
  it('retries through down, 5xx and -32 with backoff, and delivers split parts in order', async () => {
    const f = await fake();
    const c = await startChannel(f);
    f.script('down', 'http500', 'rate');
    expect((await c.send(textEvent(APP_ID, 'u-long', 'long'))).status).toBe(200);
    const parts = await f.waitFor(() => {
      const t = textsTo(f, 'u-long');
      return t.length >= 3 && t;
    });
    expect(f.cs.slice(0, 3).map((r) => r.outcome)).toEqual(['down', 'http500', 'rate']);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(2000);
    expect(parts.join('\n\n')).toBe(LONG);
    // Zalo records a request before answering it: wait for the last status update.
    await f.waitFor(async () => (await c.channel.outbox.counts()).pending === 0);
    expect(await c.channel.outbox.counts()).toMatchObject({ sent: 3, failed: 0, undeliverable: 0 });
  });

  it('keeps serving other users while one user’s messages wait', async () => {
    const f = await fake();
    const c = await startChannel(f, { options: { baseBackoffMs: 300 } });
    f.state.perUser.set('u-slow', 'down');
    await c.send(textEvent(APP_ID, 'u-slow', 'long'));
    await f.waitFor(() => f.cs.some((r) => r.body.recipient.user_id === 'u-slow'));
    await c.send(textEvent(APP_ID, 'u-fast', 'xin chào'));
    await f.waitFor(() => textsTo(f, 'u-fast').length === 1);
    expect(textsTo(f, 'u-slow')).toHaveLength(0);
    f.state.perUser.delete('u-slow');
    const parts = await f.waitFor(() => {
      const t = textsTo(f, 'u-slow');
      return t.length >= 3 && t;
    });
    expect(parts.join('\n\n')).toBe(LONG);
  });

  it('keeps pending replies across a restart and sends them when Zalo is back', async () => {
    const f = await fake();
    const first = await startChannel(f);
    f.state.defaultOutcome = 'down';
    await first.send(textEvent(APP_ID, 'u-restart', 'câu hỏi', 'm-restart'));
    await f.waitFor(() => f.cs.length >= 1);
    await first.stop();
    expect(textsTo(f, 'u-restart')).toHaveLength(0);
    f.state.defaultOutcome = 'ok';
    const second = await startChannel(f, { store: first.store });
    await f.waitFor(() => textsTo(f, 'u-restart').length === 1);
    expect(textsTo(f, 'u-restart')).toEqual(['echo: câu hỏi']);
    // The same msg_id delivered again after the restart is still a duplicate.
    const again = await second.send(textEvent(APP_ID, 'u-restart', 'câu hỏi', 'm-restart'));
    expect(((await again.json()) as { status: string }).status).toBe('duplicate');
  });

  it('marks -230 / -232 undeliverable at once and tells the listeners', async () => {
    const f = await fake();
    const seen: UndeliverableMessage[] = [];
    const c = await startChannel(f, { options: { onUndeliverable: (m) => seen.push(m) } });
    await c.send(textEvent(APP_ID, 'u-window', 'xin chào'));
    await f.waitFor(() => textsTo(f, 'u-window').length === 1);
    const reference = (await c.channel.conversations.get('u-window'))!.reference;

    for (const outcome of ['window', 'window232'] as const) {
      f.script(outcome);
      let id = '';
      await c.channel.continueConversation(reference, async (ctx) => {
        id = (await ctx.sendActivity('Tổ công nghệ số trả lời: ...'))!.id;
      });
      const status = await f.waitFor(async () => {
        const s = await c.channel.statusOf(id);
        return s?.status === 'undeliverable' && s;
      });
      expect(status).toMatchObject({ attempts: 1, errorCode: outcome === 'window' ? -230 : -232 });
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(f.cs.filter((r) => r.body.recipient.user_id === 'u-window')).toHaveLength(3); // no retries
    expect(seen.map((m) => [m.status, m.errorCode, m.userId, m.text])).toEqual([
      ['undeliverable', -230, 'u-window', 'Tổ công nghệ số trả lời: ...'],
      ['undeliverable', -232, 'u-window', 'Tổ công nghệ số trả lời: ...'],
    ]);
    expect(seen[0]!.reference.conversation?.id).toBe('u-window');
  });

  it('cancels pending replies when the user unfollows', async () => {
    const f = await fake();
    const c = await startChannel(f, { options: { baseBackoffMs: 5000 } });
    f.state.perUser.set('u-gone', 'down');
    await c.send(textEvent(APP_ID, 'u-gone', 'long'));
    await f.waitFor(() => f.cs.some((r) => r.body.recipient.user_id === 'u-gone'));
    await c.send({
      oa_id: '1646843870823903717',
      follower: { id: 'u-gone' },
      event_name: 'unfollow',
      app_id: APP_ID,
      timestamp: String(Date.now()),
    });
    await f.waitFor(async () => (await c.channel.outbox.counts()).undeliverable === 3);
    expect((await c.channel.conversations.get('u-gone'))?.followed).toBe(false);
  });

  it('falls back to the numbered text when Zalo refuses button templates', async () => {
    const f = await fake();
    const c = await startChannel(f, { options: { buttonTemplates: true } });
    f.script('invalid');
    await c.send(textEvent(APP_ID, 'u-buttons', 'menu'));
    await f.waitFor(() => textsTo(f, 'u-buttons').length === 1);
    const [refused, sent] = f.cs.filter((r) => r.body.recipient.user_id === 'u-buttons');
    expect(refused!.body.message.attachment).toMatchObject({
      type: 'template',
      payload: { buttons: [{ title: 'Một', type: 'oa.query.show', payload: 'Một' }, { title: 'Hai' }] },
    });
    expect(sent!.body.message.attachment).toBeUndefined();
    expect(sent!.body.message.text).toBe('Chọn\n\nBạn gõ số để chọn:\n1. Một\n2. Hai');
    await c.send(textEvent(APP_ID, 'u-buttons', '2'));
    await f.waitFor(() => textsTo(f, 'u-buttons')[1] === 'echo: Hai');
  });
});
