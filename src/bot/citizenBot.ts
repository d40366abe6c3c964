import {
  ActivityHandler,
  ActivityTypes,
  type Activity,
  type ConversationState,
  type TurnContext,
} from 'botbuilder';
import type { DialogState } from 'botbuilder-dialogs';
import type { MainDialog } from '../../dialogs/mainDialog.js';
import type { ConversationData } from '../../dialogs/state.js';
import { welcomeMessage } from '../../dialogs/welcome.js';
import { RateLimiter } from '../http/rateLimit.js';
import type { Logger } from '../logger.js';
import { redactPii } from '../privacy/redact.js';
import { toNfc } from '../text/vietnamese.js';
import type { RecentTurns } from './recentTurns.js';
import type { TurnPersistence } from './turnPersistence.js';

export interface CitizenBotOptions {
  conversationState: ConversationState;
  dialog: MainDialog;
  conversationData: import('botbuilder').StatePropertyAccessor<ConversationData>;
  /** The redacted transcript lines the community team sees with a forwarded question. */
  recentTurns: RecentTurns;
  /** Writes the turn's transcript lines and changed state at its end. */
  persistence: TurnPersistence;
  logger: Logger;
  brandName: string;
  maxMessageChars: number;
  /** Messages one user may send per minute (default 20); past it the bot asks them to slow down. */
  messagesPerMinute?: number;
  /** False while the knowledge index is loading: the bot then asks the citizen to wait. */
  isReady: () => boolean;
  /** Live takeover by the community team: the bot stays silent and relays the citizen's messages. */
  takeover?: TakeoverHook;
}

/** The part of the team inbox's takeover service the bot uses (src/team/takeover.ts). */
export interface TakeoverHook {
  /** Reads the store (the takeover may have started on another replica). */
  isTakenOver(channelId: string, conversationId: string): boolean | Promise<boolean>;
  relay(message: { channelId: string; conversationId: string; text: string }): Promise<void>;
}

export const TOO_LONG_TEXT = (max: number) =>
  `Tin nhắn của bạn dài quá (hơn ${max} ký tự) nên mình chưa đọc được. Bạn gõ ngắn gọn câu hỏi chính giúp mình nhé, ví dụ: "cách đăng ký chữ ký số".`;
export const TOO_FAST_TEXT = 'Bạn gửi nhanh quá, đợi chút nhé…';
export const NOT_READY_TEXT = 'Mình đang khởi động, bạn vui lòng gửi lại câu hỏi sau ít giây nhé.';
export const NON_TEXT_TEXT =
  'Hiện mình chỉ đọc được tin nhắn chữ, chưa xem được hình ảnh, tệp hay nhãn dán. Bạn gõ câu hỏi bằng chữ giúp mình nhé (có dấu hay không dấu đều được).';
export const SENSITIVE_WARNING =
  '⚠️ Bạn đừng gửi mã OTP, mật khẩu, số CCCD đầy đủ hay số tài khoản, số thẻ cho bất kỳ ai qua tin nhắn, kể cả cho mình. Mình không lưu những thông tin đó. Nếu đã lỡ đưa mã OTP hay mật khẩu cho người khác, hãy đổi mật khẩu và gọi ngay ngân hàng.';

/**
 * The bot: checks each incoming message (length, personal data, non-text), keeps a redacted
 * transcript for the community team, welcomes new conversations, and runs the main dialog.
 */
export class CitizenBot extends ActivityHandler {
  private readonly dialogState;
  /**
   * Messages per user (channel + user id) in the current minute. Kept in memory on purpose, also with
   * several replicas: it is a politeness brake answered with "Bạn gửi nhanh quá…", not abuse
   * protection (the shared HTTP budgets in src/http/rateLimits.ts are), so a citizen whose messages
   * land on two replicas may send up to twice the rate before being asked to slow down, and no
   * turn pays a store round trip for it.
   */
  private readonly userLimiter: RateLimiter;

  constructor(private readonly options: CitizenBotOptions) {
    super();
    this.dialogState = options.conversationState.createProperty<DialogState>('DialogState');
    this.userLimiter = new RateLimiter(options.messagesPerMinute ?? 20, 60_000);

    this.onMessage(async (context, next) => {
      await this.handleMessage(context);
      await next();
    });

    this.onMembersAdded(async (context, next) => {
      const botId = context.activity.recipient?.id;
      if ((context.activity.membersAdded ?? []).some((m) => m.id !== botId)) {
        this.recordBotReplies(context);
        await context.sendActivity(welcomeMessage(options.brandName));
      }
      await next();
    });
  }

  /** Connects the team inbox's takeover service (created after the bot, with the channels). */
  useTakeover(takeover: TakeoverHook | undefined): void {
    this.options.takeover = takeover;
  }

  override async run(context: TurnContext): Promise<void> {
    let completed = false;
    try {
      await super.run(context);
      completed = true;
    } finally {
      // The turn's lines, also when it failed half-way (what the citizen said and was told), and
      // the changed state when it completed, in one transaction.
      await this.options.persistence.save(context, completed);
    }
  }

  private async handleMessage(context: TurnContext): Promise<void> {
    const { logger, maxMessageChars } = this.options;
    const activity = context.activity;
    // Merged into the few lines logged here (a child logger per message costs every turn).
    const where = {
      channel: activity.channelId,
      conversationId: activity.conversation?.id,
      activityId: activity.id,
    };
    const raw = toNfc(typeof activity.text === 'string' ? activity.text : '').trim();
    this.recordBotReplies(context);

    // A user flooding the bot gets a polite brake; the dialogs (retrieval, model calls) do not run.
    const userKey = `${activity.channelId}:${activity.from?.id ?? activity.conversation?.id ?? ''}`;
    if (!this.userLimiter.take(userKey).ok) {
      logger.info({ ...where, userId: activity.from?.id }, 'user over the message rate limit');
      await context.sendActivity(TOO_FAST_TEXT);
      return;
    }

    if (!raw) {
      await context.sendActivity(NON_TEXT_TEXT);
      return;
    }
    if (raw.length > maxMessageChars) {
      logger.info({ ...where, chars: raw.length }, 'message too long');
      await context.sendActivity(TOO_LONG_TEXT(maxMessageChars));
      return;
    }
    // One pass finds the personal data: what to redact, and what the citizen should not share.
    const { text, kinds } = redactPii(raw);
    const sensitive = kinds.filter((k) => k !== 'phone' && k !== 'email');
    logger.debug({ ...where, text, sensitive }, 'message');
    // From here on only the redacted text exists for the dialogs, the state and the store.
    activity.text = text;
    this.remember(context, 'user', text);
    await this.dropLegacyTranscript(context);
    const takeover = this.options.takeover;
    const conversationId = activity.conversation?.id ?? '';
    if (takeover && (await takeover.isTakenOver(activity.channelId, conversationId))) {
      // A team member is in this conversation: the bot stays silent (only the privacy warning).
      if (sensitive.length) await context.sendActivity(SENSITIVE_WARNING);
      await takeover.relay({ channelId: activity.channelId, conversationId, text });
      return;
    }
    if (sensitive.length) {
      await context.sendActivity(SENSITIVE_WARNING);
      if (stripPlaceholders(text).length < 8) return;
    }
    if (!this.options.isReady()) {
      await context.sendActivity(NOT_READY_TEXT);
      return;
    }
    await this.options.dialog.run(context, this.dialogState);
  }

  /** Adds what the bot says in this turn to the redacted transcript. */
  private recordBotReplies(context: TurnContext): void {
    context.onSendActivities(async (ctx, activities, next) => {
      for (const a of activities as Partial<Activity>[]) {
        if (a.type === ActivityTypes.Message && a.text) this.remember(ctx, 'bot', a.text);
      }
      return next();
    });
  }

  /**
   * Conversation state written before the transcript moved to RecentTurns still carries it: it is
   * dropped at the conversation's next message, so no state keeps hashing and rewriting it.
   */
  private async dropLegacyTranscript(context: TurnContext): Promise<void> {
    const convo = (await this.options.conversationData.get(context)) as
      (ConversationData & { transcript?: unknown }) | undefined;
    if (convo && 'transcript' in convo) {
      delete convo.transcript;
      await this.options.conversationData.set(context, convo);
    }
  }

  private remember(context: TurnContext, from: 'user' | 'bot', text: string): void {
    this.options.recentTurns.record(context, {
      from,
      text: text.slice(0, 1000),
      at: new Date().toISOString(),
    });
  }
}

function stripPlaceholders(text: string): string {
  return text
    .replace(/\[[^\]]+\]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
