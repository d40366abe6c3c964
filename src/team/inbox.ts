import type { Logger } from '../logger.js';
import { redactPii } from '../privacy/redact.js';
import type { StoredQuestion } from '../unanswered/unansweredLog.js';
import { canSeeCommune, type Principal } from './auth.js';
import { TEAM_PREFIX, type Delivery } from './delivery.js';
import type { EventHub } from './events.js';
import type { TeamSignals } from './signals.js';
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
/** How many of the newest active questions a new question is compared with, to find its group. */
export const GROUP_CANDIDATES = 500;

/** How often a state change retries when another replica changed the question in between. */
const ATTEMPTS = 3;

export interface InboxOptions {
  store: TeamStore;
  events: EventHub;
  /** Tells the other replicas (PostgreSQL) about changes; absent in unit set-ups. */
  signals?: TeamSignals;
  delivery: Delivery;
  logger: Logger;
  staleAfterMinutes: number;
  /** The ids of the questions whose conversation a member has taken over (read from the store). */
  takenOver: () => Promise<ReadonlySet<string>>;
  /** Called with each new question (after grouping): the outgoing commune webhook. */
  onNew?: (q: InboxQuestion) => void;
}

/** What `toJson` needs beside the question: read once per request. */
interface JsonContext {
  takenOver: ReadonlySet<string>;
  /** Group sizes of a list; without it the question's group is `group`. */
  sizes?: Map<string, number>;
  group?: InboxQuestion[];
}

/** A state change decided from the question as read: a patch to apply, or no change. */
type Decision =
  | { patch: Parameters<TeamStore['questions']['update']>[1]; detail?: Record<string, unknown> }
  | { unchanged: true };

/**
 * The team inbox: questions as the dashboard sees them, their transitions, audit and live events.
 * State lives only in the store, so any replica can serve any request; a transition is a conditional
 * update of the status read (two members acting at once on two replicas: one wins, the other gets 409).
 */
export class Inbox {
  constructor(private readonly o: InboxOptions) {}

  async audit(
    p: Pick<Principal, 'id' | 'name'>,
    action: string,
    target?: string,
    detail?: unknown,
  ): Promise<void> {
    await this.o.store.audit.record({ actorId: p.id, actorName: p.name, action, target, detail });
  }

  /** A question the unanswered log has just stored (on this replica): normalized, grouped, announced. */
  async added(stored: Pick<StoredQuestion, 'id'>): Promise<void> {
    const q = await this.groupOne(stored.id);
    if (!q) return;
    await this.publish(q);
    this.o.onNew?.(q);
  }

  /** Groups questions stored while the inbox was not running (first start, older rows). */
  async backfill(): Promise<number> {
    const ungrouped = await this.o.store.questions.ungrouped();
    for (const q of ungrouped) await this.groupOne(q.id);
    return ungrouped.length;
  }

  private async groupOne(id: string): Promise<InboxQuestion | undefined> {
    const { questions } = this.o.store;
    const q = await questions.get(id);
    if (!q) return undefined;
    const normalized = normalizeQuestion(q.text);
    // The newest active questions only: the work per new question stays bounded however large
    // the inbox grows (after a broadcast, or with a long retention).
    const candidates = await questions.groupCandidates(ACTIVE, q.createdAt, GROUP_CANDIDATES);
    const groupId = findGroup({ ...q, normalized }, candidates);
    return questions.update(q.id, { normalized, groupId });
  }

  /**
   * Every question, grouped: one stored a moment ago whose grouping (run on `onLogged`, in the
   * background) has not finished yet is grouped now, so a list never shows it on its own.
   */
  private async allGrouped(): Promise<InboxQuestion[]> {
    const all = await this.o.store.questions.all();
    const pending = all.filter((q) => !q.grouped).reverse(); // oldest first
    if (!pending.length) return all;
    for (const q of pending) await this.groupOne(q.id);
    return this.o.store.questions.all();
  }

  /** Shows the question on this replica's dashboards and tells the other replicas. Never throws. */
  async publish(q: InboxQuestion): Promise<void> {
    try {
      this.o.signals?.send({ t: 'question', id: q.id });
      await this.publishLocally(q);
    } catch (err) {
      this.o.logger.warn({ err, questionId: q.id }, 'team inbox: live update failed');
    }
  }

  /** Shows the question on this replica's dashboards (a change made here or on another replica). */
  async publishLocally(q: InboxQuestion): Promise<void> {
    if (this.o.events.size === 0) return;
    this.o.events.publish('question', q.commune, await this.json(q));
  }

  /** A message of a taken-over conversation, to the dashboards of every replica. */
  publishMessage(
    q: Pick<InboxQuestion, 'id' | 'commune'>,
    m: { from: TranscriptEntry['from']; text: string; at: string },
  ): void {
    this.o.events.publish('message', q.commune, { questionId: q.id, ...m });
    this.o.signals?.send({ t: 'message', questionId: q.id, commune: q.commune, ...m });
  }

  /** The JSON of one question, with its group and takeover state read from the store. */
  async json(q: InboxQuestion): Promise<QuestionJson> {
    const [group, takenOver] = await Promise.all([
      this.o.store.questions.inGroup(q.groupId),
      this.o.takenOver(),
    ]);
    return this.toJson(q, { group, takenOver });
  }

  toJson(q: InboxQuestion, ctx: JsonContext): QuestionJson {
    const group = ctx.sizes ? undefined : ctx.group;
    const size = ctx.sizes?.get(q.groupId) ?? group?.length ?? 1;
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
      takenOver: ctx.takenOver.has(q.id),
      deliveries,
    };
  }

  /** Questions the principal may see, filtered (from `all`, one read of the store). */
  private filter(all: readonly InboxQuestion[], p: Principal, f: ListFilter = {}): InboxQuestion[] {
    const communeFilter = f.commune ? communeKey(f.commune) : undefined;
    const needle = f.q ? normalizeQuestion(f.q) : undefined;
    return all.filter((q) => {
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

  /** Questions the principal may see, filtered. */
  async visible(p: Principal, f: ListFilter = {}): Promise<InboxQuestion[]> {
    return this.filter(await this.allGrouped(), p, f);
  }

  async list(p: Principal, f: ListFilter) {
    if (f.status && !STATUSES.includes(f.status as QuestionStatus)) {
      throw new TeamError(400, 'BadArgument', `status must be one of ${STATUSES.join(', ')}`);
    }
    const [everything, takenOver] = await Promise.all([this.allGrouped(), this.o.takenOver()]);
    const all = this.filter(everything, p);
    const sizes = new Map<string, number>();
    for (const q of all) sizes.set(q.groupId, (sizes.get(q.groupId) ?? 0) + 1);
    const ctx = { sizes, takenOver };
    const items = this.filter(all, p, f).map((q) => this.toJson(q, ctx));
    const withoutStatus = this.filter(all, p, { ...f, status: undefined }).map((q) => this.toJson(q, ctx));
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
  async require(p: Principal, id: string): Promise<InboxQuestion> {
    const q = await this.o.store.questions.get(id);
    if (!q) throw new TeamError(404, 'NotFound', 'No such question');
    if (!canSeeCommune(p, q.commune)) {
      throw new TeamError(403, 'Forbidden', 'This question belongs to a commune you are not a member of');
    }
    return q;
  }

  async detail(p: Principal, id: string) {
    const q = await this.require(p, id);
    const [all, takenOver] = await Promise.all([
      this.o.store.questions.inGroup(q.groupId),
      this.o.takenOver(),
    ]);
    const group = all.filter((g) => canSeeCommune(p, g.commune));
    return {
      ...this.toJson(q, { group: all, takenOver }),
      transcript: q.transcript,
      group: group.map((g) => this.toJson(g, { group: all, takenOver })),
    };
  }

  /**
   * Reads the question, decides, and applies the decision only if nobody changed its status or
   * assignee meanwhile (on this or another replica); otherwise decides again on the fresh row.
   */
  private async transition(
    p: Principal,
    id: string,
    action: string,
    decide: (q: InboxQuestion) => Decision,
  ): Promise<QuestionJson> {
    for (let attempt = 1; ; attempt++) {
      const q = await this.require(p, id);
      const d = decide(q);
      if ('unchanged' in d) return this.json(q);
      const updated = await this.o.store.questions.updateIf(q.id, q, d.patch);
      if (updated) {
        await this.audit(p, action, q.id, { from: q.status, to: updated.status, ...d.detail });
        await this.publish(updated);
        return this.json(updated);
      }
      if (attempt >= ATTEMPTS) {
        throw new TeamError(409, 'Conflict', 'The question was changed by someone else at the same time');
      }
    }
  }

  claim(p: Principal, id: string): Promise<QuestionJson> {
    return this.transition(p, id, 'question.claim', (q) => {
      if (q.status === 'claimed' && q.assigneeId === p.id) return { unchanged: true };
      if (!['open', 'escalated', 'undeliverable'].includes(q.status)) {
        throw new TeamError(409, 'Conflict', `A question that is ${q.status} cannot be claimed`);
      }
      return { patch: { status: 'claimed', assigneeId: p.id, assigneeName: p.name } };
    });
  }

  escalate(p: Principal, id: string, note: unknown): Promise<QuestionJson> {
    if (note !== undefined && typeof note !== 'string')
      throw new TeamError(400, 'BadArgument', 'note must be text');
    const escalationNote = (note ?? '').trim().slice(0, 2000) || null;
    return this.transition(p, id, 'question.escalate', (q) => {
      if (!['open', 'claimed'].includes(q.status)) {
        throw new TeamError(409, 'Conflict', `A question that is ${q.status} cannot be escalated`);
      }
      return { patch: { status: 'escalated', escalationNote }, detail: { note: escalationNote } };
    });
  }

  close(p: Principal, id: string): Promise<QuestionJson> {
    return this.transition(p, id, 'question.close', (q) => {
      if (q.status === 'closed') throw new TeamError(409, 'Conflict', 'The question is already closed');
      return { patch: { status: 'closed' } };
    });
  }

  /**
   * Answers a question and every active question of its group: "Tổ công nghệ số trả lời: …" is sent
   * to each citizen on their channel; one that cannot be reached becomes `undeliverable`.
   *
   * Each question is first marked answered (delivery `pending`) by a conditional update, and only the
   * request that made that change sends to its citizen: two members answering at once (on two
   * replicas) send one answer, and the other gets 409.
   */
  async answer(p: Principal, id: string, text: unknown) {
    await this.require(p, id);
    if (typeof text !== 'string' || !text.trim()) throw new TeamError(400, 'BadArgument', 'text is required');
    if (text.length > 4000) throw new TeamError(400, 'BadArgument', 'text is longer than 4000 characters');
    const answer = text.trim();
    const answeredAt = new Date().toISOString();
    const reserve = (t: InboxQuestion) =>
      this.o.store.questions.updateIf(t.id, t, {
        status: 'answered',
        answerText: answer,
        answerBy: p.name,
        answeredAt,
        deliveryStatus: 'pending',
        deliveryRef: null,
        assigneeId: t.assigneeId ?? p.id,
        assigneeName: t.assigneeName ?? p.name,
      });

    let q: InboxQuestion | undefined;
    for (let attempt = 1; !q; attempt++) {
      const current = await this.require(p, id);
      if (current.status === 'answered' || current.status === 'closed') {
        throw new TeamError(409, 'Conflict', `A question that is ${current.status} cannot be answered again`);
      }
      if (await reserve(current)) q = current;
      else if (attempt >= ATTEMPTS) {
        throw new TeamError(409, 'Conflict', 'The question was changed by someone else at the same time');
      }
    }
    const targets = [q];
    const others = (await this.o.store.questions.inGroup(q.groupId)).filter(
      (g) => g.id !== q.id && ACTIVE.includes(g.status) && canSeeCommune(p, g.commune),
    );
    for (const g of others) if (await reserve(g)) targets.push(g);

    const delivered: { questionId: string; status: 'sent' | 'pending' | 'undeliverable' }[] = [];
    const message = `${TEAM_PREFIX}${answer}`;
    let main: InboxQuestion | undefined;
    for (const t of targets) {
      const result = await this.o.delivery.send(t.reference, message);
      await this.o.store.questions.appendTranscript(t.id, {
        from: 'team',
        text: message,
        at: new Date().toISOString(),
      });
      const updated = (await this.o.store.questions.recordDelivery(t.id, {
        status: result.status,
        ref: result.ref ?? null,
      }))!;
      if (t.id === q.id) main = updated;
      delivered.push({ questionId: t.id, status: result.status });
      await this.audit(p, 'question.answer', t.id, {
        from: t.status,
        to: updated.status,
        delivery: result.status,
        viaGroupOf: t.id === q.id ? undefined : q.id,
        text: redactPii(answer).text,
      });
      await this.publish(updated);
    }
    return { question: await this.json(main!), delivered };
  }

  /** A channel reported that a team message did not reach the citizen. */
  async undeliverable(ref: string, reason: string): Promise<void> {
    const q = await this.o.store.questions.byDeliveryRef(ref);
    if (!q) return;
    const updated = await this.o.store.questions.recordDelivery(q.id, { status: 'undeliverable', ref });
    if (!updated) return;
    await this.audit({ id: 'system', name: 'hệ thống' }, 'question.undeliverable', q.id, { reason });
    this.o.logger.warn({ questionId: q.id, reason }, 'team answer undeliverable');
    await this.publish(updated);
  }

  async csv(p: Principal, f: ListFilter): Promise<string> {
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
    const rows = (await this.visible(p, f)).map((q) => [
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

  async trends(p: Principal, feedback: { up: number; down: number }) {
    const all = await this.visible(p);
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
