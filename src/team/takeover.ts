import type { Logger } from '../logger.js';
import { redactPii } from '../privacy/redact.js';
import type { Principal } from './auth.js';
import { TEAM_PREFIX, type Delivery } from './delivery.js';
import type { EventHub } from './events.js';
import { TeamError } from './inbox.js';
import type { InboxQuestion, QuestionRepository, TakeoverRecord, TakeoverRepository } from './teamStore.js';

export const JOINED_TEXT =
  'Một thành viên Tổ công nghệ số đã tham gia cuộc trò chuyện. Bạn cứ nhắn, thành viên của tổ sẽ trả lời bạn trực tiếp tại đây.';
export const RESUMED_TEXT =
  'Thành viên Tổ công nghệ số đã rời cuộc trò chuyện. Trợ lý ảo tiếp tục trả lời bạn; bạn cứ gõ câu hỏi nhé.';

/** What CitizenBot needs: is the conversation with a person, and where its messages go. */
export interface TakeoverHook {
  isTakenOver(channelId: string, conversationId: string): boolean;
  /** Hands a citizen message (already redacted) to the team during a takeover. */
  relay(message: { channelId: string; conversationId: string; text: string }): Promise<void>;
}

const keyOf = (channelId: string, conversationId: string) => `${channelId}\u0000${conversationId}`;

/**
 * Live takeover: while a member has joined a conversation the bot stays silent there, the citizen's
 * messages go to the inbox (SSE + transcript) and the member's replies to the citizen, until the member
 * hands back or `idleMinutes` pass without a team message.
 */
export class TakeoverService implements TakeoverHook {
  private readonly active = new Map<string, TakeoverRecord>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly o: {
      repo: TakeoverRepository;
      questions: QuestionRepository;
      delivery: Delivery;
      events: EventHub;
      logger: Logger;
      idleMinutes: number;
      audit: (p: Pick<Principal, 'id' | 'name'>, action: string, target: string, detail?: unknown) => void;
      /** A question's takeover state changed (to republish it). */
      onChange: (questionId: string) => void;
    },
  ) {
    for (const r of o.repo.list()) this.active.set(r.key, r);
    this.timer = setInterval(() => this.sweep(), 15_000);
    this.timer.unref();
  }

  private expired(r: TakeoverRecord, now = Date.now()): boolean {
    return now - Date.parse(r.lastTeamAt) > this.o.idleMinutes * 60_000;
  }

  isTakenOver(channelId: string, conversationId: string): boolean {
    const r = this.active.get(keyOf(channelId, conversationId));
    if (!r) return false;
    if (this.expired(r)) {
      void this.end(r, { id: 'system', name: 'hệ thống' }, 'idle');
      return false;
    }
    return true;
  }

  isQuestionTakenOver(questionId: string): boolean {
    for (const r of this.active.values()) if (r.questionId === questionId && !this.expired(r)) return true;
    return false;
  }

  async relay(m: { channelId: string; conversationId: string; text: string }): Promise<void> {
    const r = this.active.get(keyOf(m.channelId, m.conversationId));
    if (!r) return;
    const q = this.o.questions.get(r.questionId);
    const text = redactPii(m.text).text;
    const at = new Date().toISOString();
    this.o.questions.appendTranscript(r.questionId, { from: 'user', text, at });
    this.o.events.publish('message', q?.commune ?? null, {
      questionId: r.questionId,
      from: 'user',
      text,
      at,
    });
  }

  async start(p: Principal, q: InboxQuestion): Promise<void> {
    const channelId = q.reference.channelId ?? q.channel;
    const conversationId = q.reference.conversation?.id ?? q.conversationId;
    const key = keyOf(channelId, conversationId);
    const current = this.active.get(key);
    if (current && !this.expired(current) && current.memberId !== p.id) {
      throw new TeamError(409, 'Conflict', `${current.memberName} is already talking with this citizen`);
    }
    const now = new Date().toISOString();
    const record: TakeoverRecord = {
      key,
      questionId: q.id,
      channelId,
      conversationId,
      memberId: p.id,
      memberName: p.name,
      startedAt: now,
      lastTeamAt: now,
    };
    this.o.repo.put(record);
    this.active.set(key, record);
    const result = await this.o.delivery.send(q.reference, JOINED_TEXT);
    this.o.questions.appendTranscript(q.id, { from: 'team', text: JOINED_TEXT, at: now });
    this.o.audit(p, 'question.takeover', q.id, { delivery: result.status });
    this.o.onChange(q.id);
  }

  async message(p: Principal, q: InboxQuestion, text: unknown): Promise<{ status: string }> {
    if (typeof text !== 'string' || !text.trim()) throw new TeamError(400, 'BadArgument', 'text is required');
    const r = [...this.active.values()].find((a) => a.questionId === q.id && !this.expired(a));
    if (!r) throw new TeamError(409, 'Conflict', 'Take the conversation over first');
    const message = `${TEAM_PREFIX}${text.trim().slice(0, 4000)}`;
    const result = await this.o.delivery.send(q.reference, message);
    const at = new Date().toISOString();
    r.lastTeamAt = at;
    this.o.repo.touch(r.key, at);
    this.o.questions.appendTranscript(q.id, { from: 'team', text: message, at });
    this.o.events.publish('message', q.commune, { questionId: q.id, from: 'team', text: message, at });
    this.o.audit(p, 'question.message', q.id, { delivery: result.status, text: redactPii(message).text });
    return { status: result.status };
  }

  async handback(p: Pick<Principal, 'id' | 'name'>, q: InboxQuestion): Promise<void> {
    const r = [...this.active.values()].find((a) => a.questionId === q.id);
    if (r) await this.end(r, p, 'handback');
  }

  private async end(r: TakeoverRecord, p: Pick<Principal, 'id' | 'name'>, why: 'handback' | 'idle') {
    if (this.active.get(r.key) !== r) return;
    this.active.delete(r.key);
    this.o.repo.remove(r.key);
    const q = this.o.questions.get(r.questionId);
    if (q) {
      const result = await this.o.delivery.send(q.reference, RESUMED_TEXT);
      this.o.questions.appendTranscript(q.id, {
        from: 'bot',
        text: RESUMED_TEXT,
        at: new Date().toISOString(),
      });
      this.o.audit(p, why === 'idle' ? 'question.takeover_idle' : 'question.handback', q.id, {
        delivery: result.status,
      });
    }
    this.o.onChange(r.questionId);
  }

  sweep(): void {
    const now = Date.now();
    for (const r of [...this.active.values()]) {
      if (this.expired(r, now)) {
        void this.end(r, { id: 'system', name: 'hệ thống' }, 'idle').catch((err: unknown) =>
          this.o.logger.error({ err }, 'takeover: idle hand-back failed'),
        );
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
