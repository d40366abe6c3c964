import type { Activity } from 'botbuilder';
import { applyMigrations, type Db } from '../../storage/database.js';

const MIGRATIONS = [
  {
    id: 'directline/1',
    sql: `CREATE TABLE dl_conversations (
      id TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      started INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE TABLE dl_activities (
      conversation_id TEXT NOT NULL REFERENCES dl_conversations(id) ON DELETE CASCADE,
      seq INTEGER NOT NULL,
      id TEXT NOT NULL,
      body TEXT NOT NULL,
      PRIMARY KEY (conversation_id, seq)
    );
    CREATE UNIQUE INDEX dl_activities_id ON dl_activities (id);`,
  },
];

export interface DlConversation {
  id: string;
  userId: string;
  started: boolean;
}

/** Direct Line conversations and their activities, persisted so a restart loses nothing. */
export class ConversationStore {
  constructor(private readonly db: Db) {
    applyMigrations(db, MIGRATIONS);
  }

  create(id: string, userId: string): DlConversation {
    const now = new Date().toISOString();
    this.db
      .prepare('INSERT INTO dl_conversations (id, user_id, created_at, updated_at) VALUES (?, ?, ?, ?)')
      .run(id, userId, now, now);
    return { id, userId, started: false };
  }

  get(id: string): DlConversation | undefined {
    const row = this.db
      .prepare<[string], { id: string; user_id: string; started: number }>(
        'SELECT id, user_id, started FROM dl_conversations WHERE id = ?',
      )
      .get(id);
    return row ? { id: row.id, userId: row.user_id, started: row.started === 1 } : undefined;
  }

  /** Marks the conversation started; returns true only for the call that started it. */
  markStarted(id: string): boolean {
    return (
      this.db
        .prepare('UPDATE dl_conversations SET started = 1, updated_at = ? WHERE id = ? AND started = 0')
        .run(new Date().toISOString(), id).changes === 1
    );
  }

  /** Stores an activity with the next sequence number, a server id and a timestamp. */
  append(conversationId: string, activity: Partial<Activity>): Partial<Activity> & { id: string } {
    return this.db.transaction(() => {
      const row = this.db
        .prepare<[string], { seq: number | null }>(
          'SELECT MAX(seq) AS seq FROM dl_activities WHERE conversation_id = ?',
        )
        .get(conversationId);
      const seq = (row?.seq ?? 0) + 1;
      const id = `${conversationId}|${String(seq).padStart(7, '0')}`;
      const stored = {
        ...activity,
        id,
        timestamp: new Date().toISOString(),
      } as unknown as Partial<Activity> & { id: string };
      this.db
        .prepare('INSERT INTO dl_activities (conversation_id, seq, id, body) VALUES (?, ?, ?, ?)')
        .run(conversationId, seq, id, JSON.stringify(stored));
      this.db
        .prepare('UPDATE dl_conversations SET updated_at = ? WHERE id = ?')
        .run(new Date().toISOString(), conversationId);
      return stored;
    })();
  }

  hasActivity(conversationId: string, activityId: string): boolean {
    return Boolean(
      this.db
        .prepare('SELECT 1 FROM dl_activities WHERE conversation_id = ? AND id = ?')
        .get(conversationId, activityId),
    );
  }

  /** Activities after `watermark` (a sequence number), oldest first, and the new watermark. */
  since(
    conversationId: string,
    watermark: number,
    limit = 500,
  ): { activities: unknown[]; watermark: string } {
    const rows = this.db
      .prepare<[string, number, number], { seq: number; body: string }>(
        'SELECT seq, body FROM dl_activities WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .all(conversationId, watermark, limit);
    return {
      activities: rows.map((r) => JSON.parse(r.body)),
      watermark: String(rows.at(-1)?.seq ?? this.latest(conversationId)),
    };
  }

  /** The newest sequence number (0 for an empty conversation). */
  latest(conversationId: string): number {
    const row = this.db
      .prepare<[string], { seq: number | null }>(
        'SELECT MAX(seq) AS seq FROM dl_activities WHERE conversation_id = ?',
      )
      .get(conversationId);
    return row?.seq ?? 0;
  }
}
