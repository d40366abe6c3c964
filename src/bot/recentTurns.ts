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
      id INTEGER PRIMARY KEY,
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

/** Where a turn keeps the lines it has not written yet (TurnContext.turnState). */
const PENDING = Symbol('recentTurns.pending');

/** The part of a TurnContext RecentTurns uses. */
export interface TurnLike {
  activity: { channelId: string; conversation?: { id?: string } };
  turnState: Map<unknown, unknown>;
}

/**
 * The last turns of each conversation, redacted, kept for the community team's context when a
 * question is forwarded. They are not part of the conversation state that every turn loads, hashes
 * and writes back: a turn's lines are collected as it runs (`record`) and written at its end in one
 * transaction (`flush`), and they are read only at a handoff (`recent`, which includes the lines of
 * the turn still running). Each conversation keeps at most `keep` lines: no more personal context
 * is stored than the team is shown.
 */
export class RecentTurns {
  constructor(
    private readonly db: SqlDb,
    private readonly keep: number,
  ) {}

  migrate(): Promise<void> {
    return this.db.migrate(RECENT_TURNS_MIGRATIONS);
  }

  /** Adds a line to the turn's; it is stored by `flush`. */
  record(context: TurnLike, line: RecentTurn): void {
    let pending = context.turnState.get(PENDING) as RecentTurn[] | undefined;
    if (!pending) context.turnState.set(PENDING, (pending = []));
    pending.push(line);
  }

  /** True when the turn has lines not written yet. */
  hasPending(context: TurnLike): boolean {
    return ((context.turnState.get(PENDING) as RecentTurn[] | undefined)?.length ?? 0) > 0;
  }

  /**
   * Stores the turn's lines with `tx`, a transaction of the caller's (TurnPersistence writes the
   * turn's state in the same one), and drops the conversation's lines beyond `keep`.
   */
  async flush(tx: SqlDb, context: TurnLike): Promise<void> {
    const pending = context.turnState.get(PENDING) as RecentTurn[] | undefined;
    if (!pending?.length) return;
    context.turnState.delete(PENDING);
    const conversation = conversationKey(context.activity);
    for (const line of pending) await tx.run(INSERT, [conversation, line.from, line.text, line.at]);
    await tx.run(TRIM, [conversation, conversation, this.keep]);
  }

  /** The conversation's last lines (at most `keep`), oldest first, with the running turn's. */
  async recent(context: TurnLike): Promise<RecentTurn[]> {
    const pending = (context.turnState.get(PENDING) as RecentTurn[] | undefined) ?? [];
    const rows = await this.db.all<{ from_role: string; text: string; at: string }>(RECENT, [
      conversationKey(context.activity),
      this.keep,
    ]);
    const stored = rows
      .reverse()
      .map((r): RecentTurn => ({ from: r.from_role === 'bot' ? 'bot' : 'user', text: r.text, at: r.at }));
    return [...stored, ...pending].slice(-this.keep);
  }

  /** Forgets the conversation's lines, stored and pending ("bắt đầu lại"). */
  async clear(context: TurnLike): Promise<void> {
    context.turnState.delete(PENDING);
    await this.db.run(CLEAR, [conversationKey(context.activity)]);
  }
}

/** The key of a conversation across channels. */
export function conversationKey(activity: TurnLike['activity']): string {
  return `${activity.channelId}:${activity.conversation?.id ?? ''}`;
}
