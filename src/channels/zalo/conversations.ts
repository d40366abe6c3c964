import type { ConversationReference } from 'botbuilder';
import type { SqlDb, SqlMigration } from '../../storage/sql/index.js';

export const CONVERSATION_MIGRATIONS: readonly SqlMigration[] = [
  {
    id: 'zalo_conversations/1',
    sqlite: `CREATE TABLE zalo_conversations (
      user_id TEXT PRIMARY KEY,
      reference TEXT NOT NULL,
      followed INTEGER,
      last_inbound_at INTEGER,
      options TEXT,
      updated_at INTEGER NOT NULL
    );`,
    postgres: `CREATE TABLE zalo_conversations (
      user_id TEXT PRIMARY KEY,
      reference TEXT NOT NULL,
      followed INTEGER,
      last_inbound_at BIGINT,
      options TEXT,
      updated_at BIGINT NOT NULL
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
 * One row per Zalo user (shared by every replica): the conversation reference (for the community
 * team's later answers), the follow state, the last interaction, and the numbered options last
 * offered (so "1", "2"… can be understood as picking one, whichever replica receives it).
 */
export class ZaloConversations {
  constructor(private readonly sql: SqlDb) {}

  migrate(): Promise<void> {
    return this.sql.migrate(CONVERSATION_MIGRATIONS);
  }

  /** Stores the reference and, when given, the follow state and the time of an interaction. */
  async touch(
    userId: string,
    reference: Partial<ConversationReference>,
    update: { followed?: boolean; inboundAt?: number } = {},
  ): Promise<void> {
    await this.sql.run(
      `INSERT INTO zalo_conversations (user_id, reference, followed, last_inbound_at, updated_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET
         reference = excluded.reference,
         followed = COALESCE(excluded.followed, zalo_conversations.followed),
         last_inbound_at = COALESCE(excluded.last_inbound_at, zalo_conversations.last_inbound_at),
         updated_at = excluded.updated_at`,
      [
        userId,
        JSON.stringify(reference),
        update.followed === undefined ? null : update.followed ? 1 : 0,
        update.inboundAt ?? null,
        Date.now(),
      ],
    );
  }

  async get(userId: string): Promise<ZaloConversation | undefined> {
    const r = await this.sql.get<{
      user_id: string;
      reference: string;
      followed: number | null;
      last_inbound_at: number | null;
    }>('SELECT user_id, reference, followed, last_inbound_at FROM zalo_conversations WHERE user_id = ?', [
      userId,
    ]);
    if (!r) return undefined;
    return {
      userId: r.user_id,
      reference: JSON.parse(r.reference) as Partial<ConversationReference>,
      followed: r.followed === null ? undefined : r.followed === 1,
      lastInboundAt: r.last_inbound_at ?? undefined,
    };
  }

  /** Remembers the numbered options just offered to the user (replacing earlier ones). */
  async setOptions(userId: string, options: readonly string[]): Promise<void> {
    await this.sql.run('UPDATE zalo_conversations SET options = ?, updated_at = ? WHERE user_id = ?', [
      options.length ? JSON.stringify(options) : null,
      Date.now(),
      userId,
    ]);
  }

  async options(userId: string): Promise<string[]> {
    const r = await this.sql.get<{ options: string | null }>(
      'SELECT options FROM zalo_conversations WHERE user_id = ?',
      [userId],
    );
    return r?.options ? (JSON.parse(r.options) as string[]) : [];
  }

  /** "1", "2"… (optionally followed by "." or ")") → that option's text; otherwise undefined. */
  async pick(userId: string, text: string): Promise<string | undefined> {
    const m = /^\s*(\d{1,2})\s*[.)]?\s*$/.exec(text);
    if (!m) return undefined;
    return (await this.options(userId))[Number(m[1]) - 1];
  }
}
