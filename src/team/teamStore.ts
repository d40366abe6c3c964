import { randomUUID } from 'node:crypto';
import type { ConversationReference } from 'botbuilder';
import { forUpdate, type SqlDb, type SqlMigration } from '../storage/sql/index.js';
import type { QuestionTableRow } from '../unanswered/sqlUnansweredLog.js';
import type { StoredQuestion } from '../unanswered/unansweredLog.js';
import type { Groupable } from './grouping.js';

/**
 * The team inbox's repositories, written once in portable SQL against SqlDb: the embedded SQLite store
 * or PostgreSQL shared by several replicas (DATABASE_URL). Every state change that two team members
 * could make at once on two replicas is one conditional statement (`updateIf`, `claim`, `removeIf…`)
 * whose `changes` tells who won.
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
  /** False until the inbox has normalized and grouped it (`groupId` is then its own id). */
  grouped: boolean;
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

/** What a conditional update expects the row to still hold (what the caller read). */
export interface QuestionExpectation {
  status: QuestionStatus;
  assigneeId: string | null;
}

export interface QuestionRepository {
  get(id: string): Promise<InboxQuestion | undefined>;
  /** Every question, newest first (the inbox filters in memory: communes are few hundred items). */
  all(): Promise<InboxQuestion[]>;
  inGroup(groupId: string): Promise<InboxQuestion[]>;
  byDeliveryRef(ref: string): Promise<InboxQuestion | undefined>;
  /** Questions without a normalized text or group yet (stored before the inbox ran). */
  ungrouped(): Promise<InboxQuestion[]>;
  /**
   * The newest `limit` questions in one of `statuses` created at or before `createdAt`, newest
   * first, with only what grouping compares: what a new question may be grouped with, read
   * without loading (and parsing) the whole inbox.
   */
  groupCandidates(
    statuses: readonly QuestionStatus[],
    createdAt: string,
    limit: number,
  ): Promise<Groupable[]>;
  /** Applies the patch unconditionally; returns the question as it is now. */
  update(id: string, patch: QuestionPatch): Promise<InboxQuestion | undefined>;
  /**
   * Applies the patch only if the row still has the expected status and assignee (one conditional
   * UPDATE … RETURNING): the question after the change, or undefined when someone else changed it
   * first (or it does not exist).
   */
  updateIf(
    id: string,
    expected: QuestionExpectation,
    patch: QuestionPatch,
  ): Promise<InboxQuestion | undefined>;
  /**
   * Records how a team message was delivered; an undeliverable one turns an `answered` question into
   * `undeliverable` (any other status is kept).
   */
  recordDelivery(
    id: string,
    delivery: { status: DeliveryStatus; ref: string | null },
  ): Promise<InboxQuestion | undefined>;
  appendTranscript(id: string, entry: TranscriptEntry): Promise<void>;
  /** Deletes the transcripts of closed questions last changed before `before`; returns how many. */
  dropTranscripts(before: string): Promise<number>;
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
  create(m: { name: string; role: Role; communes: string[]; tokenHash: string }): Promise<Member>;
  list(): Promise<Member[]>;
  get(id: string): Promise<Member | undefined>;
  byTokenHash(hash: string): Promise<Member | undefined>;
  disable(id: string): Promise<Member | undefined>;
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

export interface AuditFilter {
  target?: string;
  /** Only actions starting with this text (e.g. "kb."). */
  actionPrefix?: string;
}

export interface AuditRepository {
  record(e: {
    actorId: string;
    actorName: string;
    action: string;
    target?: string;
    detail?: unknown;
  }): Promise<void>;
  /** Newest first. */
  list(limit?: number, filter?: AuditFilter): Promise<AuditEntry[]>;
}

export interface WebhookRepository {
  set(communeKey: string, commune: string, url: string | null, by: string): Promise<void>;
  get(communeKey: string): Promise<{ commune: string; url: string } | undefined>;
  list(): Promise<{ commune: string; url: string }[]>;
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
  list(): Promise<TakeoverRecord[]>;
  get(key: string): Promise<TakeoverRecord | undefined>;
  /** The takeover of a question's conversation, if any (the most recent one). */
  byQuestion(questionId: string): Promise<TakeoverRecord | undefined>;
  /**
   * Stores the takeover unless another member holds the conversation with a team message after
   * `idleBefore` (one conditional upsert). False when someone else holds it.
   */
  claim(r: TakeoverRecord, idleBefore: string): Promise<boolean>;
  touch(key: string, at: string): Promise<void>;
  /** Deletes the takeover of this question's conversation; false when it was already gone. */
  remove(key: string, questionId: string): Promise<boolean>;
  /** Deletes it only while it is still idle (last team message before `idleBefore`). */
  removeIfIdle(key: string, idleBefore: string): Promise<boolean>;
}

export interface JobRepository {
  /**
   * Claims one run of a periodic job across replicas: true (and the run is recorded) when no replica
   * ran it after `notAfter`.
   */
  claimRun(name: string, now: string, notAfter: string): Promise<boolean>;
}

/**
 * The inbox's columns of the `questions` table (created by the unanswered log's `questions/1`, so
 * these run after it).
 */
export const QUESTION_MIGRATIONS: readonly SqlMigration[] = [
  {
    id: 'questions/2',
    sqlite: `ALTER TABLE questions ADD COLUMN normalized TEXT;
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
    postgres: `ALTER TABLE questions
        ADD COLUMN normalized TEXT,
        ADD COLUMN group_id TEXT,
        ADD COLUMN assignee_id TEXT,
        ADD COLUMN assignee_name TEXT,
        ADD COLUMN answer_text TEXT,
        ADD COLUMN answer_by TEXT,
        ADD COLUMN answered_at TEXT,
        ADD COLUMN escalation_note TEXT,
        ADD COLUMN delivery_status TEXT,
        ADD COLUMN delivery_ref TEXT;
      CREATE INDEX questions_group ON questions (group_id);
      CREATE INDEX questions_delivery_ref ON questions (delivery_ref);`,
  },
];

/** The team's own tables (members, audit, webhooks, takeovers, periodic jobs). */
export const TEAM_MIGRATIONS: readonly SqlMigration[] = [
  {
    id: 'team_members/1',
    sqlite: `CREATE TABLE team_members (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      role TEXT NOT NULL,
      communes TEXT NOT NULL,
      token_hash TEXT NOT NULL UNIQUE,
      disabled INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL
    );`,
    postgres: `CREATE TABLE team_members (
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
    sqlite: `CREATE TABLE team_audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      actor_id TEXT NOT NULL,
      actor_name TEXT NOT NULL,
      action TEXT NOT NULL,
      target TEXT,
      detail TEXT
    );`,
    postgres: `CREATE TABLE team_audit (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    sqlite: `CREATE TABLE team_webhooks (
      commune_key TEXT PRIMARY KEY,
      commune TEXT NOT NULL,
      url TEXT NOT NULL,
      updated_by TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );`,
    postgres: `CREATE TABLE team_webhooks (
      commune_key TEXT PRIMARY KEY,
      commune TEXT NOT NULL,
      url TEXT NOT NULL,
      updated_by TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );`,
  },
  {
    id: 'team_takeovers/1',
    sqlite: `CREATE TABLE team_takeovers (
      key TEXT PRIMARY KEY,
      question_id TEXT NOT NULL,
      channel_id TEXT NOT NULL,
      conversation_id TEXT NOT NULL,
      member_id TEXT NOT NULL,
      member_name TEXT NOT NULL,
      started_at TEXT NOT NULL,
      last_team_at TEXT NOT NULL
    );`,
    postgres: `CREATE TABLE team_takeovers (
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
  {
    id: 'team_takeovers/2',
    sqlite: 'CREATE INDEX team_takeovers_question ON team_takeovers (question_id);',
    postgres: 'CREATE INDEX team_takeovers_question ON team_takeovers (question_id);',
  },
  {
    // Keys were "<channel>\u0000<conversation>" (PostgreSQL text cannot hold NUL): now "<channel>|<conversation>".
    id: 'team_takeovers/3',
    sqlite: "UPDATE team_takeovers SET key = channel_id || '|' || conversation_id;",
    postgres: "UPDATE team_takeovers SET key = channel_id || '|' || conversation_id;",
  },
  {
    id: 'team_audit/2',
    sqlite: 'CREATE INDEX team_audit_target ON team_audit (target);',
    postgres: 'CREATE INDEX team_audit_target ON team_audit (target);',
  },
  {
    id: 'team_jobs/1',
    sqlite: `CREATE TABLE team_jobs (
      name TEXT PRIMARY KEY,
      last_run_at TEXT NOT NULL
    );`,
    postgres: `CREATE TABLE team_jobs (
      name TEXT PRIMARY KEY,
      last_run_at TEXT NOT NULL
    );`,
  },
];

/** A row of `questions`: the unanswered log's columns (`questions/1`) plus the inbox's (`questions/2`). */
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

/** `SET a = ?, b = ?, updated_at = ?` and its values. */
function setClause(patch: QuestionPatch): { sql: string; values: unknown[] } {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [key, column] of Object.entries(COLUMNS) as [keyof QuestionPatch, string][]) {
    if (patch[key] === undefined) continue;
    sets.push(`${column} = ?`);
    values.push(patch[key]);
  }
  sets.push('updated_at = ?');
  values.push(new Date().toISOString());
  return { sql: sets.join(', '), values };
}

/** The columns of `questions` that grouping compares. */
interface GroupCandidateRow {
  id: string;
  text: string;
  normalized: string | null;
  commune: string | null;
  group_id: string | null;
  created_at: string;
}

/** The `questions` table (created by the unanswered log), extended with the inbox's columns. */
export class SqlQuestionRepository implements QuestionRepository {
  constructor(private readonly db: SqlDb) {}

  async get(id: string): Promise<InboxQuestion | undefined> {
    const row = await this.db.get<QuestionRow>('SELECT * FROM questions WHERE id = ?', [id]);
    return row ? fromRow(row) : undefined;
  }

  async all(): Promise<InboxQuestion[]> {
    const rows = await this.db.all<QuestionRow>('SELECT * FROM questions ORDER BY created_at DESC, id');
    return rows.map(fromRow);
  }

  async inGroup(groupId: string): Promise<InboxQuestion[]> {
    const rows = await this.db.all<QuestionRow>(
      'SELECT * FROM questions WHERE group_id = ? ORDER BY created_at, id',
      [groupId],
    );
    return rows.map(fromRow);
  }

  async byDeliveryRef(ref: string): Promise<InboxQuestion | undefined> {
    const row = await this.db.get<QuestionRow>(
      'SELECT * FROM questions WHERE delivery_ref = ? ORDER BY updated_at DESC LIMIT 1',
      [ref],
    );
    return row ? fromRow(row) : undefined;
  }

  async ungrouped(): Promise<InboxQuestion[]> {
    const rows = await this.db.all<QuestionRow>(
      'SELECT * FROM questions WHERE group_id IS NULL OR normalized IS NULL ORDER BY created_at, id',
    );
    return rows.map(fromRow);
  }

  async groupCandidates(
    statuses: readonly QuestionStatus[],
    createdAt: string,
    limit: number,
  ): Promise<Groupable[]> {
    if (limit <= 0) return [];
    // One query per status, each an index range scan (questions_status: status, created_at) that
    // stops after `limit` rows, then merged: a single `status IN (…)` query would read and sort
    // every matching row before the limit.
    const rows: GroupCandidateRow[] = [];
    for (const status of new Set(statuses)) {
      rows.push(
        ...(await this.db.all<GroupCandidateRow>(
          `SELECT id, text, normalized, commune, group_id, created_at FROM questions
           WHERE status = ? AND created_at <= ? ORDER BY created_at DESC LIMIT ?`,
          [status, createdAt, limit],
        )),
      );
    }
    rows.sort((a, b) =>
      a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? -1 : 1,
    );
    return rows.slice(0, limit).map((r) => ({
      id: r.id,
      text: r.text,
      normalized: r.normalized ?? '',
      commune: r.commune,
      groupId: r.group_id ?? r.id,
    }));
  }

  async update(id: string, patch: QuestionPatch): Promise<InboxQuestion | undefined> {
    const set = setClause(patch);
    const row = await this.db.get<QuestionRow>(`UPDATE questions SET ${set.sql} WHERE id = ? RETURNING *`, [
      ...set.values,
      id,
    ]);
    return row ? fromRow(row) : undefined;
  }

  async updateIf(
    id: string,
    expected: QuestionExpectation,
    patch: QuestionPatch,
  ): Promise<InboxQuestion | undefined> {
    const set = setClause(patch);
    const row = await this.db.get<QuestionRow>(
      `UPDATE questions SET ${set.sql}
        WHERE id = ? AND status = ? AND COALESCE(assignee_id, '') = ? RETURNING *`,
      [...set.values, id, expected.status, expected.assigneeId ?? ''],
    );
    return row ? fromRow(row) : undefined;
  }

  async recordDelivery(
    id: string,
    delivery: { status: DeliveryStatus; ref: string | null },
  ): Promise<InboxQuestion | undefined> {
    const now = new Date().toISOString();
    const row =
      delivery.status === 'undeliverable'
        ? await this.db.get<QuestionRow>(
            `UPDATE questions SET delivery_status = 'undeliverable', delivery_ref = ?, updated_at = ?,
               status = CASE WHEN status = 'answered' THEN 'undeliverable' ELSE status END
             WHERE id = ? RETURNING *`,
            [delivery.ref, now, id],
          )
        : await this.db.get<QuestionRow>(
            'UPDATE questions SET delivery_status = ?, delivery_ref = ?, updated_at = ? WHERE id = ? RETURNING *',
            [delivery.status, delivery.ref, now, id],
          );
    return row ? fromRow(row) : undefined;
  }

  async appendTranscript(id: string, entry: TranscriptEntry): Promise<void> {
    // Read-modify-write of one row: locked on PostgreSQL (FOR UPDATE), serialized on SQLite.
    await this.db.transaction(async (tx) => {
      const row = await tx.get<{ transcript: string | null }>(
        `SELECT transcript FROM questions WHERE id = ?${forUpdate(tx)}`,
        [id],
      );
      if (!row) return;
      const transcript = parse<TranscriptEntry[]>(row.transcript, []);
      transcript.push({ ...entry, text: entry.text.slice(0, 2000) });
      await tx.run('UPDATE questions SET transcript = ?, updated_at = ? WHERE id = ?', [
        JSON.stringify(transcript.slice(-200)),
        new Date().toISOString(),
        id,
      ]);
    });
  }

  async dropTranscripts(before: string): Promise<number> {
    const r = await this.db.run(
      "UPDATE questions SET transcript = NULL WHERE status = 'closed' AND transcript IS NOT NULL AND updated_at < ?",
      [before],
    );
    return r.changes;
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
    confidence: r.confidence === null || r.confidence === undefined ? null : Number(r.confidence),
    sources: parse(r.sources, []),
    transcript: parse(r.transcript, []),
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    groupId: r.group_id ?? r.id,
    grouped: r.group_id !== null && r.normalized !== null,
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
  disabled: Number(r.disabled) === 1,
  createdAt: r.created_at,
});

export class SqlMemberRepository implements MemberRepository {
  constructor(private readonly db: SqlDb) {}

  async create(m: { name: string; role: Role; communes: string[]; tokenHash: string }): Promise<Member> {
    const row = await this.db.get<MemberRow>(
      `INSERT INTO team_members (id, name, role, communes, token_hash, disabled, created_at)
         VALUES (?, ?, ?, ?, ?, 0, ?) RETURNING *`,
      [randomUUID(), m.name, m.role, JSON.stringify(m.communes), m.tokenHash, new Date().toISOString()],
    );
    return memberFromRow(row!);
  }

  async list(): Promise<Member[]> {
    const rows = await this.db.all<MemberRow>('SELECT * FROM team_members ORDER BY created_at, id');
    return rows.map(memberFromRow);
  }

  async get(id: string): Promise<Member | undefined> {
    const row = await this.db.get<MemberRow>('SELECT * FROM team_members WHERE id = ?', [id]);
    return row ? memberFromRow(row) : undefined;
  }

  async byTokenHash(hash: string): Promise<Member | undefined> {
    const row = await this.db.get<MemberRow>('SELECT * FROM team_members WHERE token_hash = ?', [hash]);
    return row ? memberFromRow(row) : undefined;
  }

  async disable(id: string): Promise<Member | undefined> {
    const row = await this.db.get<MemberRow>(
      'UPDATE team_members SET disabled = 1 WHERE id = ? RETURNING *',
      [id],
    );
    return row ? memberFromRow(row) : undefined;
  }
}

interface AuditRow {
  id: number | string;
  at: string;
  actor_id: string;
  actor_name: string;
  action: string;
  target: string | null;
  detail: string | null;
}

export class SqlAuditRepository implements AuditRepository {
  constructor(private readonly db: SqlDb) {}

  async record(e: {
    actorId: string;
    actorName: string;
    action: string;
    target?: string;
    detail?: unknown;
  }): Promise<void> {
    await this.db.run(
      'INSERT INTO team_audit (at, actor_id, actor_name, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)',
      [
        new Date().toISOString(),
        e.actorId,
        e.actorName,
        e.action,
        e.target ?? null,
        e.detail === undefined ? null : JSON.stringify(e.detail),
      ],
    );
  }

  async list(limit = 500, filter: AuditFilter = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.target !== undefined) {
      where.push('target = ?');
      values.push(filter.target);
    }
    if (filter.actionPrefix) {
      where.push('substr(action, 1, CAST(? AS INTEGER)) = ?');
      values.push(filter.actionPrefix.length, filter.actionPrefix);
    }
    const rows = await this.db.all<AuditRow>(
      `SELECT * FROM team_audit${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
      [...values, limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      at: r.at,
      actorId: r.actor_id,
      actorName: r.actor_name,
      action: r.action,
      target: r.target,
      detail: parse(r.detail, null),
    }));
  }
}

export class SqlWebhookRepository implements WebhookRepository {
  constructor(private readonly db: SqlDb) {}

  async set(communeKey: string, commune: string, url: string | null, by: string): Promise<void> {
    if (!url) {
      await this.db.run('DELETE FROM team_webhooks WHERE commune_key = ?', [communeKey]);
      return;
    }
    await this.db.run(
      `INSERT INTO team_webhooks (commune_key, commune, url, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (commune_key) DO UPDATE SET commune = excluded.commune, url = excluded.url,
         updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      [communeKey, commune, url, by, new Date().toISOString()],
    );
  }

  get(communeKey: string): Promise<{ commune: string; url: string } | undefined> {
    return this.db.get<{ commune: string; url: string }>(
      'SELECT commune, url FROM team_webhooks WHERE commune_key = ?',
      [communeKey],
    );
  }

  list(): Promise<{ commune: string; url: string }[]> {
    return this.db.all<{ commune: string; url: string }>(
      'SELECT commune, url FROM team_webhooks ORDER BY commune_key',
    );
  }
}

interface TakeoverRow {
  key: string;
  question_id: string;
  channel_id: string;
  conversation_id: string;
  member_id: string;
  member_name: string;
  started_at: string;
  last_team_at: string;
}

const takeoverFromRow = (r: TakeoverRow): TakeoverRecord => ({
  key: r.key,
  questionId: r.question_id,
  channelId: r.channel_id,
  conversationId: r.conversation_id,
  memberId: r.member_id,
  memberName: r.member_name,
  startedAt: r.started_at,
  lastTeamAt: r.last_team_at,
});

export class SqlTakeoverRepository implements TakeoverRepository {
  constructor(private readonly db: SqlDb) {}

  async list(): Promise<TakeoverRecord[]> {
    const rows = await this.db.all<TakeoverRow>('SELECT * FROM team_takeovers ORDER BY started_at, key');
    return rows.map(takeoverFromRow);
  }

  async get(key: string): Promise<TakeoverRecord | undefined> {
    const row = await this.db.get<TakeoverRow>('SELECT * FROM team_takeovers WHERE key = ?', [key]);
    return row ? takeoverFromRow(row) : undefined;
  }

  async byQuestion(questionId: string): Promise<TakeoverRecord | undefined> {
    const row = await this.db.get<TakeoverRow>(
      'SELECT * FROM team_takeovers WHERE question_id = ? ORDER BY started_at DESC LIMIT 1',
      [questionId],
    );
    return row ? takeoverFromRow(row) : undefined;
  }

  async claim(r: TakeoverRecord, idleBefore: string): Promise<boolean> {
    const { changes } = await this.db.run(
      `INSERT INTO team_takeovers (key, question_id, channel_id, conversation_id, member_id, member_name,
           started_at, last_team_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET question_id = excluded.question_id, channel_id = excluded.channel_id,
           conversation_id = excluded.conversation_id, member_id = excluded.member_id,
           member_name = excluded.member_name, started_at = excluded.started_at,
           last_team_at = excluded.last_team_at
         WHERE team_takeovers.member_id = excluded.member_id OR team_takeovers.last_team_at < ?`,
      [
        r.key,
        r.questionId,
        r.channelId,
        r.conversationId,
        r.memberId,
        r.memberName,
        r.startedAt,
        r.lastTeamAt,
        idleBefore,
      ],
    );
    return changes > 0;
  }

  async touch(key: string, at: string): Promise<void> {
    await this.db.run('UPDATE team_takeovers SET last_team_at = ? WHERE key = ?', [at, key]);
  }

  async remove(key: string, questionId: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM team_takeovers WHERE key = ? AND question_id = ?', [
      key,
      questionId,
    ]);
    return changes > 0;
  }

  async removeIfIdle(key: string, idleBefore: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM team_takeovers WHERE key = ? AND last_team_at < ?', [
      key,
      idleBefore,
    ]);
    return changes > 0;
  }
}

export class SqlJobRepository implements JobRepository {
  constructor(private readonly db: SqlDb) {}

  async claimRun(name: string, now: string, notAfter: string): Promise<boolean> {
    const { changes } = await this.db.run(
      `INSERT INTO team_jobs (name, last_run_at) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at
         WHERE team_jobs.last_run_at < ?`,
      [name, now, notAfter],
    );
    return changes > 0;
  }
}

export interface TeamStore {
  questions: QuestionRepository;
  members: MemberRepository;
  audit: AuditRepository;
  webhooks: WebhookRepository;
  takeovers: TakeoverRepository;
  jobs: JobRepository;
  /**
   * Applies the team's migrations (idempotent, also across replicas starting together). With
   * `questions` (the default) also the inbox's columns of `questions`, which need the unanswered
   * log's table: the service migrates the log first. The CLIs, which only touch members and the
   * audit log, pass `{ questions: false }`.
   */
  migrate(options?: { questions?: boolean }): Promise<void>;
}

/** The team inbox's repositories over one SqlDb (SQLite or PostgreSQL). Call `migrate()` at startup. */
export function createTeamStore(db: SqlDb): TeamStore {
  return {
    questions: new SqlQuestionRepository(db),
    members: new SqlMemberRepository(db),
    audit: new SqlAuditRepository(db),
    webhooks: new SqlWebhookRepository(db),
    takeovers: new SqlTakeoverRepository(db),
    jobs: new SqlJobRepository(db),
    async migrate(options = {}) {
      await db.migrate([...(options.questions === false ? [] : QUESTION_MIGRATIONS), ...TEAM_MIGRATIONS]);
    },
  };
}
