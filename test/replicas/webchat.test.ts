import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ETagConflictError } from '../../src/storage/sqlStorage.js';
import { DirectLineClient, until, type DlActivity } from '../helpers/directLineClient.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { onPostgres, startApp, type RunningApp } from '../helpers/testApp.js';
import { prebuiltDataDir } from '../faults/service.js';

/**
 * Two replicas of the service (two app instances on different ports) sharing one PostgreSQL, as a
 * province running several servers behind a load balancer does. Each has its own DATA_DIR (the
 * knowledge index is per server); everything a citizen's conversation needs is in PostgreSQL.
 */
const FORWARD_BUTTON = 'Có, chuyển giúp mình';
const FORWARDED = /^Mình đã chuyển câu hỏi của bạn tới Tổ công nghệ số cộng đồng phường 5/;
const said = (bot: DlActivity[], pattern: RegExp) => bot.some((a) => pattern.test(a.text ?? ''));

let database: TestDatabase | undefined;
const running: RunningApp[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop().catch(() => undefined);
  await database?.drop();
  database = undefined;
});

/** Starts two replicas at once on one fresh database (both migrate and settle the token secret). */
async function twoReplicas(env: Record<string, string> = {}): Promise<[RunningApp, RunningApp]> {
  database = await createTestDatabase();
  const shared = { DATABASE_URL: database.url, ...env };
  const [a, b] = await Promise.all([
    startApp({ ...shared, DATA_DIR: await prebuiltDataDir('tlcds-replica-a-') }),
    startApp({ ...shared, DATA_DIR: await prebuiltDataDir('tlcds-replica-b-') }),
  ]);
  running.push(a, b);
  expect(a.port).not.toBe(b.port);
  return [a, b];
}

/** One citizen, with a Direct Line client per replica sharing the token and the conversation. */
async function citizen(a: RunningApp, b: RunningApp, userId: string) {
  const onA = new DirectLineClient(a.url, userId);
  await onA.generate();
  const onB = new DirectLineClient(b.url, userId);
  onB.token = onA.token;
  onB.conversationId = onA.conversationId;
  return { onA, onB };
}

describe.runIf(onPostgres)('two replicas sharing one PostgreSQL', () => {
  it('keeps the dialog state of a web chat conversation whose requests alternate between them', async () => {
    const [a, b] = await twoReplicas();
    const { onA, onB } = await citizen(a, b, 'citizen-replicas');
    expect((await onA.start()).status).toBe(201);
    expect((await onB.start()).status).toBe(200); // started once, whichever replica is asked
    await onB.waitFor((bot) => said(bot, /Xin chào/));

    // A question the bot cannot answer (on A); the offer to forward it, read from B.
    expect((await onA.post('nhà tôi nuôi gà bị toi thì báo ai')).status).toBe(200);
    await onB.waitFor((bot) =>
      bot.some((m) => m.suggestedActions?.actions.some((x) => x.title === FORWARD_BUTTON)),
    );
    // The citizen accepts on B: B continues the dialog A started.
    expect((await onB.post(FORWARD_BUTTON)).status).toBe(200);
    await onA.waitFor((bot) => said(bot, /xã\/phường nào/));
    // The commune on A again: A continues what B did, and the question is forwarded.
    expect((await onA.post('phường 5')).status).toBe(200);
    const all = await onB.waitFor((bot) => said(bot, FORWARDED));
    const bot = all.filter((x) => x.from.role === 'bot' && x.type === 'message');
    // Every turn answered once, in order (no turn ran on a stale state and answered again).
    expect(bot.filter((m) => FORWARDED.test(m.text ?? ''))).toHaveLength(1);
    expect(all.map((x) => x.id)).toEqual([...all.map((x) => x.id)].sort());

    const stored = (await b.app.assistant.unanswered.list()).filter((q) => q.userId === 'citizen-replicas');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ text: 'nhà tôi nuôi gà bị toi thì báo ai', commune: 'phường 5' });
    // Everything lives in PostgreSQL: no replica opened an embedded SQLite store beside it.
    for (const r of [a, b]) {
      expect(r.app.assistant.db).toBeUndefined();
      expect(fs.readdirSync(r.config.dataDir).filter((f) => f.startsWith('assistant.db'))).toEqual([]);
    }
  });

  it("delivers the bot's answer to the citizen's WebSocket on B when the message is posted to A", async () => {
    const [a, b] = await twoReplicas();
    const { onA, onB } = await citizen(a, b, 'citizen-stream');
    await onA.start();
    await onA.waitFor((bot) => said(bot, /Xin chào/));
    // The stream URL B gives points at B.
    const { json } = await onB.reconnect();
    expect(json.streamUrl).toContain(`:${b.port}/`);
    const stream = await onB.openStream(json.streamUrl);
    try {
      await until(
        () => stream.received.some((x) => /Xin chào/.test(x.text ?? '')),
        10_000,
        'the replayed welcome',
      );
      expect(b.app.directLine.streams.size).toBe(1);
      expect(a.app.directLine.streams.size).toBe(0);

      expect((await onA.post('lam sao kich hoat vneid muc 2')).status).toBe(200);
      await until(
        () => stream.received.some((x) => x.from.role === 'bot' && /kích hoạt/i.test(x.text ?? '')),
        10_000,
        'the answer on the stream',
      );
      // The echo of the citizen's message came first, each activity exactly once, in order.
      const ids = stream.received.map((x) => x.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual([...ids].sort());
      const echo = stream.received.findIndex((x) => x.from.role === 'user');
      const answer = stream.received.findIndex(
        (x) => x.from.role === 'bot' && /kích hoạt/i.test(x.text ?? ''),
      );
      expect(echo).toBeGreaterThan(-1);
      expect(echo).toBeLessThan(answer);
      expect(Number(stream.frames.at(-1)!.watermark)).toBe(Number(ids.at(-1)!.split('|')[1]));

      // A proactive message (as a community team answer is sent) from A reaches the socket on B.
      const reference = { conversation: { id: onA.conversationId }, channelId: 'directline' };
      await a.app.directLine.continueConversation(reference as never, async (context) => {
        await context.sendActivity('Tổ công nghệ số trả lời: mời bạn ra UBND phường.');
      });
      await until(
        () => stream.received.some((x) => /^Tổ công nghệ số trả lời/.test(x.text ?? '')),
        10_000,
        'the proactive message on the stream',
      );
    } finally {
      stream.close();
    }
  });

  it('lets exactly one of two concurrent writes of the same conversation state with one eTag win', async () => {
    const [a, b] = await twoReplicas();
    const key = 'directline/conversations/shared/';
    await a.app.assistant.storage.write({ [key]: { DialogState: { turn: 0 } } });
    for (let round = 1; round <= 10; round++) {
      const [fromA, fromB] = await Promise.all([
        a.app.assistant.storage.read([key]),
        b.app.assistant.storage.read([key]),
      ]);
      const eTag = (fromA[key] as { eTag: string }).eTag;
      expect((fromB[key] as { eTag: string }).eTag).toBe(eTag);
      const results = await Promise.allSettled([
        a.app.assistant.storage.write({ [key]: { DialogState: { turn: round, by: 'a' }, eTag } }),
        b.app.assistant.storage.write({ [key]: { DialogState: { turn: round, by: 'b' }, eTag } }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(ETagConflictError);
      const winner = results[0]!.status === 'fulfilled' ? 'a' : 'b';
      expect((await b.app.assistant.storage.read([key]))[key]).toMatchObject({
        DialogState: { turn: round, by: winner },
      });
    }
  });

  it('shares the per-user message budget between the replicas', async () => {
    const [a, b] = await twoReplicas({ RATE_LIMIT_DL_USER_PER_MINUTE: '3' });
    const { onA, onB } = await citizen(a, b, 'citizen-budget');
    await onA.start();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await (i % 2 ? onB : onA).post(`xin chào ${i}`)).status);
    // 3 in the minute, counted together: A, B, A pass; B and A are refused.
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await onB.post('xin chào nữa');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
