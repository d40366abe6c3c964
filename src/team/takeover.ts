import type { Logger } from '../logger.js';
import { redactPii } from '../privacy/redact.js';
import type { Principal } from './auth.js';
import { TEAM_PREFIX, type Delivery } from './delivery.js';
import { TeamError } from './inbox.js';
import type {
  InboxQuestion,
  QuestionRepository,
  TakeoverRecord,
  TakeoverRepository,
  TranscriptEntry,
} from './teamStore.js';

export const JOINED_TEXT =
  'Một thành viên Tổ công nghệ số đã tham gia cuộc trò chuyện. Bạn cứ nhắn, thành viên của tổ sẽ trả lời bạn trực tiếp tại đây.';
export const RESUMED_TEXT =
  'Thành viên Tổ công nghệ số đã rời cuộc trò chuyện. Trợ lý ảo tiếp tục trả lời bạn; bạn cứ gõ câu hỏi nhé.';

/** What CitizenBot needs: is the conversation with a person, and where its messages go. */
export interface TakeoverHook {
  isTakenOver(channelId: string, conversationId: string): Promise<boolean>;
  /** Hands a citizen message (already redacted) to the team during a takeover. */
  relay(message: { channelId: string; conversationId: string; text: string }): Promise<void>;
}

/**
 * The key of a conversation's takeover: channel ids ("directline", "zalo"…) have no "|", so the key is
 * unambiguous (no NUL separator: PostgreSQL text cannot hold one).
 */
export const takeoverKey = (channelId: string, conversationId: string) => `${channelId}|${conversationId}`;

/** How long a replica trusts what it read about a conversation's takeover (changes also invalidate it). */
const CACHE_MS = 1000;

const SYSTEM = { id: 'system', name: 'hệ thống' };

/**
 * Live takeover: while a member has joined a conversation the bot stays silent there, the citizen's
 * messages go to the inbox (SSE + transcript) and the member's replies to the citizen, until the member
 * hands back or `idleMinutes` pass without a team message.
 *
 * The state is in the store (`team_takeovers`), so it holds on every replica: the citizen's next message
 * may reach another replica than the one the member used. Each replica caches what it read for at most
 * a second; a change made anywhere invalidates the entry at once (`forget`, called on this replica and,
 * through a notification, on the others). Starting and ending are conditional statements, so two
 * replicas never both end the same takeover (one "resumed" message).
 */
export class TakeoverService implements TakeoverHook {
  private readonly cache = new Map<string, { record: TakeoverRecord | undefined; until: number }>();
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly o: {
      repo: TakeoverRepository;
      questions: QuestionRepository;
      delivery: Delivery;
      logger: Logger;
      idleMinutes: number;
      audit: (
        p: Pick<Principal, 'id' | 'name'>,
        action: string,
        target: string,
        detail?: unknown,
      ) => Promise<void>;
      /** A question's takeover state changed (to republish it); `key`: the conversation's. */
      onChange: (questionId: string, key: string) => Promise<void>;
      /** A message of a taken-over conversation, for the dashboards. */
      onMessage: (
        q: Pick<InboxQuestion, 'id' | 'commune'>,
        m: { from: TranscriptEntry['from']; text: string; at: string },
      ) => void;
    },
  ) {}

  /** Starts the idle sweep (every 15 s). */
  startSweeping(everyMs = 15_000): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), everyMs);
    this.timer.unref();
  }

  /** Drops the cached state of one conversation (or of all): it changed here or on another replica. */
  forget(key?: string): void {
    if (key === undefined) this.cache.clear();
    else this.cache.delete(key);
  }

  private idleBefore(now = Date.now()): string {
    return new Date(now - this.o.idleMinutes * 60_000).toISOString();
  }

  private expired(r: TakeoverRecord, now = Date.now()): boolean {
    return r.lastTeamAt < this.idleBefore(now);
  }

  private async lookup(key: string): Promise<TakeoverRecord | undefined> {
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.record;
    const record = await this.o.repo.get(key);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { record, until: now + CACHE_MS });
    return record;
  }

  async isTakenOver(channelId: string, conversationId: string): Promise<boolean> {
    const r = await this.lookup(takeoverKey(channelId, conversationId));
    if (!r) return false;
    if (this.expired(r)) {
      void this.end(r, SYSTEM, 'idle').catch((err: unknown) =>
        this.o.logger.error({ err }, 'takeover: idle hand-back failed'),
      );
      return false;
    }
    return true;
  }

  /** The questions whose conversation is taken over now. */
  async takenOverQuestions(): Promise<Set<string>> {
    const now = Date.now();
    return new Set((await this.o.repo.list()).filter((r) => !this.expired(r, now)).map((r) => r.questionId));
  }

  async relay(m: { channelId: string; conversationId: string; text: string }): Promise<void> {
    const r = await this.lookup(takeoverKey(m.channelId, m.conversationId));
    if (!r) return;
    const q = await this.o.questions.get(r.questionId);
    const text = redactPii(m.text).text;
    const at = new Date().toISOString();
    await this.o.questions.appendTranscript(r.questionId, { from: 'user', text, at });
    this.o.onMessage({ id: r.questionId, commune: q?.commune ?? null }, { from: 'user', text, at });
  }

  async start(p: Principal, q: InboxQuestion): Promise<void> {
    const channelId = q.reference.channelId ?? q.channel;
    const conversationId = q.reference.conversation?.id ?? q.conversationId;
    const key = takeoverKey(channelId, conversationId);
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
    if (!(await this.o.repo.claim(record, this.idleBefore()))) {
      const current = await this.o.repo.get(key);
      throw new TeamError(
        409,
        'Conflict',
        `${current?.memberName ?? 'Another member'} is already talking with this citizen`,
      );
    }
    this.cache.set(key, { record, until: Date.now() + CACHE_MS });
    await this.o.onChange(q.id, key);
    const result = await this.o.delivery.send(q.reference, JOINED_TEXT);
    await this.o.questions.appendTranscript(q.id, { from: 'team', text: JOINED_TEXT, at: now });
    await this.o.audit(p, 'question.takeover', q.id, { delivery: result.status });
  }

  async message(p: Principal, q: InboxQuestion, text: unknown): Promise<{ status: string }> {
    if (typeof text !== 'string' || !text.trim()) throw new TeamError(400, 'BadArgument', 'text is required');
    const r = await this.o.repo.byQuestion(q.id);
    if (!r || this.expired(r)) throw new TeamError(409, 'Conflict', 'Take the conversation over first');
    const message = `${TEAM_PREFIX}${text.trim().slice(0, 4000)}`;
    const result = await this.o.delivery.send(q.reference, message);
    const at = new Date().toISOString();
    await this.o.repo.touch(r.key, at);
    this.forget(r.key);
    await this.o.questions.appendTranscript(q.id, { from: 'team', text: message, at });
    this.o.onMessage(q, { from: 'team', text: message, at });
    await this.o.audit(p, 'question.message', q.id, {
      delivery: result.status,
      text: redactPii(message).text,
    });
    return { status: result.status };
  }

  async handback(p: Pick<Principal, 'id' | 'name'>, q: InboxQuestion): Promise<void> {
    const r = await this.o.repo.byQuestion(q.id);
    if (r) await this.end(r, p, 'handback');
  }

  /** Ends a takeover once: only the caller whose conditional delete removed it tells the citizen. */
  private async end(r: TakeoverRecord, p: Pick<Principal, 'id' | 'name'>, why: 'handback' | 'idle') {
    const removed =
      why === 'idle'
        ? await this.o.repo.removeIfIdle(r.key, this.idleBefore())
        : await this.o.repo.remove(r.key, r.questionId);
    this.forget(r.key);
    if (!removed) return;
    await this.o.onChange(r.questionId, r.key);
    const q = await this.o.questions.get(r.questionId);
    if (q) {
      const result = await this.o.delivery.send(q.reference, RESUMED_TEXT);
      await this.o.questions.appendTranscript(q.id, {
        from: 'bot',
        text: RESUMED_TEXT,
        at: new Date().toISOString(),
      });
      await this.o.audit(p, why === 'idle' ? 'question.takeover_idle' : 'question.handback', q.id, {
        delivery: result.status,
      });
    }
  }

  /** Hands idle conversations back to the assistant (each once, whichever replica gets there first). */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        const now = Date.now();
        for (const r of await this.o.repo.list()) {
          if (this.expired(r, now)) await this.end(r, SYSTEM, 'idle');
        }
      } catch (err) {
        this.o.logger.error({ err }, 'takeover: idle hand-back failed');
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }
}
