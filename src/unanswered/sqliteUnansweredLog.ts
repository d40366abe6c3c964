import { randomUUID } from 'node:crypto';
import { applyMigrations, type Db } from '../storage/database.js';
import type { StoredQuestion, UnansweredLog, UnansweredQuestion } from './unansweredLog.js';

const MIGRATIONS = [
  {
    id: 'questions/1',
    sql: `CREATE TABLE questions (
      id TEXT PRIMARY KEY,
      text TEXT NOT NULL,
      channel TEXT NOT NULL,
      conversation_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      reference TEXT NOT NULL,
      commune TEXT,
      topic TEXT,
      reason TEXT NOT NULL,
      confidence REAL,
      sources TEXT,
      transcript TEXT,
      status TEXT NOT NULL DEFAULT 'open',
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX questions_status ON questions (status, created_at);`,
  },
];

/** A row of the `questions` table as this migration creates it (the team inbox adds columns). */
export interface QuestionTableRow {
  id: string;
  text: string;
  channel: string;
  conversation_id: string;
  user_id: string;
  reference: string;
  commune: string | null;
  topic: string | null;
  reason: UnansweredQuestion['reason'];
  confidence: number | null;
  sources: string | null;
  transcript: string | null;
  status: StoredQuestion['status'];
  created_at: string;
  updated_at: string;
}

/** The embedded implementation of the unanswered-question log (the team inbox reads the same table). */
export class SqliteUnansweredLog implements UnansweredLog {
  private readonly listeners = new Set<(q: StoredQuestion) => void>();

  constructor(private readonly db: Db) {
    applyMigrations(db, MIGRATIONS);
  }

  /** Called after each question is durably stored (the team inbox); returns an unsubscribe function. */
  onLogged(listener: (q: StoredQuestion) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async log(q: UnansweredQuestion): Promise<StoredQuestion> {
    const id = randomUUID();
    const now = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO questions (id, text, channel, conversation_id, user_id, reference, commune, topic, reason,
           confidence, sources, transcript, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
      )
      .run(
        id,
        q.text,
        q.channel,
        q.conversationId,
        q.userId,
        JSON.stringify(q.reference),
        q.commune ?? null,
        q.topic ?? null,
        q.reason,
        q.confidence ?? null,
        q.sources ? JSON.stringify(q.sources) : null,
        q.transcript ? JSON.stringify(q.transcript) : null,
        now,
        now,
      );
    const stored: StoredQuestion = { ...q, id, status: 'open', createdAt: now };
    for (const listener of this.listeners) {
      try {
        listener(stored);
      } catch {
        // A listener (the inbox's live update) must never undo or block the stored question.
      }
    }
    return stored;
  }

  async get(id: string): Promise<StoredQuestion | undefined> {
    const row = this.db.prepare<[string], QuestionTableRow>('SELECT * FROM questions WHERE id = ?').get(id);
    return row ? fromRow(row) : undefined;
  }

  async list(limit = 100): Promise<StoredQuestion[]> {
    return this.db
      .prepare<[number], QuestionTableRow>('SELECT * FROM questions ORDER BY created_at DESC LIMIT ?')
      .all(limit)
      .map(fromRow);
  }
}

function fromRow(r: QuestionTableRow): StoredQuestion {
  return {
    id: r.id,
    text: r.text,
    channel: r.channel,
    conversationId: r.conversation_id,
    userId: r.user_id,
    reference: JSON.parse(r.reference),
    commune: r.commune ?? undefined,
    topic: r.topic ?? undefined,
    reason: r.reason,
    confidence: r.confidence ?? undefined,
    sources: r.sources ? JSON.parse(r.sources) : undefined,
    transcript: r.transcript ? JSON.parse(r.transcript) : undefined,
    status: r.status,
    createdAt: r.created_at,
  };
}
