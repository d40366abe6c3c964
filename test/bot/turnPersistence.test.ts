import { afterEach, describe, expect, it } from 'vitest';
import { RecentTurns } from '../../src/bot/recentTurns.js';
import { TurnPersistence } from '../../src/bot/turnPersistence.js';
import { ChangeCheckedConversationState } from '../../src/storage/changeCheckedState.js';
import type { SqlDb } from '../../src/storage/sql/index.js';
import { SqlStorage } from '../../src/storage/sqlStorage.js';
import { sqlBackends } from '../helpers/postgres.js';
import { messageTurn } from '../helpers/turnContext.js';

/** What a turn leaves in the store: its transcript lines and its state, together or not at all. */
const backends = sqlBackends('turn-persistence-');

/** Makes every write of the bot state fail inside the store (a real SQL error, not a stub). */
async function failStateWrites(db: SqlDb): Promise<void> {
  if (db.dialect === 'sqlite') {
    await db.run(`CREATE TRIGGER bot_state_down BEFORE INSERT ON bot_state
      BEGIN SELECT RAISE(ABORT, 'bot_state is down'); END`);
  } else {
    await db.run(`CREATE FUNCTION bot_state_down() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'bot_state is down'; END $$ LANGUAGE plpgsql`);
    await db.run(`CREATE TRIGGER bot_state_down BEFORE INSERT OR UPDATE ON bot_state
      FOR EACH ROW EXECUTE FUNCTION bot_state_down()`);
  }
}

describe.each(backends)('TurnPersistence on $name', (backend) => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  const open = async () => {
    const opened = await backend.open();
    cleanup = opened.cleanup;
    const storage = new SqlStorage(opened.db);
    await storage.migrate();
    const recentTurns = new RecentTurns(opened.db, 12);
    await recentTurns.migrate();
    const state = new ChangeCheckedConversationState(storage);
    const topic = state.createProperty<string>('Topic');
    const persistence = new TurnPersistence({ db: opened.db, recentTurns, states: [state] });
    /** One turn: the citizen's line and the bot's, the topic set, then `fail` or not. */
    const turn = async (text: string, fail = false) => {
      const context = messageTurn(text);
      const at = new Date().toISOString();
      recentTurns.record(context, { from: 'user', text, at });
      await topic.set(context, text);
      recentTurns.record(context, { from: 'bot', text: `đáp: ${text}`, at });
      await persistence.save(context, !fail);
    };
    const stored = async () => {
      const context = messageTurn('');
      return {
        lines: (await recentTurns.recent(context)).map((l) => l.text),
        topic: await topic.get(context),
      };
    };
    return { db: opened.db, turn, stored };
  };

  it('stores a completed turn’s lines and state; a failed turn’s lines only', async () => {
    const { turn, stored } = await open();
    await turn('chu ky so');
    expect(await stored()).toEqual({ lines: ['chu ky so', 'đáp: chu ky so'], topic: 'chu ky so' });
    await turn('vneid', true);
    expect(await stored()).toEqual({
      lines: ['chu ky so', 'đáp: chu ky so', 'vneid', 'đáp: vneid'],
      topic: 'chu ky so',
    });
  });

  it('writes the lines and the state in one transaction: a failed state write keeps neither', async () => {
    const { db, turn, stored } = await open();
    await failStateWrites(db);
    await expect(turn('chu ky so')).rejects.toThrow(/bot_state is down/);
    expect(await stored()).toEqual({ lines: [], topic: undefined });
  });
});
