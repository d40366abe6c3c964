import type { ActivityHandler, ConversationReference, ConversationState, TurnContext } from 'botbuilder';
import type restify from 'restify';
import { handleTurnErrors } from '../../bot/adapter.js';
import type { Config } from '../../config.js';
import { RateLimiter } from '../../http/rateLimit.js';
import type { Logger } from '../../logger.js';
import type { Db } from '../../storage/database.js';
import { SettingsStore } from '../../storage/settings.js';
import type { Channel } from '../channel.js';
import { ConversationStore } from './conversationStore.js';
import { DIRECTLINE_SERVICE_URL, DirectLineAdapter } from './directLineAdapter.js';
import { registerDirectLineRoutes } from './directLineRoutes.js';
import { StreamHub } from './streams.js';
import { TokenService } from './tokens.js';
import { TurnQueue } from '../turnQueue.js';

export interface DirectLineChannelOptions {
  config: Pick<Config, 'directLine' | 'webchat'>;
  db: Db;
  bot: Pick<ActivityHandler, 'run'>;
  conversationState: ConversationState;
  logger: Logger;
  /** Conversations a single IP may start per minute. */
  tokensPerMinutePerIp?: number;
}

export interface DirectLineChannel extends Channel {
  adapter: DirectLineAdapter;
  store: ConversationStore;
  /** Resolves when every queued turn has run (tests, shutdown). */
  idle(): Promise<void>;
}

/**
 * The web chat channel: our own Direct Line 3.0 endpoint, with the bot connected in-process
 * through DirectLineAdapter (the reference's option A), so no connector route is exposed.
 */
export function createDirectLineChannel(o: DirectLineChannelOptions): DirectLineChannel {
  const store = new ConversationStore(o.db);
  const streams = new StreamHub();
  const adapter = new DirectLineAdapter(store, streams);
  handleTurnErrors(adapter, o.logger, o.conversationState);
  const secret = o.config.directLine.tokenSecret ?? new SettingsStore(o.db).secret('directline.tokenSecret');
  const tokens = new TokenService(secret, o.config.directLine.tokenTtlSeconds);
  const queue = new TurnQueue();
  let routes: { closeStreams(): void } | undefined;

  const dispatch = (activity: Parameters<DirectLineAdapter['processActivityDirect']>[1]) => {
    const conversationId = activity.conversation!.id;
    void queue.enqueue(conversationId, async () => {
      try {
        await adapter.processActivityDirect('', activity, (context) => o.bot.run(context));
      } catch (err) {
        o.logger.error({ err, conversationId }, 'direct line turn failed');
      }
    });
  };

  return {
    channelIds: ['directline'],
    adapter,
    store,
    register(server: restify.Server) {
      routes = registerDirectLineRoutes(server, {
        store,
        tokens,
        streams,
        tokenLimiter: new RateLimiter(o.tokensPerMinutePerIp ?? 20, 60_000),
        allowedOrigins: o.config.webchat.allowedOrigins,
        publicUrl: o.config.webchat.publicUrl,
        logger: o.logger,
        dispatch,
      });
    },
    async continueConversation(
      reference: Partial<ConversationReference>,
      logic: (context: TurnContext) => Promise<void>,
    ) {
      const conversationId = reference.conversation?.id;
      if (!conversationId || !store.get(conversationId)) throw new Error('unknown web chat conversation');
      await queue.enqueue(conversationId, () =>
        adapter.continueConversationAsync('', { ...reference, serviceUrl: DIRECTLINE_SERVICE_URL }, logic),
      );
    },
    idle: () => queue.idle(),
    async stop() {
      await Promise.race([queue.idle(), new Promise((r) => setTimeout(r, 5000))]);
      routes?.closeStreams();
    },
  };
}
