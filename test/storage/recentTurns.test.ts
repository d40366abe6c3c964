import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecentTurns } from '../../src/bot/recentTurns.js';
import { openSqlDb, type SqlDb } from '../../src/storage/sql/index.js';
import { createTestDatabase, postgresAvailable } from '../helpers/postgres.js';

/** The conversation lines kept for the team's context, on both backends. */
const backends: { name: string; open(): Promise<{ db: SqlDb; cleanup(): Promise<void> }> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recent-turns-'));
      const db = await openSqlDb({ dataDir });
      return {
        db,
        cleanup: async () => {
          await db.close();
          fs.rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
];
if (postgresAvailable()) {
  backends.push({
    name: 'postgres',
    async open() {
      const database = await createTestDatabase();
      const db = await openSqlDb({ dataDir: '/nonexistent', databaseUrl: database.url });
      return {
        db,
        cleanup: async () => {
          await db.close();
          await database.drop();
        },
      };
    },
  });
}

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
    return { turns, db: opened.db };
  };
  const line = (from: 'user' | 'bot', text: string, n: number) => ({
    from,
    text,
    at: new Date(Date.UTC(2026, 10, 23, 8, 0, n)).toISOString(),
  });

  it('keeps the last lines of each conversation, oldest first, and forgets the older ones', async () => {
    const { turns, db } = await open(4);
    for (let n = 0; n < 5; n++) {
      await turns.append('webchat:a', line('user', `hỏi ${n}`, 2 * n));
      await turns.append('webchat:a', line('bot', `đáp ${n}`, 2 * n + 1));
    }
    await turns.append('zalo:b', line('user', 'câu khác', 0));
    expect((await turns.recent('webchat:a')).map((t) => `${t.from}:${t.text}`)).toEqual([
      'user:hỏi 3',
      'bot:đáp 3',
      'user:hỏi 4',
      'bot:đáp 4',
    ]);
    expect(await turns.recent('webchat:a', 1)).toEqual([line('bot', 'đáp 4', 9)]);
    expect(await turns.recent('zalo:b')).toEqual([line('user', 'câu khác', 0)]);
    // Nothing older than `keep` (plus this turn's replies) stays stored.
    const stored = await db.all<{ n: number }>(
      "SELECT COUNT(*) AS n FROM recent_turns WHERE conversation = 'webchat:a'",
    );
    expect(Number(stored[0]!.n)).toBeLessThanOrEqual(5);
  });

  it('forgets a conversation on clear, and only that one', async () => {
    const { turns } = await open(12);
    await turns.append('webchat:a', line('user', 'một', 0));
    await turns.append('webchat:b', line('user', 'hai', 0));
    await turns.clear('webchat:a');
    expect(await turns.recent('webchat:a')).toEqual([]);
    expect(await turns.recent('webchat:b')).toHaveLength(1);
  });
});
