import type { ActivityHandler, ConversationReference, ConversationState, TurnContext } from 'botbuilder';
import type restify from 'restify';
import { handleTurnErrors } from '../../bot/adapter.js';
import type { Config } from '../../config.js';
import { clientIp } from '../../http/rateLimits.js';
import { perMinute, type RateLimitStore } from '../../http/rateLimit.js';
import type { Logger } from '../../logger.js';
import type { SqlDb } from '../../storage/sql/index.js';
import { SettingsStore } from '../../storage/settings.js';
import type { Channel } from '../channel.js';
import { ConversationStore } from './conversationStore.js';
import { DIRECTLINE_SERVICE_URL, DirectLineAdapter } from './directLineAdapter.js';
import { registerDirectLineRoutes } from './directLineRoutes.js';
import { StreamHub } from './streams.js';
import { TokenService } from './tokens.js';
import { withTurnLease } from './turnLease.js';
import { TurnQueue } from '../turnQueue.js';

export interface DirectLineChannelOptions {
  config: Pick<Config, 'directLine' | 'webchat'>;
  /** The store (SQLite or the PostgreSQL shared by every replica). */
  sql: SqlDb;
  bot: Pick<ActivityHandler, 'run'>;
  conversationState: ConversationState;
  logger: Logger;
  /** Conversations a single IP may start per minute (default 20), when `limits.tokens` is not given. */
  tokensPerMinutePerIp?: number;
  /** Rate limits: conversations started per client IP; activity posts per token user (none by default). */
  limits?: { tokens?: RateLimitStore; user?: RateLimitStore };
  /** The client address of a request (default: the socket's peer). */
  clientIp?: (req: restify.Request) => string;
}

export interface DirectLineChannel extends Channel {
  adapter: DirectLineAdapter;
  store: ConversationStore;
  streams: StreamHub;
  /**
   * Applies the migrations, loads (or on first start generates) the token secret and subscribes to
   * the notifications of new activities: before the server accepts requests.
   */
  init(): Promise<void>;
  /** Resolves when every queued turn has run (tests, shutdown). */
  idle(): Promise<void>;
}

/**
 * The web chat channel: our own Direct Line 3.0 endpoint, with the bot connected in-process
 * through DirectLineAdapter (the reference's option A), so no connector route is exposed.
 */
export function createDirectLineChannel(o: DirectLineChannelOptions): DirectLineChannel {
  const store = new ConversationStore(o.sql);
  const streams = new StreamHub(store, o.sql, o.logger);
  const adapter = new DirectLineAdapter(store, streams);
  handleTurnErrors(adapter, o.logger, o.conversationState);
  let tokenService: TokenService | undefined;
  const tokens = () => {
    if (!tokenService) throw new Error('the Direct Line channel is not initialized (init())');
    return tokenService;
  };
  let initialized: Promise<void> | undefined;
  // Turns of one conversation run one at a time: in this replica (the queue) and across replicas
  // (the conversation's lease in the store, see turnLease.ts).
  const queue = new TurnQueue();

  const dispatch = (activity: Parameters<DirectLineAdapter['processActivityDirect']>[1]) => {
    const conversationId = activity.conversation!.id;
    void queue.enqueue(conversationId, async () => {
      try {
        await withTurnLease(store, conversationId, o.logger, () =>
          adapter.processActivityDirect('', activity, (context) => o.bot.run(context)),
        );
      } catch (err) {
        o.logger.error({ err, conversationId }, 'direct line turn failed');
      }
    });
  };

  return {
    channelIds: ['directline'],
    adapter,
    store,
    streams,
    init() {
      initialized ??= (async () => {
        await store.migrate();
        const settings = new SettingsStore(o.sql);
        await settings.migrate();
        // Generated once and shared by every replica (the first one to store it wins).
        const secret = o.config.directLine.tokenSecret ?? (await settings.secret('directline.tokenSecret'));
        tokenService = new TokenService(secret, o.config.directLine.tokenTtlSeconds);
        await streams.start();
      })();
      return initialized;
    },
    register(server: restify.Server) {
      registerDirectLineRoutes(server, {
        store,
        tokens,
        streams,
        tokenLimiter: o.limits?.tokens ?? perMinute(o.tokensPerMinutePerIp ?? 20),
        userLimiter: o.limits?.user,
        clientIp: o.clientIp ?? ((req) => clientIp(req)),
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
      if (!conversationId || !(await store.get(conversationId))) {
        throw new Error('unknown web chat conversation');
      }
      await queue.enqueue(conversationId, () =>
        withTurnLease(store, conversationId, o.logger, () =>
          adapter.continueConversationAsync('', { ...reference, serviceUrl: DIRECTLINE_SERVICE_URL }, logic),
        ),
      );
    },
    idle: () => queue.idle(),
    async stop() {
      await Promise.race([queue.idle(), new Promise((r) => setTimeout(r, 5000))]);
      await streams.stop(); // unsubscribes and closes this replica's sockets
    },
  };
}
