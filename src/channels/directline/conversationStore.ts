import type { Activity } from 'botbuilder';
import type { SqlDb, SqlMigration } from '../../storage/sql/index.js';

const CONVERSATIONS_AND_ACTIVITIES = `CREATE TABLE dl_conversations (
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
    CREATE UNIQUE INDEX dl_activities_id ON dl_activities (id);`;

/**
 * `directline/1` is the id and SQL the synchronous SQLite store applied (kept, so an existing DATA_DIR
 * upgrades). `directline/2` adds the per-conversation sequence counter (initialized from the stored
 * activities) and the turn lease (`turn_owner`, `turn_until` in epoch milliseconds).
 */
export const DIRECTLINE_MIGRATIONS: readonly SqlMigration[] = [
  { id: 'directline/1', sqlite: CONVERSATIONS_AND_ACTIVITIES, postgres: CONVERSATIONS_AND_ACTIVITIES },
  {
    id: 'directline/2',
    sqlite: `ALTER TABLE dl_conversations ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE dl_conversations ADD COLUMN turn_owner TEXT;
      ALTER TABLE dl_conversations ADD COLUMN turn_until INTEGER;
      UPDATE dl_conversations SET last_seq =
        COALESCE((SELECT MAX(seq) FROM dl_activities WHERE conversation_id = dl_conversations.id), 0);`,
    postgres: `ALTER TABLE dl_conversations
        ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0,
        ADD COLUMN turn_owner TEXT,
        ADD COLUMN turn_until BIGINT;
      UPDATE dl_conversations SET last_seq =
        COALESCE((SELECT MAX(seq) FROM dl_activities WHERE conversation_id = dl_conversations.id), 0);`,
  },
];

export interface DlConversation {
  id: string;
  userId: string;
  started: boolean;
}

/** One stored activity with its sequence number (the watermark after it). */
export interface StoredDlActivity {
  seq: number;
  activity: Partial<Activity> & { id: string };
}

/**
 * Direct Line conversations and their activities, persisted (SQLite or PostgreSQL) so a restart
 * loses nothing and every replica serves every conversation.
 *
 * Sequence numbers: `append` takes the next one from the conversation's counter row
 * (`UPDATE … SET last_seq = last_seq + 1 … RETURNING last_seq`) and inserts the activity in the same
 * transaction. The UPDATE locks the conversation row until COMMIT, so appends of one conversation —
 * from any replica — commit one after another in sequence order: a reader that sees activity n also
 * sees every activity before it, and a watermark never skips one committed later.
 */
export class ConversationStore {
  constructor(private readonly db: SqlDb) {}

  migrate(): Promise<void> {
    return this.db.migrate(DIRECTLINE_MIGRATIONS);
  }

  async create(id: string, userId: string): Promise<DlConversation> {
    const now = new Date().toISOString();
    await this.db.run(
      'INSERT INTO dl_conversations (id, user_id, created_at, updated_at) VALUES (?, ?, ?, ?)',
      [id, userId, now, now],
    );
    return { id, userId, started: false };
  }

  async get(id: string): Promise<DlConversation | undefined> {
    const row = await this.db.get<{ id: string; user_id: string; started: number }>(
      'SELECT id, user_id, started FROM dl_conversations WHERE id = ?',
      [id],
    );
    return row ? { id: row.id, userId: row.user_id, started: row.started === 1 } : undefined;
  }

  /** Marks the conversation started; true only for the call (on any replica) that started it. */
  async markStarted(id: string): Promise<boolean> {
    const { changes } = await this.db.run(
      'UPDATE dl_conversations SET started = 1, updated_at = ? WHERE id = ? AND started = 0',
      [new Date().toISOString(), id],
    );
    return changes === 1;
  }

  /** Stores an activity with the next sequence number, a server id and a timestamp. */
  async append(
    conversationId: string,
    activity: Partial<Activity>,
  ): Promise<Partial<Activity> & { id: string }> {
    return this.db.transaction(async (tx) => {
      const now = new Date().toISOString();
      const row = await tx.get<{ last_seq: number }>(
        'UPDATE dl_conversations SET last_seq = last_seq + 1, updated_at = ? WHERE id = ? RETURNING last_seq',
        [now, conversationId],
      );
      if (!row) throw new Error('unknown Direct Line conversation');
      const seq = row.last_seq;
      const id = activityId(conversationId, seq);
      const stored = { ...activity, id, timestamp: now } as unknown as Partial<Activity> & { id: string };
      await tx.run('INSERT INTO dl_activities (conversation_id, seq, id, body) VALUES (?, ?, ?, ?)', [
        conversationId,
        seq,
        id,
        JSON.stringify(stored),
      ]);
      return stored;
    });
  }

  /**
   * Takes (or renews, for the same owner) the conversation's turn lease until `until` (epoch ms):
   * true when this owner holds it. One conditional UPDATE, so two replicas never both hold it.
   */
  async claimTurn(id: string, owner: string, now: number, until: number): Promise<boolean> {
    const { changes } = await this.db.run(
      `UPDATE dl_conversations SET turn_owner = ?, turn_until = ?
        WHERE id = ? AND (turn_until IS NULL OR turn_until < ? OR turn_owner = ?)`,
      [owner, until, id, now, owner],
    );
    return changes === 1;
  }

  /** Gives the turn lease back (only if this owner still holds it). */
  async releaseTurn(id: string, owner: string): Promise<void> {
    await this.db.run(
      'UPDATE dl_conversations SET turn_owner = NULL, turn_until = NULL WHERE id = ? AND turn_owner = ?',
      [id, owner],
    );
  }

  async hasActivity(conversationId: string, activityId: string): Promise<boolean> {
    const row = await this.db.get('SELECT 1 AS one FROM dl_activities WHERE conversation_id = ? AND id = ?', [
      conversationId,
      activityId,
    ]);
    return row !== undefined;
  }

  /** Activities after sequence number `after`, oldest first, at most `limit`. */
  async after(conversationId: string, after: number, limit = 500): Promise<StoredDlActivity[]> {
    const rows = await this.db.all<{ seq: number; body: string }>(
      'SELECT seq, body FROM dl_activities WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      [conversationId, after, limit],
    );
    return rows.map((r) => ({ seq: r.seq, activity: JSON.parse(r.body) }));
  }

  /** Activities after `watermark` (a sequence number), oldest first, and the new watermark. */
  async since(
    conversationId: string,
    watermark: number,
    limit = 500,
  ): Promise<{ activities: unknown[]; watermark: string }> {
    const rows = await this.after(conversationId, watermark, limit);
    return {
      activities: rows.map((r) => r.activity),
      watermark: String(rows.at(-1)?.seq ?? (await this.latest(conversationId))),
    };
  }

  /** The newest sequence number (0 for an empty conversation). */
  async latest(conversationId: string): Promise<number> {
    const row = await this.db.get<{ seq: number | null }>(
      'SELECT MAX(seq) AS seq FROM dl_activities WHERE conversation_id = ?',
      [conversationId],
    );
    return row?.seq ?? 0;
  }
}

/** The server id of an activity: `<conversation>|<seq, 7 digits>`. */
export function activityId(conversationId: string, seq: number): string {
  return `${conversationId}|${String(seq).padStart(7, '0')}`;
}

/** The sequence number in a server activity id (0 when it is not one). */
export function seqOf(id: string): number {
  const n = Number(id.split('|')[1]);
  return Number.isInteger(n) && n > 0 ? n : 0;
}
