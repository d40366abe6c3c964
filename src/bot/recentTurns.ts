import type { SqlDb, SqlMigration } from '../storage/sql/index.js';

/** One line of a conversation as the community team sees it (redacted). */
export interface RecentTurn {
  from: 'user' | 'bot';
  text: string;
  at: string;
}

export const RECENT_TURNS_MIGRATIONS: readonly SqlMigration[] = [
  {
    id: 'recent_turns/1',
    sqlite: `CREATE TABLE recent_turns (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      conversation TEXT NOT NULL,
      from_role TEXT NOT NULL,
      text TEXT NOT NULL,
      at TEXT NOT NULL
    );
    CREATE INDEX recent_turns_conversation ON recent_turns (conversation, id)`,
    postgres: `CREATE TABLE recent_turns (
      id BIGSERIAL PRIMARY KEY,
      conversation TEXT NOT NULL,
      from_role TEXT NOT NULL,
      text TEXT NOT NULL,
      at TEXT NOT NULL
    );
    CREATE INDEX recent_turns_conversation ON recent_turns (conversation, id)`,
  },
];

const INSERT = 'INSERT INTO recent_turns (conversation, from_role, text, at) VALUES (?, ?, ?, ?)';
const TRIM = `DELETE FROM recent_turns WHERE conversation = ? AND id <= (
  SELECT id FROM recent_turns WHERE conversation = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`;
const RECENT = `SELECT from_role, text, at FROM recent_turns WHERE conversation = ?
  ORDER BY id DESC LIMIT ?`;
const CLEAR = 'DELETE FROM recent_turns WHERE conversation = ?';

/**
 * The last turns of each conversation, redacted, kept for the community team's context when a
 * question is forwarded. Appended line by line and read only at a handoff, so they are not part of
 * the conversation state that every turn loads, hashes and writes back. Each conversation keeps at
 * most `keep` lines: no more personal context is stored than the team is shown.
 */
export class RecentTurns {
  constructor(
    private readonly db: SqlDb,
    private readonly keep: number,
  ) {}

  migrate(): Promise<void> {
    return this.db.migrate(RECENT_TURNS_MIGRATIONS);
  }

  /** Adds a line; the conversation's older lines beyond `keep` are dropped with a user's line. */
  async append(conversation: string, entry: RecentTurn): Promise<void> {
    await this.db.run(INSERT, [conversation, entry.from, entry.text, entry.at]);
    if (entry.from === 'user') await this.db.run(TRIM, [conversation, conversation, this.keep - 1]);
  }

  /** The last `limit` lines (at most `keep`), oldest first. */
  async recent(conversation: string, limit = this.keep): Promise<RecentTurn[]> {
    const rows = await this.db.all<{ from_role: string; text: string; at: string }>(RECENT, [
      conversation,
      Math.min(limit, this.keep),
    ]);
    return rows
      .reverse()
      .map((r) => ({ from: r.from_role === 'bot' ? 'bot' : 'user', text: r.text, at: r.at }));
  }

  /** Forgets a conversation's lines ("bắt đầu lại"). */
  async clear(conversation: string): Promise<void> {
    await this.db.run(CLEAR, [conversation]);
  }
}

/** The key of a conversation across channels. */
export function conversationKey(activity: { channelId: string; conversation?: { id?: string } }): string {
  return `${activity.channelId}:${activity.conversation?.id ?? ''}`;
}
