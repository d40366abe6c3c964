import { randomUUID } from 'node:crypto';
import type { SqlDb, SqlMigration } from '../storage/sql/index.js';

export interface Feedback {
  answerId: string;
  helpful: boolean;
  /** Redacted question the answer was for. */
  question: string;
  reason?: string;
  sources: { title: string; file: string; section: string }[];
  channel: string;
  conversationId: string;
}

export interface FeedbackStore {
  record(feedback: Feedback): Promise<string>;
  /** Adds the citizen's reason to a 👎 recorded earlier. */
  addReason(id: string, reason: string): Promise<void>;
}

/** `feedback/1` is the id the synchronous SQLite store applied: kept as is. */
export const FEEDBACK_MIGRATIONS: readonly SqlMigration[] = [
  {
    id: 'feedback/1',
    sqlite: `CREATE TABLE feedback (
      id TEXT PRIMARY KEY,
      answer_id TEXT NOT NULL,
      helpful INTEGER NOT NULL,
      question TEXT NOT NULL,
      reason TEXT,
      sources TEXT NOT NULL,
      channel TEXT NOT NULL,
      conversation_id TEXT NOT NULL,
      created_at TEXT NOT NULL
    );`,
    postgres: `CREATE TABLE feedback (
      id TEXT PRIMARY KEY,
      answer_id TEXT NOT NULL,
      helpful INTEGER NOT NULL,
      question TEXT NOT NULL,
      reason TEXT,
      sources TEXT NOT NULL,
      channel TEXT NOT NULL,
      conversation_id TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX feedback_created ON feedback (created_at);`,
  },
];

interface FeedbackRow {
  id: string;
  answer_id: string;
  helpful: number;
  question: string;
  reason: string | null;
  sources: string;
  channel: string;
  conversation_id: string;
  created_at: string;
}

/** 👍/👎 on answers, in the SQL store (SQLite or PostgreSQL). */
export class SqlFeedbackStore implements FeedbackStore {
  constructor(private readonly db: SqlDb) {}

  migrate(): Promise<void> {
    return this.db.migrate(FEEDBACK_MIGRATIONS);
  }

  async record(f: Feedback): Promise<string> {
    const id = randomUUID();
    await this.db.run(
      `INSERT INTO feedback (id, answer_id, helpful, question, reason, sources, channel, conversation_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        f.answerId,
        f.helpful ? 1 : 0,
        f.question,
        f.reason ?? null,
        JSON.stringify(f.sources),
        f.channel,
        f.conversationId,
        new Date().toISOString(),
      ],
    );
    return id;
  }

  async addReason(id: string, reason: string): Promise<void> {
    await this.db.run('UPDATE feedback SET reason = ? WHERE id = ?', [reason, id]);
  }

  async list(): Promise<(Feedback & { id: string; createdAt: string })[]> {
    const rows = await this.db.all<FeedbackRow>('SELECT * FROM feedback ORDER BY created_at, id');
    return rows.map((r) => ({
      id: r.id,
      answerId: r.answer_id,
      helpful: r.helpful === 1,
      question: r.question,
      reason: r.reason ?? undefined,
      sources: JSON.parse(r.sources),
      channel: r.channel,
      conversationId: r.conversation_id,
      createdAt: r.created_at,
    }));
  }
}
