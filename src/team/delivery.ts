import type { CloudAdapter, ConversationReference, TurnContext } from 'botbuilder';
import type { Channel } from '../channels/channel.js';
import type { OutboxStatus, UndeliverableMessage } from '../channels/zalo/index.js';
import type { Logger } from '../logger.js';
import { redactPii } from '../privacy/redact.js';
import type { DeliveryStatus } from './teamStore.js';

export const TEAM_PREFIX = 'Tổ công nghệ số trả lời: ';

/** A channel that can tell, later, that a message did not reach the citizen (Zalo). */
interface TrackingChannel extends Channel {
  statusOf(id: string): OutboxStatus | undefined | Promise<OutboxStatus | undefined>;
  onUndeliverable(listener: (message: UndeliverableMessage) => void): () => void;
}

function isTracking(c: Channel): c is TrackingChannel {
  const t = c as Partial<TrackingChannel>;
  return typeof t.statusOf === 'function' && typeof t.onUndeliverable === 'function';
}

export interface DeliveryResult {
  status: DeliveryStatus;
  /** The channel's id of the sent message (Zalo outbox id), to match a later undeliverable report. */
  ref?: string;
  error?: string;
}

/**
 * Sends team messages proactively into a citizen's conversation: through the channel that serves the
 * reference's channelId (web chat, Zalo), or through the Bot Framework CloudAdapter for conversations
 * that came in on /api/messages (Emulator, Azure Bot Service).
 */
export class Delivery {
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly o: {
      channels: readonly Channel[];
      adapter?: CloudAdapter;
      logger: Logger;
      /** Called when a channel reports a sent message as undeliverable (by its `ref`). */
      onUndeliverable?: (ref: string, reason: string) => void;
    },
  ) {
    for (const c of o.channels) {
      if (!isTracking(c)) continue;
      this.unsubscribe.push(c.onUndeliverable((m) => o.onUndeliverable?.(m.id, m.reason)));
    }
  }

  /**
   * Sends `text` as it is (callers add the "Tổ công nghệ số trả lời: " prefix), through the channel's
   * own API and awaited: web chat appends it to the conversation in the Direct Line store, which
   * reaches the citizen's stream or polling on whichever replica serves them.
   */
  async send(reference: Partial<ConversationReference>, text: string): Promise<DeliveryResult> {
    const channelId = reference.channelId ?? '';
    const channel = this.o.channels.find((c) => c.channelIds.includes(channelId));
    let sentId: string | undefined;
    const logic = async (context: TurnContext) => {
      const r = await context.sendActivity({ type: 'message', text, locale: 'vi-VN' });
      sentId = r?.id;
    };
    const log = this.o.logger.child({ channel: channelId, conversationId: reference.conversation?.id });
    try {
      if (channel) {
        await channel.continueConversation(reference, logic);
      } else if (this.o.adapter && reference.serviceUrl) {
        await this.o.adapter.continueConversationAsync('', reference, logic);
      } else {
        return { status: 'undeliverable', error: `no channel serves "${channelId}"` };
      }
    } catch (err) {
      log.warn({ err, text: redactPii(text).text }, 'team message not delivered');
      return { status: 'undeliverable', error: err instanceof Error ? err.message : String(err) };
    }
    log.info({ text: redactPii(text).text }, 'team message sent');
    if (channel && isTracking(channel) && sentId) {
      const s = (await channel.statusOf(sentId))?.status;
      if (s === 'undeliverable' || s === 'failed') return { status: 'undeliverable', ref: sentId };
      return { status: s === 'sent' ? 'sent' : 'pending', ref: sentId };
    }
    return { status: 'sent', ref: sentId };
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }
}
