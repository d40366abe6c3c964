import type { ConversationReference } from 'botbuilder';
import { applyMigrations, type Db } from '../../storage/database.js';

const MIGRATIONS = [
  {
    id: 'zalo_conversations/1',
    sql: `CREATE TABLE zalo_conversations (
      user_id TEXT PRIMARY KEY,
      reference TEXT NOT NULL,
      followed INTEGER,
      last_inbound_at INTEGER,
      options TEXT,
      updated_at INTEGER NOT NULL
    );`,
  },
];

export interface ZaloConversation {
  userId: string;
  reference: Partial<ConversationReference>;
  /** True after `follow`, false after `unfollow`, undefined when unknown. */
  followed?: boolean;
  /** When the citizen last wrote (epoch ms): the CS reply window is 7 days from an interaction. */
  lastInboundAt?: number;
}

/**
 * One row per Zalo user: the conversation reference (for the community team's later answers), the
 * follow state, the last interaction, and the numbered options last offered (so "1", "2"… can be
 * understood as picking one).
 */
export class ZaloConversations {
  constructor(private readonly db: Db) {
    applyMigrations(db, MIGRATIONS);
  }

  /** Stores the reference and, when given, the follow state and the time of an interaction. */
  touch(
    userId: string,
    reference: Partial<ConversationReference>,
    update: { followed?: boolean; inboundAt?: number } = {},
  ): void {
    this.db
      .prepare(
        `INSERT INTO zalo_conversations (user_id, reference, followed, last_inbound_at, updated_at)
         VALUES (@userId, @reference, @followed, @inboundAt, @now)
         ON CONFLICT (user_id) DO UPDATE SET
           reference = excluded.reference,
           followed = COALESCE(excluded.followed, zalo_conversations.followed),
           last_inbound_at = COALESCE(excluded.last_inbound_at, zalo_conversations.last_inbound_at),
           updated_at = excluded.updated_at`,
      )
      .run({
        userId,
        reference: JSON.stringify(reference),
        followed: update.followed === undefined ? null : update.followed ? 1 : 0,
        inboundAt: update.inboundAt ?? null,
        now: Date.now(),
      });
  }

  get(userId: string): ZaloConversation | undefined {
    const r = this.db
      .prepare(
        'SELECT user_id, reference, followed, last_inbound_at FROM zalo_conversations WHERE user_id = ?',
      )
      .get(userId) as
      | { user_id: string; reference: string; followed: number | null; last_inbound_at: number | null }
      | undefined;
    if (!r) return undefined;
    return {
      userId: r.user_id,
      reference: JSON.parse(r.reference) as Partial<ConversationReference>,
      followed: r.followed === null ? undefined : r.followed === 1,
      lastInboundAt: r.last_inbound_at ?? undefined,
    };
  }

  /** Remembers the numbered options just offered to the user (replacing earlier ones). */
  setOptions(userId: string, options: readonly string[]): void {
    this.db
      .prepare('UPDATE zalo_conversations SET options = ?, updated_at = ? WHERE user_id = ?')
      .run(options.length ? JSON.stringify(options) : null, Date.now(), userId);
  }

  options(userId: string): string[] {
    const r = this.db.prepare('SELECT options FROM zalo_conversations WHERE user_id = ?').get(userId) as
      { options: string | null } | undefined;
    return r?.options ? (JSON.parse(r.options) as string[]) : [];
  }

  /** "1", "2"… (optionally followed by "." or ")") → that option's text; otherwise undefined. */
  pick(userId: string, text: string): string | undefined {
    const m = /^\s*(\d{1,2})\s*[.)]?\s*$/.exec(text);
    if (!m) return undefined;
    return this.options(userId)[Number(m[1]) - 1];
  }
}
