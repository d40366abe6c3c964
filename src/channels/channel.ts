import type { ConversationReference, TurnContext } from 'botbuilder';
import type restify from 'restify';
import type { ReadinessCheck } from '../http/healthRoutes.js';

/**
 * A citizen-facing channel beside Bot Framework's /api/messages (web chat's Direct Line, Zalo).
 * Each turns its own traffic into Bot Framework activities for the same bot, and can send into an
 * existing conversation later (a community team's answer).
 */
export interface Channel {
  /** Activity `channelId`s this channel serves, e.g. ["directline"] or ["zalo"]. */
  readonly channelIds: readonly string[];
  register(server: restify.Server): void;
  /** Runs `logic` in an existing conversation, to send a proactive message. */
  continueConversation(
    reference: Partial<ConversationReference>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void>;
  readiness?: ReadinessCheck;
  /** Prepares the channel's store (migrations, secrets, subscriptions) before the server listens. */
  init?(): Promise<void>;
  start?(): Promise<void>;
  stop(): Promise<void>;
}
