import {
  ActivityTypes,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type Activity,
  type ResourceResponse,
  type TurnContext,
} from 'botbuilder';
import type { ConversationStore } from './conversationStore.js';
import type { StreamHub } from './streams.js';

/** Never contacted: the bot's replies are delivered in-process by this adapter. */
export const DIRECTLINE_SERVICE_URL = 'https://directline.invalid/';

/**
 * The bot side of our Direct Line: a CloudAdapter whose outgoing activities go into the
 * conversation store and out over the WebSocket streams, in-process (no HTTP, no unauthenticated
 * connector routes). Proactive `continueConversationAsync` works the same way.
 */
export class DirectLineAdapter extends CloudAdapter {
  constructor(
    private readonly store: ConversationStore,
    private readonly streams: StreamHub,
  ) {
    super(new ConfigurationBotFrameworkAuthentication({}));
  }

  override async sendActivities(
    context: TurnContext,
    activities: Partial<Activity>[],
  ): Promise<ResourceResponse[]> {
    const responses: ResourceResponse[] = [];
    for (const activity of activities) {
      if (
        activity.type === 'delay' ||
        activity.type === ActivityTypes.InvokeResponse ||
        activity.type === ActivityTypes.Trace
      ) {
        responses.push(...(await super.sendActivities(context, [activity])));
        continue;
      }
      responses.push({ id: await this.deliver(activity) });
    }
    return responses;
  }

  override async updateActivity(
    _context: TurnContext,
    activity: Partial<Activity>,
  ): Promise<ResourceResponse | void> {
    return { id: await this.deliver(activity) };
  }

  override async deleteActivity(): Promise<void> {
    // Web Chat has no way to show a deletion; nothing to do.
  }

  /**
   * Stores one activity from the bot and announces it to every replica's streams (the citizen's
   * socket may be on another replica); returns its server id.
   */
  async deliver(activity: Partial<Activity>): Promise<string> {
    const conversationId = activity.conversation?.id;
    if (!conversationId) throw new Error('activity without a conversation');
    const out: Partial<Activity> = {
      ...activity,
      channelId: 'directline',
      from: { ...(activity.from ?? { id: 'bot', name: 'Trợ lý' }), role: 'bot' } as Activity['from'],
      serviceUrl: undefined,
    };
    // A replyToId Web Chat has not seen (e.g. the random id of a proactive turn) holds the message 5 s.
    if (out.replyToId && !(await this.store.hasActivity(conversationId, out.replyToId))) delete out.replyToId;
    if (out.type === ActivityTypes.Typing) {
      // Typing is shown live but not kept in the replayable history.
      await this.streams.publishTyping(conversationId, {
        ...out,
        id: `typing-${Date.now()}`,
        timestamp: new Date().toISOString(),
      });
      return '';
    }
    const stored = await this.store.append(conversationId, out);
    await this.streams.stored(conversationId);
    return stored.id;
  }
}
