import { afterEach, describe, expect, it } from 'vitest';
import { RecentTurns, type TurnLike } from '../../src/bot/recentTurns.js';
import { sqlBackends } from '../helpers/postgres.js';

/** The conversation lines kept for the team's context, on both backends. */
const backends = sqlBackends('recent-turns-');

describe.each(backends)('RecentTurns on $name', (backend) => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  const open = async (keep: number) => {
    const opened = await backend.open();
    cleanup = opened.cleanup;
    const turns = new RecentTurns(opened.db, keep);
    await turns.migrate();
    /** The end of a turn: its lines written in a transaction, as TurnPersistence does. */
    const flush = (t: TurnLike) => opened.db.transaction((tx) => turns.flush(tx, t));
    return { turns, flush, db: opened.db };
  };
  const line = (from: 'user' | 'bot', text: string, n: number) => ({
    from,
    text,
    at: new Date(Date.UTC(2026, 10, 23, 8, 0, n)).toISOString(),
  });
  /** A turn of a conversation, as CitizenBot gives it to RecentTurns. */
  const turn = (channelId: string, id: string) => ({
    activity: { channelId, conversation: { id } },
    turnState: new Map<unknown, unknown>(),
  });

  it('keeps the last lines of each conversation, oldest first, and forgets the older ones', async () => {
    const { turns, flush, db } = await open(4);
    for (let n = 0; n < 5; n++) {
      const t = turn('webchat', 'a');
      turns.record(t, line('user', `hỏi ${n}`, 2 * n));
      turns.record(t, line('bot', `đáp ${n}`, 2 * n + 1));
      await flush(t);
    }
    const other = turn('zalo', 'a');
    turns.record(other, line('user', 'câu khác', 0));
    await flush(other);
    expect((await turns.recent(turn('webchat', 'a'))).map((t) => `${t.from}:${t.text}`)).toEqual([
      'user:hỏi 3',
      'bot:đáp 3',
      'user:hỏi 4',
      'bot:đáp 4',
    ]);
    expect(await turns.recent(turn('zalo', 'a'))).toEqual([line('user', 'câu khác', 0)]);
    // Nothing beyond `keep` stays stored.
    const stored = await db.all<{ n: number }>(
      "SELECT COUNT(*) AS n FROM recent_turns WHERE conversation = 'webchat:a'",
    );
    expect(Number(stored[0]!.n)).toBe(4);
  });

  it('includes the running turn before it is flushed, and stores nothing until then', async () => {
    const { turns, flush } = await open(3);
    const first = turn('webchat', 'b');
    turns.record(first, line('user', 'một', 0));
    turns.record(first, line('bot', 'hai', 1));
    await flush(first);
    const running = turn('webchat', 'b');
    turns.record(running, line('user', 'ba', 2));
    turns.record(running, line('bot', 'bốn', 3));
    expect((await turns.recent(running)).map((t) => t.text)).toEqual(['hai', 'ba', 'bốn']);
    expect((await turns.recent(turn('webchat', 'b'))).map((t) => t.text)).toEqual(['một', 'hai']);
  });

  it('forgets a conversation on clear, stored and pending lines, and only that one', async () => {
    const { turns, flush } = await open(12);
    const a = turn('webchat', 'a');
    const b = turn('webchat', 'b');
    turns.record(a, line('user', 'một', 0));
    turns.record(b, line('user', 'hai', 0));
    await flush(a);
    await flush(b);
    const again = turn('webchat', 'a');
    turns.record(again, line('user', 'bắt đầu lại', 1));
    await turns.clear(again);
    await flush(again);
    expect(await turns.recent(turn('webchat', 'a'))).toEqual([]);
    expect(await turns.recent(turn('webchat', 'b'))).toHaveLength(1);
  });
});
