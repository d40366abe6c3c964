import {
  ActivityTypes,
  BotAdapter,
  TurnContext,
  type Activity,
  type ConversationReference,
  type ResourceResponse,
} from 'botbuilder';
import type { ZaloConversations } from './conversations.js';
import { toZaloParts } from './messages.js';
import type { Outbox } from './outbox.js';
import { eventParties, type OaEvent } from './types.js';

export const ZALO_CHANNEL_ID = 'zalo';
/** Not a URL anything is sent to: Zalo replies go through the outbox to the OA API. */
export const ZALO_SERVICE_URL = 'zalo://oa';

/** The conversation with one Zalo user: conversation id = user id (a string), bot = the OA. */
export function zaloReference(userId: string, oaId: string): ConversationReference {
  return {
    channelId: ZALO_CHANNEL_ID,
    serviceUrl: ZALO_SERVICE_URL,
    locale: 'vi-VN',
    conversation: { id: userId, isGroup: false, conversationType: 'personal', name: 'zalo' },
    user: { id: userId, name: '', role: 'user' },
    bot: { id: oaId, name: 'OA', role: 'bot' },
  } as ConversationReference;
}

export type EventActivity =
  | { kind: 'activity'; userId: string; oaId: string; activity: Partial<Activity> }
  | { kind: 'ignore'; reason: string };

/**
 * A Zalo OA event → the Bot Framework activity for the same bot:
 * - `user_send_text` → a message (a reply "1", "2"… is first mapped to the option offered, which
 *   `pickOption` looks up beforehand);
 * - `follow` → a conversationUpdate adding the user (the bot sends its welcome);
 * - images, stickers, files, locations… → a message with no text and the attachments, which the
 *   bot answers with its polite "text only" notice;
 * - echoes (`oa_*`), receipts, `unfollow` and everything else → nothing.
 */
export function activityFromEvent(
  e: OaEvent,
  o: { fallbackOaId: string; pickOption?: (userId: string, text: string) => string | undefined },
): EventActivity {
  const name = e.event_name;
  if (name.startsWith('oa_')) return { kind: 'ignore', reason: 'echo of an OA message' };
  const { userId, oaId = o.fallbackOaId } = eventParties(e);
  if (!userId) return { kind: 'ignore', reason: 'no user id' };
  const reference = zaloReference(userId, oaId);
  const timestamp = Number(e.timestamp) > 0 ? new Date(Number(e.timestamp)) : new Date();
  const base = {
    id: e.message?.msg_id ?? `${name}:${e.timestamp ?? Date.now()}`,
    timestamp,
    locale: 'vi-VN',
  };

  if (name === 'follow') {
    const activity = TurnContext.applyConversationReference(
      {
        ...base,
        type: ActivityTypes.ConversationUpdate,
        membersAdded: [reference.user!],
        channelData: { event_name: name, source: e.source },
      },
      reference,
      true,
    );
    return { kind: 'activity', userId, oaId, activity };
  }
  if (name === 'user_send_text') {
    const text = typeof e.message?.text === 'string' ? e.message.text : '';
    const picked = o.pickOption?.(userId, text);
    const activity = TurnContext.applyConversationReference(
      {
        ...base,
        type: ActivityTypes.Message,
        text: picked ?? text,
        channelData: { event_name: name, ...(picked ? { pickedOption: text.trim() } : {}) },
      },
      reference,
      true,
    );
    return { kind: 'activity', userId, oaId, activity };
  }
  if (name.startsWith('user_send_')) {
    // Images, GIFs, stickers, audio, video, files, links, locations, business cards: not read.
    const attachments = (e.message?.attachments ?? []).map((a) => ({
      contentType: `application/vnd.zalo.${a.type ?? 'unknown'}`,
      contentUrl: a.payload?.url,
      name: a.payload?.name,
    }));
    const activity = TurnContext.applyConversationReference(
      {
        ...base,
        type: ActivityTypes.Message,
        text: '',
        attachments: attachments.length
          ? attachments
          : [{ contentType: `application/vnd.zalo.${name.slice(10)}` }],
        channelData: { event_name: name },
      },
      reference,
      true,
    );
    return { kind: 'activity', userId, oaId, activity };
  }
  return { kind: 'ignore', reason: `event ${name} is not handled` };
}

/**
 * The Bot Framework adapter of the Zalo channel. Incoming events are run through the middleware
 * and the bot; what the bot sends is converted to Zalo text messages and queued in the outbox
 * (the turn never waits for Zalo). `sendActivity` resolves with the outbox id ("zalo:42"): pass it
 * to `Outbox.statusOf` to learn whether the message was delivered.
 */
export class ZaloAdapter extends BotAdapter {
  constructor(
    private readonly outbox: Outbox,
    private readonly conversations: ZaloConversations,
    private readonly options: { buttonTemplates: boolean },
  ) {
    super();
  }

  /** Runs one incoming activity through the middleware and `logic` (the bot). */
  async processActivity(
    activity: Partial<Activity>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void> {
    await this.runMiddleware(new TurnContext(this, activity), logic);
  }

  override async sendActivities(
    context: TurnContext,
    activities: Partial<Activity>[],
  ): Promise<ResourceResponse[]> {
    const reference = TurnContext.getConversationReference(context.activity);
    const responses: ResourceResponse[] = [];
    for (const a of activities) {
      const userId = a.conversation?.id ?? reference.conversation?.id;
      if (a.type !== ActivityTypes.Message || !userId) {
        responses.push({ id: '' }); // typing, traces, delays: nothing to send on Zalo
        continue;
      }
      const { parts, options } = toZaloParts(a, { buttonTemplates: this.options.buttonTemplates });
      if (!parts.length) {
        responses.push({ id: '' });
        continue;
      }
      const id = await this.outbox.enqueue(userId, parts, reference);
      if (options.length) await this.conversations.setOptions(userId, options);
      responses.push({ id });
    }
    return responses;
  }

  override async updateActivity(): Promise<void> {
    throw new Error('Zalo messages cannot be edited');
  }

  override async deleteActivity(): Promise<void> {
    throw new Error('Zalo messages cannot be deleted');
  }

  override async continueConversation(
    reference: Partial<ConversationReference>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void> {
    if (reference.channelId && reference.channelId !== ZALO_CHANNEL_ID) {
      throw new Error(`not a Zalo conversation (${reference.channelId})`);
    }
    if (!reference.conversation?.id) throw new Error('the conversation reference has no conversation id');
    const activity = TurnContext.applyConversationReference(
      { type: ActivityTypes.Event, name: 'continueConversation', id: `continue:${Date.now()}` },
      { ...reference, channelId: ZALO_CHANNEL_ID, serviceUrl: reference.serviceUrl ?? ZALO_SERVICE_URL },
      true,
    );
    await this.runMiddleware(new TurnContext(this, activity), logic);
  }
}
