import { TurnContext } from 'botbuilder';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DirectLineClient, until } from '../helpers/directLineClient.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { appsStoppedAfterEach, onPostgres, startApp, tempDataDir } from '../helpers/testApp.js';

const start = appsStoppedAfterEach();

describe('Direct Line 3.0', () => {
  it('starts a conversation with a welcome, echoes the citizen with a server id, and answers with a source', async () => {
    const { url } = await start();
    const dl = new DirectLineClient(url);
    await dl.generate();
    const started = await dl.start();
    expect(started.status).toBe(201);
    expect(started.json.conversationId).toBe(dl.conversationId);
    expect(started.json.streamUrl).toMatch(/^ws:\/\/.+\/stream\?t=/);
    await dl.waitFor((bot) => bot.some((b) => /Xin chào/.test(b.text ?? '')));

    const posted = await dl.post('dang ky chu ky so the nao', 'client-1');
    expect(posted.status).toBe(200);
    expect(posted.json.id).toMatch(new RegExp(`^${dl.conversationId}\\|\\d+$`));
    const all = await dl.waitFor((bot) => bot.length >= 2);
    const echo = all.find((a) => a.channelData?.clientActivityID === 'client-1')!;
    expect(echo.id).toBe(posted.json.id);
    expect(echo.from.role).toBe('user');
    expect(echo.timestamp).toBeTruthy();
    const answer = all.filter((a) => a.from.role === 'bot').at(-1)!;
    expect(answer.text).toMatch(/Nguồn: /);
    expect(answer.replyToId).toBe(echo.id);
    const { json } = await dl.activities();
    expect(typeof json.watermark).toBe('string');
    // A second POST /conversations with the same token resumes instead of starting over.
    expect((await dl.start()).status).toBe(200);
  });

  it('returns only newer activities after a watermark', async () => {
    const { url } = await start();
    const dl = new DirectLineClient(url);
    await dl.generate();
    await dl.start();
    await dl.waitFor((bot) => bot.length >= 1);
    const first = await dl.activities();
    await dl.post('cảm ơn');
    await dl.waitFor((bot) => bot.length >= 2);
    const later = await dl.activities(first.json.watermark);
    expect(later.json.activities.map((a: { text: string }) => a.text)).toEqual([
      'cảm ơn',
      expect.stringMatching(/Không có gì/),
    ]);
  });

  it('streams activities over a WebSocket and replays history when a page resumes', async () => {
    const { url } = await start();
    const dl = new DirectLineClient(url);
    await dl.generate();
    await dl.start();
    const stream = await dl.openStream();
    await dl.post('xin chào');
    await until(
      () => stream.received.filter((a) => a.from.role === 'bot').length >= 2,
      10_000,
      'welcome and greeting on the stream',
    );
    expect(stream.frames.every((f) => f.watermark === undefined || typeof f.watermark === 'string')).toBe(
      true,
    );
    stream.close();

    // Page reload: a new client with the stored token and conversation id reconnects.
    const resumed = new DirectLineClient(url, dl.userId);
    const refreshed = await resumed.refresh(dl.token);
    expect(refreshed.status).toBe(200);
    resumed.token = refreshed.json.token;
    resumed.conversationId = dl.conversationId;
    const reconnect = await resumed.reconnect('');
    expect(reconnect.status).toBe(200);
    const replay = await resumed.openStream(reconnect.json.streamUrl);
    await until(() => replay.received.length >= 3, 5000, 'history replay');
    expect(replay.received.map((a) => a.text)).toContain('xin chào');
    replay.close();
  });

  it('refuses a token of another conversation, a forged token and a missing one', async () => {
    const { url } = await start();
    const alice = new DirectLineClient(url, 'alice');
    const bob = new DirectLineClient(url, 'bob');
    await alice.generate();
    await bob.generate();
    await alice.start();
    await alice.post('bí mật của alice');

    expect((await bob.activities('', bob.token, alice.conversationId)).status).toBe(403);
    expect((await bob.post('chen vao', 'x', bob.token, alice.conversationId)).status).toBe(403);
    const [payload] = alice.token.split('.');
    expect((await bob.activities('', `${payload}.forged`, alice.conversationId)).status).toBe(403);
    const bare = await fetch(`${url}/v3/directline/conversations/${alice.conversationId}/activities`);
    expect(bare.status).toBe(401);
    await expect(
      bob.openStream(alice.streamUrl.replace(/t=[^&]+/, `t=${encodeURIComponent(bob.token)}`)),
    ).rejects.toThrow(/403/);
  });

  it('delivers a proactive message (a team answer) at once, without a stale replyToId', async () => {
    const r = await start();
    const dl = new DirectLineClient(r.url);
    await dl.generate();
    await dl.start();
    await dl.post('xin chào');
    const all = await dl.waitFor((bot) => bot.length >= 2);
    const echo = all.find((a) => a.from.role === 'user')!;
    const reference = TurnContext.getConversationReference({
      ...echo,
      channelId: 'directline',
      conversation: { id: dl.conversationId },
      recipient: { id: 'tro-ly-cong-dan-so', name: 'Trợ lý' },
      serviceUrl: 'https://directline.invalid/',
    } as never);
    const stream = await dl.openStream();
    await r.app.directLine.continueConversation(reference, async (ctx) => {
      await ctx.sendActivity('Tổ công nghệ số trả lời: bạn mang CCCD ra xã nhé.');
    });
    await until(
      () => stream.received.some((a) => /Tổ công nghệ số trả lời/.test(a.text ?? '')),
      5000,
      'proactive message',
    );
    const proactive = stream.received.find((a) => /Tổ công nghệ số trả lời/.test(a.text ?? ''))!;
    expect(proactive.replyToId).toBeUndefined();
    stream.close();
  });

  it('keeps conversations and tokens across a restart', async () => {
    // The same store after the restart: the same DATA_DIR, or the same PostgreSQL database.
    const database = onPostgres ? await createTestDatabase() : undefined;
    onTestFinished(() => database?.drop());
    const store = { DATA_DIR: tempDataDir(), ...(database ? { DATABASE_URL: database.url } : {}) };
    const first = await startApp(store);
    const dl = new DirectLineClient(first.url);
    await dl.generate();
    await dl.start();
    await dl.post('xin chào');
    await dl.waitFor((bot) => bot.length >= 2);
    await first.stop();

    const second = await start(store);
    const again = new DirectLineClient(second.url, dl.userId);
    again.token = dl.token;
    again.conversationId = dl.conversationId;
    const history = await again.activities('');
    expect(history.status).toBe(200);
    expect(history.json.activities.map((a: { text: string }) => a.text)).toContain('xin chào');
    await again.post('cảm ơn');
    await again.waitFor((bot) => bot.some((b) => /Không có gì/.test(b.text ?? '')));
  });

  it('refreshes a token, and a returning citizen can exchange an expired one for the same conversation', async () => {
    const { url } = await start({ DIRECTLINE_TOKEN_TTL_SECONDS: '60' });
    const dl = new DirectLineClient(url);
    await dl.generate();
    const refreshed = await dl.refresh();
    expect(refreshed.status).toBe(200);
    expect(refreshed.json.conversationId).toBe(dl.conversationId);
    expect(refreshed.json.token).not.toBe(dl.token);
    expect((await dl.activities('', refreshed.json.token)).status).toBe(200);
    expect((await dl.refresh('garbage.token')).status).toBe(403);
  });

  it('rate-limits token generation per IP with Retry-After, and answers CORS only for configured origins', async () => {
    const { url } = await start({ WEBCHAT_ORIGINS: 'https://cong.tinh.gov.vn' });
    let last: Response | undefined;
    for (let i = 0; i < 25; i++)
      last = await fetch(`${url}/v3/directline/tokens/generate`, { method: 'POST' });
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);

    const allowed = await fetch(`${url}/v3/directline/conversations`, {
      method: 'OPTIONS',
      headers: { origin: 'https://cong.tinh.gov.vn', 'access-control-request-method': 'POST' },
    });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://cong.tinh.gov.vn');
    const other = await fetch(`${url}/v3/directline/conversations`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('rejects a malformed activity with a 400 and keeps personal data out of the stored echo', async () => {
    const { url } = await start();
    const dl = new DirectLineClient(url);
    await dl.generate();
    await dl.start();
    const bad = await fetch(`${url}/v3/directline/conversations/${dl.conversationId}/activities`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dl.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'invoke', text: 5 }),
    });
    expect(bad.status).toBe(400);
    await dl.post('mã OTP của tôi là 123456 có sao không');
    const all = await dl.waitFor((bot) => bot.some((b) => /OTP/.test(b.text ?? '')));
    const echo = all.find((a) => a.from.role === 'user')!;
    expect(echo.text).not.toContain('123456');
  });
});
