import { randomUUID } from 'node:crypto';
import { SqliteDb, type SqlDb, type SqlMigration } from '../storage/sql/index.js';
import type { StoredQuestion, UnansweredLog, UnansweredQuestion } from './unansweredLog.js';

const QUESTIONS_TABLE = (real: string) => `CREATE TABLE questions (
      id TEXT PRIMARY KEY,
      text TEXT NOT NULL,
      channel TEXT NOT NULL,
      conversation_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      reference TEXT NOT NULL,
      commune TEXT,
      topic TEXT,
      reason TEXT NOT NULL,
      confidence ${real},
      sources TEXT,
      transcript TEXT,
      status TEXT NOT NULL DEFAULT 'open',
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX questions_status ON questions (status, created_at);`;

/**
 * The `questions` table. `questions/1` is the id the synchronous SQLite store applied (kept as is, so
 * an existing DATA_DIR upgrades); the team inbox's own migrations (`questions/2`…) extend the table
 * and must run after these.
 */
export const QUESTIONS_MIGRATIONS: readonly SqlMigration[] = [
  { id: 'questions/1', sqlite: QUESTIONS_TABLE('REAL'), postgres: QUESTIONS_TABLE('DOUBLE PRECISION') },
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

const INSERT = `INSERT INTO questions (id, text, channel, conversation_id, user_id, reference, commune, topic, reason,
    confidence, sources, transcript, status, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`;

/**
 * The unanswered-question log in the SQL store (SQLite or PostgreSQL); the team inbox reads the same
 * table.
 *
 * Durability: `log` resolves once the question is committed, and the citizen is told it was
 * forwarded only then. On SQLite the insert goes through `SqliteDb.runDurably`: the WAL holding
 * its commit is fsync'ed (off the event loop) before `log` resolves, so even a power loss keeps it,
 * while the rest of the store keeps synchronous=NORMAL. On PostgreSQL a commit is durable already
 * (fsync, synchronous_commit on).
 */
export class SqlUnansweredLog implements UnansweredLog {
  private readonly listeners = new Set<(q: StoredQuestion) => void>();

  constructor(private readonly db: SqlDb) {}

  migrate(): Promise<void> {
    return this.db.migrate(QUESTIONS_MIGRATIONS);
  }

  /**
   * Called in this process after each question it stored is committed (the team inbox); returns an
   * unsubscribe function. Questions stored by other replicas are not announced here.
   */
  onLogged(listener: (q: StoredQuestion) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async log(q: UnansweredQuestion): Promise<StoredQuestion> {
    const id = randomUUID();
    const now = new Date().toISOString();
    const params = [
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
    ];
    // The citizen is told "đã chuyển" once this returns: fsync'ed, so even a power loss keeps it.
    if (this.db instanceof SqliteDb) await this.db.runDurably(INSERT, params);
    else await this.db.run(INSERT, params);
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
    const row = await this.db.get<QuestionTableRow>('SELECT * FROM questions WHERE id = ?', [id]);
    return row ? fromRow(row) : undefined;
  }

  async list(limit = 100): Promise<StoredQuestion[]> {
    const rows = await this.db.all<QuestionTableRow>(
      'SELECT * FROM questions ORDER BY created_at DESC, id LIMIT ?',
      [limit],
    );
    return rows.map(fromRow);
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
