import { randomUUID } from 'node:crypto';
import type { ConversationReference } from 'botbuilder';
import { applyMigrations, type Db } from '../storage/database.js';
import type { QuestionTableRow } from '../unanswered/sqliteUnansweredLog.js';
import type { StoredQuestion } from '../unanswered/unansweredLog.js';

/**
 * The team inbox's repositories. The interfaces are what the inbox uses; the SQLite classes are the
 * embedded implementation (a PostgreSQL backend implements the same interfaces).
 */

export type QuestionStatus = StoredQuestion['status'];
export const STATUSES: readonly QuestionStatus[] = [
  'open',
  'claimed',
  'answered',
  'escalated',
  'closed',
  'undeliverable',
];
export type DeliveryStatus = 'sent' | 'pending' | 'undeliverable';

export interface TranscriptEntry {
  from: 'user' | 'bot' | 'team';
  text: string;
  at: string;
}

export interface InboxQuestion {
  id: string;
  text: string;
  normalized: string;
  channel: string;
  conversationId: string;
  userId: string;
  reference: Partial<ConversationReference>;
  commune: string | null;
  topic: string | null;
  reason: string;
  confidence: number | null;
  sources: { title: string; file: string; score: number }[];
  transcript: TranscriptEntry[];
  status: QuestionStatus;
  createdAt: string;
  updatedAt: string;
  groupId: string;
  assigneeId: string | null;
  assigneeName: string | null;
  answerText: string | null;
  answerBy: string | null;
  answeredAt: string | null;
  escalationNote: string | null;
  deliveryStatus: DeliveryStatus | null;
  deliveryRef: string | null;
}

export interface QuestionPatch {
  status?: QuestionStatus;
  assigneeId?: string | null;
  assigneeName?: string | null;
  answerText?: string | null;
  answerBy?: string | null;
  answeredAt?: string | null;
  escalationNote?: string | null;
  deliveryStatus?: DeliveryStatus | null;
  deliveryRef?: string | null;
  normalized?: string;
  groupId?: string;
}

export interface QuestionRepository {
  get(id: string): InboxQuestion | undefined;
  /** Every question, newest first (the inbox filters in memory: communes are few hundred items). */
  all(): InboxQuestion[];
  inGroup(groupId: string): InboxQuestion[];
  byDeliveryRef(ref: string): InboxQuestion | undefined;
  /** Questions without a normalized text or group yet (stored before the inbox ran). */
  ungrouped(): InboxQuestion[];
  update(id: string, patch: QuestionPatch): InboxQuestion | undefined;
  appendTranscript(id: string, entry: TranscriptEntry): void;
  /** Deletes the transcripts of closed questions last changed before `before`; returns how many. */
  dropTranscripts(before: string): number;
}

export type Role = 'member' | 'admin';

export interface Member {
  id: string;
  name: string;
  role: Role;
  communes: string[];
  disabled: boolean;
  createdAt: string;
}

export interface MemberRepository {
  create(m: { name: string; role: Role; communes: string[]; tokenHash: string }): Member;
  list(): Member[];
  get(id: string): Member | undefined;
  byTokenHash(hash: string): Member | undefined;
  disable(id: string): Member | undefined;
}

export interface AuditEntry {
  id: number;
  at: string;
  actorId: string;
  actorName: string;
  action: string;
  target: string | null;
  detail: unknown;
}

export interface AuditRepository {
  record(e: { actorId: string; actorName: string; action: string; target?: string; detail?: unknown }): void;
  list(limit?: number): AuditEntry[];
}

export interface WebhookRepository {
  set(communeKey: string, commune: string, url: string | null, by: string): void;
  get(communeKey: string): { commune: string; url: string } | undefined;
  list(): { commune: string; url: string }[];
}

export interface TakeoverRecord {
  key: string;
  questionId: string;
  channelId: string;
  conversationId: string;
  memberId: string;
  memberName: string;
  startedAt: string;
  lastTeamAt: string;
}

export interface TakeoverRepository {
  list(): TakeoverRecord[];
  put(r: TakeoverRecord): void;
  touch(key: string, at: string): void;
  remove(key: string): void;
}

const MIGRATIONS = [
  {
    id: 'questions/2',
    sql: `ALTER TABLE questions ADD COLUMN normalized TEXT;
      ALTER TABLE questions ADD COLUMN group_id TEXT;
      ALTER TABLE questions ADD COLUMN assignee_id TEXT;
      ALTER TABLE questions ADD COLUMN assignee_name TEXT;
      ALTER TABLE questions ADD COLUMN answer_text TEXT;
      ALTER TABLE questions ADD COLUMN answer_by TEXT;
      ALTER TABLE questions ADD COLUMN answered_at TEXT;
      ALTER TABLE questions ADD COLUMN escalation_note TEXT;
      ALTER TABLE questions ADD COLUMN delivery_status TEXT;
      ALTER TABLE questions ADD COLUMN delivery_ref TEXT;
      CREATE INDEX questions_group ON questions (group_id);
      CREATE INDEX questions_delivery_ref ON questions (delivery_ref);`,
  },
  {
    id: 'team_members/1',
    sql: `CREATE TABLE team_members (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      role TEXT NOT NULL,
      communes TEXT NOT NULL,
      token_hash TEXT NOT NULL UNIQUE,
      disabled INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL
    );`,
  },
  {
    id: 'team_audit/1',
    sql: `CREATE TABLE team_audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      actor_id TEXT NOT NULL,
      actor_name TEXT NOT NULL,
      action TEXT NOT NULL,
      target TEXT,
      detail TEXT
    );`,
  },
  {
    id: 'team_webhooks/1',
    sql: `CREATE TABLE team_webhooks (
      commune_key TEXT PRIMARY KEY,
      commune TEXT NOT NULL,
      url TEXT NOT NULL,
      updated_by TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );`,
  },
  {
    id: 'team_takeovers/1',
    sql: `CREATE TABLE team_takeovers (
      key TEXT PRIMARY KEY,
      question_id TEXT NOT NULL,
      channel_id TEXT NOT NULL,
      conversation_id TEXT NOT NULL,
      member_id TEXT NOT NULL,
      member_name TEXT NOT NULL,
      started_at TEXT NOT NULL,
      last_team_at TEXT NOT NULL
    );`,
  },
];

/** The unanswered log's `questions` row plus the inbox's columns (migration `questions/2`). */
interface QuestionRow extends QuestionTableRow {
  normalized: string | null;
  group_id: string | null;
  assignee_id: string | null;
  assignee_name: string | null;
  answer_text: string | null;
  answer_by: string | null;
  answered_at: string | null;
  escalation_note: string | null;
  delivery_status: DeliveryStatus | null;
  delivery_ref: string | null;
}

const COLUMNS: Record<keyof QuestionPatch, string> = {
  status: 'status',
  assigneeId: 'assignee_id',
  assigneeName: 'assignee_name',
  answerText: 'answer_text',
  answerBy: 'answer_by',
  answeredAt: 'answered_at',
  escalationNote: 'escalation_note',
  deliveryStatus: 'delivery_status',
  deliveryRef: 'delivery_ref',
  normalized: 'normalized',
  groupId: 'group_id',
};

/** The `questions` table (created by SqliteUnansweredLog), extended with the inbox's columns. */
export class SqliteQuestionRepository implements QuestionRepository {
  constructor(private readonly db: Db) {}

  get(id: string): InboxQuestion | undefined {
    const row = this.db.prepare<[string], QuestionRow>('SELECT * FROM questions WHERE id = ?').get(id);
    return row ? fromRow(row) : undefined;
  }

  all(): InboxQuestion[] {
    return this.db
      .prepare<[], QuestionRow>('SELECT * FROM questions ORDER BY created_at DESC, id')
      .all()
      .map(fromRow);
  }

  inGroup(groupId: string): InboxQuestion[] {
    return this.db
      .prepare<[string], QuestionRow>('SELECT * FROM questions WHERE group_id = ? ORDER BY created_at')
      .all(groupId)
      .map(fromRow);
  }

  byDeliveryRef(ref: string): InboxQuestion | undefined {
    const row = this.db
      .prepare<[string], QuestionRow>('SELECT * FROM questions WHERE delivery_ref = ?')
      .get(ref);
    return row ? fromRow(row) : undefined;
  }

  ungrouped(): InboxQuestion[] {
    return this.db
      .prepare<[], QuestionRow>(
        'SELECT * FROM questions WHERE group_id IS NULL OR normalized IS NULL ORDER BY created_at',
      )
      .all()
      .map(fromRow);
  }

  update(id: string, patch: QuestionPatch): InboxQuestion | undefined {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [key, column] of Object.entries(COLUMNS) as [keyof QuestionPatch, string][]) {
      if (patch[key] === undefined) continue;
      sets.push(`${column} = ?`);
      values.push(patch[key]);
    }
    sets.push('updated_at = ?');
    values.push(new Date().toISOString());
    this.db.prepare(`UPDATE questions SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    return this.get(id);
  }

  appendTranscript(id: string, entry: TranscriptEntry): void {
    this.db.transaction(() => {
      const row = this.db
        .prepare<[string], { transcript: string | null }>('SELECT transcript FROM questions WHERE id = ?')
        .get(id);
      if (!row) return;
      const transcript = row.transcript ? (JSON.parse(row.transcript) as TranscriptEntry[]) : [];
      transcript.push({ ...entry, text: entry.text.slice(0, 2000) });
      this.db
        .prepare('UPDATE questions SET transcript = ?, updated_at = ? WHERE id = ?')
        .run(JSON.stringify(transcript.slice(-200)), new Date().toISOString(), id);
    })();
  }

  dropTranscripts(before: string): number {
    return this.db
      .prepare(
        "UPDATE questions SET transcript = NULL WHERE status = 'closed' AND transcript IS NOT NULL AND updated_at < ?",
      )
      .run(before).changes;
  }
}

function parse<T>(s: string | null, fallback: T): T {
  if (!s) return fallback;
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
}

function fromRow(r: QuestionRow): InboxQuestion {
  return {
    id: r.id,
    text: r.text,
    normalized: r.normalized ?? '',
    channel: r.channel,
    conversationId: r.conversation_id,
    userId: r.user_id,
    reference: parse(r.reference, {}),
    commune: r.commune,
    topic: r.topic,
    reason: r.reason,
    confidence: r.confidence,
    sources: parse(r.sources, []),
    transcript: parse(r.transcript, []),
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    groupId: r.group_id ?? r.id,
    assigneeId: r.assignee_id,
    assigneeName: r.assignee_name,
    answerText: r.answer_text,
    answerBy: r.answer_by,
    answeredAt: r.answered_at,
    escalationNote: r.escalation_note,
    deliveryStatus: r.delivery_status,
    deliveryRef: r.delivery_ref,
  };
}

interface MemberRow {
  id: string;
  name: string;
  role: Role;
  communes: string;
  disabled: number;
  created_at: string;
}

const memberFromRow = (r: MemberRow): Member => ({
  id: r.id,
  name: r.name,
  role: r.role,
  communes: parse(r.communes, []),
  disabled: r.disabled === 1,
  createdAt: r.created_at,
});

export class SqliteMemberRepository implements MemberRepository {
  constructor(private readonly db: Db) {}

  create(m: { name: string; role: Role; communes: string[]; tokenHash: string }): Member {
    const id = randomUUID();
    this.db
      .prepare(
        'INSERT INTO team_members (id, name, role, communes, token_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)',
      )
      .run(id, m.name, m.role, JSON.stringify(m.communes), m.tokenHash, new Date().toISOString());
    return this.get(id)!;
  }

  list(): Member[] {
    return this.db
      .prepare<[], MemberRow>('SELECT * FROM team_members ORDER BY created_at')
      .all()
      .map(memberFromRow);
  }

  get(id: string): Member | undefined {
    const row = this.db.prepare<[string], MemberRow>('SELECT * FROM team_members WHERE id = ?').get(id);
    return row ? memberFromRow(row) : undefined;
  }

  byTokenHash(hash: string): Member | undefined {
    const row = this.db
      .prepare<[string], MemberRow>('SELECT * FROM team_members WHERE token_hash = ?')
      .get(hash);
    return row ? memberFromRow(row) : undefined;
  }

  disable(id: string): Member | undefined {
    this.db.prepare('UPDATE team_members SET disabled = 1 WHERE id = ?').run(id);
    return this.get(id);
  }
}

export class SqliteAuditRepository implements AuditRepository {
  constructor(private readonly db: Db) {}

  record(e: { actorId: string; actorName: string; action: string; target?: string; detail?: unknown }): void {
    this.db
      .prepare(
        'INSERT INTO team_audit (at, actor_id, actor_name, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        new Date().toISOString(),
        e.actorId,
        e.actorName,
        e.action,
        e.target ?? null,
        e.detail === undefined ? null : JSON.stringify(e.detail),
      );
  }

  list(limit = 500): AuditEntry[] {
    const rows = this.db
      .prepare<
        [number],
        {
          id: number;
          at: string;
          actor_id: string;
          actor_name: string;
          action: string;
          target: string | null;
          detail: string | null;
        }
      >('SELECT * FROM team_audit ORDER BY id DESC LIMIT ?')
      .all(limit);
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      actorId: r.actor_id,
      actorName: r.actor_name,
      action: r.action,
      target: r.target,
      detail: parse(r.detail, null),
    }));
  }
}

export class SqliteWebhookRepository implements WebhookRepository {
  constructor(private readonly db: Db) {}

  set(communeKey: string, commune: string, url: string | null, by: string): void {
    if (!url) {
      this.db.prepare('DELETE FROM team_webhooks WHERE commune_key = ?').run(communeKey);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO team_webhooks (commune_key, commune, url, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (commune_key) DO UPDATE SET commune = excluded.commune, url = excluded.url,
           updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      )
      .run(communeKey, commune, url, by, new Date().toISOString());
  }

  get(communeKey: string): { commune: string; url: string } | undefined {
    return this.db
      .prepare<[string], { commune: string; url: string }>(
        'SELECT commune, url FROM team_webhooks WHERE commune_key = ?',
      )
      .get(communeKey);
  }

  list(): { commune: string; url: string }[] {
    return this.db
      .prepare<[], { commune: string; url: string }>(
        'SELECT commune, url FROM team_webhooks ORDER BY commune',
      )
      .all();
  }
}

export class SqliteTakeoverRepository implements TakeoverRepository {
  constructor(private readonly db: Db) {}

  list(): TakeoverRecord[] {
    return this.db
      .prepare<[], Record<string, string>>('SELECT * FROM team_takeovers')
      .all()
      .map((r) => ({
        key: r.key!,
        questionId: r.question_id!,
        channelId: r.channel_id!,
        conversationId: r.conversation_id!,
        memberId: r.member_id!,
        memberName: r.member_name!,
        startedAt: r.started_at!,
        lastTeamAt: r.last_team_at!,
      }));
  }

  put(r: TakeoverRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO team_takeovers (key, question_id, channel_id, conversation_id, member_id,
           member_name, started_at, last_team_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.key,
        r.questionId,
        r.channelId,
        r.conversationId,
        r.memberId,
        r.memberName,
        r.startedAt,
        r.lastTeamAt,
      );
  }

  touch(key: string, at: string): void {
    this.db.prepare('UPDATE team_takeovers SET last_team_at = ? WHERE key = ?').run(at, key);
  }

  remove(key: string): void {
    this.db.prepare('DELETE FROM team_takeovers WHERE key = ?').run(key);
  }
}

export interface TeamStore {
  questions: QuestionRepository;
  members: MemberRepository;
  audit: AuditRepository;
  webhooks: WebhookRepository;
  takeovers: TakeoverRepository;
}

/** Applies the inbox's migrations (after the unanswered log's `questions/1`) and builds the repositories. */
export function createSqliteTeamStore(db: Db): TeamStore {
  applyMigrations(db, MIGRATIONS);
  return {
    questions: new SqliteQuestionRepository(db),
    members: new SqliteMemberRepository(db),
    audit: new SqliteAuditRepository(db),
    webhooks: new SqliteWebhookRepository(db),
    takeovers: new SqliteTakeoverRepository(db),
  };
}
