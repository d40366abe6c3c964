import type { Logger } from '../logger.js';
import { redactPii } from '../privacy/redact.js';
import type { StoredQuestion } from '../unanswered/unansweredLog.js';
import { canSeeCommune, type Principal } from './auth.js';
import { TEAM_PREFIX, type Delivery } from './delivery.js';
import type { EventHub } from './events.js';
import { communeKey, findGroup, normalizeQuestion } from './grouping.js';
import {
  STATUSES,
  type InboxQuestion,
  type QuestionStatus,
  type TeamStore,
  type TranscriptEntry,
} from './teamStore.js';

/** An error with the HTTP status and code the API answers with. */
export class TeamError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface QuestionJson {
  id: string;
  text: string;
  channel: string;
  commune: string | null;
  topic: string | null;
  reason: string;
  status: QuestionStatus;
  assignee: { id: string; name: string } | null;
  confidence: number | null;
  sources: { title: string; file: string; score: number }[];
  createdAt: string;
  updatedAt: string;
  stale: boolean;
  groupId: string;
  groupSize: number;
  answer: { text: string; by: string; at: string } | null;
  escalationNote: string | null;
  takenOver: boolean;
  deliveries: { questionId: string; status: 'sent' | 'pending' | 'undeliverable' }[];
}

export interface ListFilter {
  status?: string;
  commune?: string;
  topic?: string;
  q?: string;
  from?: string;
  to?: string;
}

const ACTIVE: readonly QuestionStatus[] = ['open', 'claimed', 'escalated'];

export interface InboxOptions {
  store: TeamStore;
  events: EventHub;
  delivery: Delivery;
  logger: Logger;
  staleAfterMinutes: number;
  isTakenOver: (questionId: string) => boolean;
  /** Called with each new question (after grouping): the outgoing commune webhook. */
  onNew?: (q: InboxQuestion) => void;
}

/** The team inbox: questions as the dashboard sees them, their transitions, audit and live events. */
export class Inbox {
  constructor(private readonly o: InboxOptions) {}

  audit(p: Pick<Principal, 'id' | 'name'>, action: string, target?: string, detail?: unknown): void {
    this.o.store.audit.record({ actorId: p.id, actorName: p.name, action, target, detail });
  }

  /** A question the unanswered log has just stored: normalized, grouped, announced. */
  added(stored: Pick<StoredQuestion, 'id'>): void {
    const q = this.groupOne(stored.id);
    if (!q) return;
    this.publish(q);
    this.o.onNew?.(q);
  }

  /** Groups questions stored while the inbox was not running (first start, older rows). */
  backfill(): void {
    for (const q of this.o.store.questions.ungrouped()) this.groupOne(q.id);
  }

  private groupOne(id: string): InboxQuestion | undefined {
    const { questions } = this.o.store;
    const q = questions.get(id);
    if (!q) return undefined;
    const normalized = normalizeQuestion(q.text);
    const candidates = questions
      .all()
      .filter((c) => c.id !== q.id && c.createdAt <= q.createdAt && ACTIVE.includes(c.status));
    const groupId = findGroup({ ...q, normalized }, candidates);
    return questions.update(q.id, { normalized, groupId });
  }

  publish(q: InboxQuestion): void {
    this.o.events.publish('question', q.commune, this.toJson(q));
  }

  toJson(q: InboxQuestion, groupSizes?: Map<string, number>): QuestionJson {
    const group = groupSizes ? undefined : this.o.store.questions.inGroup(q.groupId);
    const size = groupSizes?.get(q.groupId) ?? group?.length ?? 1;
    const staleBefore = Date.now() - this.o.staleAfterMinutes * 60_000;
    const rows = group ?? [q];
    const deliveries = rows.flatMap((g) =>
      g.deliveryStatus && (g.id === q.id || (q.answerText !== null && g.answerText === q.answerText))
        ? [{ questionId: g.id, status: g.deliveryStatus }]
        : [],
    );
    return {
      id: q.id,
      text: q.text,
      channel: q.channel,
      commune: q.commune,
      topic: q.topic,
      reason: q.reason,
      status: q.status,
      assignee: q.assigneeId ? { id: q.assigneeId, name: q.assigneeName ?? '' } : null,
      confidence: q.confidence,
      sources: q.sources,
      createdAt: q.createdAt,
      updatedAt: q.updatedAt,
      stale: q.status === 'open' && Date.parse(q.createdAt) < staleBefore,
      groupId: q.groupId,
      groupSize: Math.max(size, 1),
      answer:
        q.answerText && q.answeredAt ? { text: q.answerText, by: q.answerBy ?? '', at: q.answeredAt } : null,
      escalationNote: q.escalationNote,
      takenOver: this.o.isTakenOver(q.id),
      deliveries,
    };
  }

  /** Questions the principal may see, filtered. */
  visible(p: Principal, f: ListFilter = {}): InboxQuestion[] {
    const communeFilter = f.commune ? communeKey(f.commune) : undefined;
    const needle = f.q ? normalizeQuestion(f.q) : undefined;
    return this.o.store.questions.all().filter((q) => {
      if (!canSeeCommune(p, q.commune)) return false;
      if (f.status && q.status !== f.status) return false;
      if (communeFilter !== undefined && communeKey(q.commune) !== communeFilter) return false;
      if (f.topic && q.topic !== f.topic) return false;
      if (needle && !q.normalized.includes(needle) && !normalizeQuestion(q.text).includes(needle))
        return false;
      if (f.from && q.createdAt < f.from) return false;
      if (f.to && q.createdAt > (f.to.length === 10 ? `${f.to}T23:59:59.999Z` : f.to)) return false;
      return true;
    });
  }

  list(p: Principal, f: ListFilter) {
    if (f.status && !STATUSES.includes(f.status as QuestionStatus)) {
      throw new TeamError(400, 'BadArgument', `status must be one of ${STATUSES.join(', ')}`);
    }
    const all = this.visible(p);
    const sizes = new Map<string, number>();
    for (const q of all) sizes.set(q.groupId, (sizes.get(q.groupId) ?? 0) + 1);
    const items = this.visible(p, f).map((q) => this.toJson(q, sizes));
    const withoutStatus = this.visible(p, { ...f, status: undefined }).map((q) => this.toJson(q, sizes));
    const counts: Record<string, number> = { stale: 0 };
    for (const s of STATUSES) counts[s] = 0;
    for (const q of withoutStatus) {
      counts[q.status] = (counts[q.status] ?? 0) + 1;
      if (q.stale) counts.stale = (counts.stale ?? 0) + 1;
    }
    const byGroup = new Map<string, QuestionJson[]>();
    for (const q of items) byGroup.set(q.groupId, [...(byGroup.get(q.groupId) ?? []), q]);
    const groups = [...byGroup.entries()].map(([groupId, members]) => {
      const oldestFirst = [...members].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      return {
        groupId,
        count: members.length,
        representative: oldestFirst[0]!,
        questionIds: oldestFirst.map((m) => m.id),
      };
    });
    return { items, groups, counts };
  }

  /** The question, or 404 / 403. */
  require(p: Principal, id: string): InboxQuestion {
    const q = this.o.store.questions.get(id);
    if (!q) throw new TeamError(404, 'NotFound', 'No such question');
    if (!canSeeCommune(p, q.commune)) {
      throw new TeamError(403, 'Forbidden', 'This question belongs to a commune you are not a member of');
    }
    return q;
  }

  detail(p: Principal, id: string) {
    const q = this.require(p, id);
    const group = this.o.store.questions.inGroup(q.groupId).filter((g) => canSeeCommune(p, g.commune));
    return {
      ...this.toJson(q),
      transcript: q.transcript as TranscriptEntry[],
      group: group.map((g) => this.toJson(g)),
    };
  }

  private change(
    p: Principal,
    q: InboxQuestion,
    action: string,
    patch: Parameters<TeamStore['questions']['update']>[1],
    detail?: unknown,
  ): QuestionJson {
    const updated = this.o.store.questions.update(q.id, patch)!;
    this.audit(p, action, q.id, { from: q.status, to: updated.status, ...(detail as object) });
    this.publish(updated);
    return this.toJson(updated);
  }

  claim(p: Principal, id: string): QuestionJson {
    const q = this.require(p, id);
    if (q.status === 'claimed' && q.assigneeId === p.id) return this.toJson(q);
    if (!['open', 'escalated', 'undeliverable'].includes(q.status)) {
      throw new TeamError(409, 'Conflict', `A question that is ${q.status} cannot be claimed`);
    }
    return this.change(p, q, 'question.claim', { status: 'claimed', assigneeId: p.id, assigneeName: p.name });
  }

  escalate(p: Principal, id: string, note: unknown): QuestionJson {
    const q = this.require(p, id);
    if (note !== undefined && typeof note !== 'string')
      throw new TeamError(400, 'BadArgument', 'note must be text');
    if (!['open', 'claimed'].includes(q.status)) {
      throw new TeamError(409, 'Conflict', `A question that is ${q.status} cannot be escalated`);
    }
    const escalationNote = (note ?? '').trim().slice(0, 2000) || null;
    return this.change(
      p,
      q,
      'question.escalate',
      { status: 'escalated', escalationNote },
      { note: escalationNote },
    );
  }

  close(p: Principal, id: string): QuestionJson {
    const q = this.require(p, id);
    if (q.status === 'closed') throw new TeamError(409, 'Conflict', 'The question is already closed');
    return this.change(p, q, 'question.close', { status: 'closed' });
  }

  /**
   * Answers a question and every active question of its group: "Tổ công nghệ số trả lời: …" is sent
   * to each citizen on their channel; one that cannot be reached becomes `undeliverable`.
   */
  async answer(p: Principal, id: string, text: unknown) {
    const q = this.require(p, id);
    if (typeof text !== 'string' || !text.trim()) throw new TeamError(400, 'BadArgument', 'text is required');
    if (text.length > 4000) throw new TeamError(400, 'BadArgument', 'text is longer than 4000 characters');
    if (q.status === 'answered' || q.status === 'closed') {
      throw new TeamError(409, 'Conflict', `A question that is ${q.status} cannot be answered again`);
    }
    const answer = text.trim();
    const targets = [
      q,
      ...this.o.store.questions
        .inGroup(q.groupId)
        .filter((g) => g.id !== q.id && ACTIVE.includes(g.status) && canSeeCommune(p, g.commune)),
    ];
    const delivered: { questionId: string; status: 'sent' | 'pending' | 'undeliverable' }[] = [];
    const message = `${TEAM_PREFIX}${answer}`;
    let main: InboxQuestion | undefined;
    for (const t of targets) {
      const result = await this.o.delivery.send(t.reference, message);
      const at = new Date().toISOString();
      this.o.store.questions.appendTranscript(t.id, { from: 'team', text: message, at });
      const updated = this.o.store.questions.update(t.id, {
        status: result.status === 'undeliverable' ? 'undeliverable' : 'answered',
        answerText: answer,
        answerBy: p.name,
        answeredAt: at,
        deliveryStatus: result.status,
        deliveryRef: result.ref ?? null,
        assigneeId: t.assigneeId ?? p.id,
        assigneeName: t.assigneeName ?? p.name,
      })!;
      if (t.id === q.id) main = updated;
      delivered.push({ questionId: t.id, status: result.status });
      this.audit(p, 'question.answer', t.id, {
        from: t.status,
        to: updated.status,
        delivery: result.status,
        viaGroupOf: t.id === q.id ? undefined : q.id,
        text: redactPii(answer).text,
      });
      this.publish(updated);
    }
    return { question: this.toJson(main!), delivered };
  }

  /** A channel reported that a team message did not reach the citizen. */
  undeliverable(ref: string, reason: string): void {
    const q = this.o.store.questions.byDeliveryRef(ref);
    if (!q) return;
    const updated = this.o.store.questions.update(q.id, {
      status: q.status === 'answered' ? 'undeliverable' : q.status,
      deliveryStatus: 'undeliverable',
    })!;
    this.audit({ id: 'system', name: 'hệ thống' }, 'question.undeliverable', q.id, { reason });
    this.o.logger.warn({ questionId: q.id, reason }, 'team answer undeliverable');
    this.publish(updated);
  }

  csv(p: Principal, f: ListFilter): string {
    const header = [
      'id',
      'createdAt',
      'updatedAt',
      'status',
      'commune',
      'topic',
      'channel',
      'reason',
      'confidence',
      'groupId',
      'text',
      'assignee',
      'answer',
      'answeredBy',
      'answeredAt',
    ];
    const rows = this.visible(p, f).map((q) => [
      q.id,
      q.createdAt,
      q.updatedAt,
      q.status,
      q.commune ?? '',
      q.topic ?? '',
      q.channel,
      q.reason,
      q.confidence === null ? '' : String(q.confidence),
      q.groupId,
      q.text,
      q.assigneeName ?? '',
      q.answerText ?? '',
      q.answerBy ?? '',
      q.answeredAt ?? '',
    ]);
    return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
  }

  trends(p: Principal, feedback: { up: number; down: number }) {
    const all = this.visible(p);
    const weekAgo = new Date(Date.now() - 7 * 86_400_000).toISOString();
    const asked = new Map<string, { text: string; count: number }>();
    for (const q of all) {
      if (q.createdAt < weekAgo) continue;
      const key = q.groupId;
      const e = asked.get(key) ?? { text: q.text, count: 0 };
      e.count++;
      asked.set(key, e);
    }
    const perCommune = new Map<string, { commune: string; open: number; answered: number }>();
    for (const q of all) {
      const key = communeKey(q.commune);
      const e = perCommune.get(key) ?? { commune: q.commune ?? '', open: 0, answered: 0 };
      if (q.status === 'open') e.open++;
      if (q.status === 'answered') e.answered++;
      perCommune.set(key, e);
    }
    const answered = all.filter((q) => q.answeredAt);
    const minutes = answered
      .map((q) => (Date.parse(q.answeredAt!) - Date.parse(q.createdAt)) / 60_000)
      .sort((a, b) => a - b);
    const mid = Math.floor(minutes.length / 2);
    const median = !minutes.length
      ? null
      : minutes.length % 2
        ? minutes[mid]!
        : (minutes[mid - 1]! + minutes[mid]!) / 2;
    return {
      mostAskedThisWeek: [...asked.values()].sort((a, b) => b.count - a.count).slice(0, 10),
      perCommune: [...perCommune.values()].sort((a, b) => a.commune.localeCompare(b.commune, 'vi')),
      answeredRate: all.length ? answered.length / all.length : 0,
      medianMinutesToAnswer: median === null ? null : Math.round(median * 10) / 10,
      feedback,
    };
  }
}

/** One CSV cell: quoted, and a leading = + - @ neutralized (spreadsheet formula injection). */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}
