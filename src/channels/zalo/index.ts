import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { ActivityHandler, ConversationReference, ConversationState, TurnContext } from 'botbuilder';
import type restify from 'restify';
import { handleTurnErrors, TURN_ERROR_TEXT } from '../../bot/adapter.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { SqlDb } from '../../storage/sql/index.js';
import type { Channel } from '../channel.js';
import { TurnQueue } from '../turnQueue.js';
import { ZaloConversations } from './conversations.js';
import { InboundLog } from './dedup.js';
import { MAX_TEMPLATE_BUTTONS } from './messages.js';
import {
  Outbox,
  type DeliveryOutcome,
  type OutboxItem,
  type OutboxStatus,
  type UndeliverableMessage,
} from './outbox.js';
import { TokenManager } from './tokenStore.js';
import { eventParties, isOaEvent, type OaEvent } from './types.js';
import { registerZaloWebhook } from './webhookRoute.js';
import { activityFromEvent, ZaloAdapter, ZALO_CHANNEL_ID, zaloReference } from './zaloAdapter.js';
import { ZaloApi } from './zaloApi.js';

export type { OutboxStatus, UndeliverableMessage } from './outbox.js';

export interface ZaloChannelOptions {
  config: NonNullable<Config['zalo']>;
  /**
   * The store: tokens, outbox, received events and conversations (SQLite, or PostgreSQL shared by
   * several replicas). Migrations are applied by `start()`.
   */
  sql: SqlDb;
  bot: Pick<ActivityHandler, 'run'>;
  logger: Logger;
  /** When given, a failed turn also clears the conversation's dialog state. */
  conversationState?: ConversationState;
  /** Called when a message to a Zalo user is undeliverable (-230/-232…) or given up. */
  onUndeliverable?: (message: UndeliverableMessage) => void;
  /**
   * Sends suggested actions also as Zalo `oa.query.show` buttons (template attachment) beside the
   * numbered list. Off by default: the official SDK says text-message buttons are not supported on
   * v3 /message/cs (reference §4.2, §9.4). When Zalo refuses the template, the text alone is sent.
   */
  buttonTemplates?: boolean;
  /** First retry delay of a failed send (doubles each time). Default 1 s. */
  baseBackoffMs?: number;
  /** Longest retry delay. Default 5 min. */
  maxBackoffMs?: number;
  /** A reply still not sent this long after it was queued is marked failed. Default 24 h. */
  giveUpAfterMs?: number;
  /** Users sent to in parallel. Default 8. */
  sendConcurrency?: number;
  /** Time limit of one Zalo API call. Default 10 s. */
  requestTimeoutMs?: number;
  /** Refresh the access token when less than this is left. Default 1 h. */
  refreshMarginMs?: number;
  /** After a failed refresh, wait this long before the next try. Default 60 s. */
  refreshRetryAfterMs?: number;
  /** How often the token expiry is checked while idle. Default 10 min. */
  tokenCheckIntervalMs?: number;
  /** How long received msg_ids are remembered. Default 7 days. */
  dedupRetentionMs?: number;
  /** How long settled outbox rows (statuses) are kept. Default 30 days. */
  outboxRetentionMs?: number;
  /** How long `stop()` waits for turns and sends in flight. Default 3 s. */
  stopWaitMs?: number;
  /** This replica's id in claims. Default: host name, process id and a random suffix. */
  instanceId?: string;
  /**
   * How long an outbox row claimed by a replica stays its own (then another replica may send it).
   * Default: the longer of 2 min and 12 × `requestTimeoutMs`.
   */
  sendLeaseMs?: number;
  /** How long a received event claimed by a replica stays its own before another may recover it. Default 10 min. */
  inboundLeaseMs?: number;
  /** How often the outbox is read when nothing wakes the worker (other replicas' rows). Default 5 s. */
  pollIntervalMs?: number;
  /** How often events left unprocessed (by a replica that died) are looked for. Default 1 min. */
  recoverIntervalMs?: number;
}

/** The Zalo channel, with what the community team's inbox needs to know about deliveries. */
export interface ZaloChannel extends Channel {
  readonly adapter: ZaloAdapter;
  readonly outbox: Outbox;
  readonly tokens: TokenManager;
  readonly conversations: ZaloConversations;
  /**
   * Applies the migrations, loads the tokens, starts the outbox worker and timers, and processes
   * events left unprocessed by a stop (or by a replica that died).
   */
  start(): Promise<void>;
  /**
   * Claims and processes the received events no replica is processing (accepted, never processed:
   * a stop or a crash came first). Resolves with how many were dispatched. Run by `start()` and
   * then every `recoverIntervalMs`.
   */
  recover(): Promise<number>;
  /** Delivery status of a message by the id `sendActivity` resolved with (e.g. "zalo:42"). */
  statusOf(id: string): Promise<OutboxStatus | undefined>;
  /** Registers a listener for undeliverable or failed messages; returns an unsubscribe function. */
  onUndeliverable(listener: (message: UndeliverableMessage) => void): () => void;
  /** Resolves when every received event has been processed (its bot turn has run). */
  idle(): Promise<void>;
}

const HOUR = 3_600_000;

/** The Zalo Official Account channel (webhook POST /api/zalo, sending, tokens, outbox). */
export function createZaloChannel(options: ZaloChannelOptions): ZaloChannel {
  const { config, sql, bot, logger: rootLogger } = options;
  const logger = rootLogger.child({ channel: ZALO_CHANNEL_ID });
  const stopWaitMs = options.stopWaitMs ?? 3000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const instanceId =
    options.instanceId ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  const api = new ZaloApi({
    apiBase: config.apiBase,
    oauthBase: config.oauthBase,
    appId: config.appId,
    appSecret: config.appSecret,
    requestTimeoutMs,
  });
  const tokens = new TokenManager({
    sql,
    api,
    logger,
    initial: { accessToken: config.accessToken, refreshToken: config.refreshToken },
    refreshMarginMs: options.refreshMarginMs ?? HOUR,
    retryAfterFailureMs: options.refreshRetryAfterMs ?? 60_000,
  });
  const inbound = new InboundLog(sql, instanceId, options.inboundLeaseMs ?? 10 * 60_000);
  const conversations = new ZaloConversations(sql);

  const deliver = async (item: OutboxItem): Promise<DeliveryOutcome> => {
    const body = {
      recipient: { user_id: item.userId },
      message: {
        text: item.text,
        ...(item.buttons?.length
          ? {
              attachment: {
                type: 'template',
                payload: {
                  buttons: item.buttons.slice(0, MAX_TEMPLATE_BUTTONS).map((b) => ({
                    title: b.slice(0, 100),
                    type: 'oa.query.show',
                    payload: b,
                  })),
                },
              },
            }
          : {}),
      },
    };
    const token = await tokens.accessToken();
    if (!token) return { result: 'retry', error: 'no usable access token' };
    let r = await api.sendCs(token, body);
    if (!r.ok && r.kind === 'token') {
      const next = await tokens.rejected(token);
      if (!next) return { result: 'retry', code: r.code, error: 'access token rejected; refresh failed' };
      r = await api.sendCs(next, body);
    }
    if (r.ok) return { result: 'sent', messageId: r.messageId };
    const error = `${r.message || 'error'} (${r.code})`;
    switch (r.kind) {
      case 'token':
      case 'retry':
        return { result: 'retry', code: r.code, error };
      case 'window':
        return { result: 'undeliverable', code: r.code, error };
      case 'payload':
        return item.buttons?.length
          ? { result: 'without_buttons', code: r.code, error }
          : { result: 'failed', code: r.code, error };
      default:
        return { result: 'failed', code: r.code, error };
    }
  };

  const outbox = new Outbox({
    sql,
    instanceId,
    leaseMs: options.sendLeaseMs ?? Math.max(2 * 60_000, 12 * requestTimeoutMs),
    pollIntervalMs: options.pollIntervalMs ?? 5000,
    logger,
    deliver,
    baseBackoffMs: options.baseBackoffMs ?? 1000,
    maxBackoffMs: options.maxBackoffMs ?? 5 * 60_000,
    giveUpAfterMs: options.giveUpAfterMs ?? 24 * HOUR,
    concurrency: options.sendConcurrency ?? 8,
  });
  if (options.onUndeliverable) outbox.onUndeliverable(options.onUndeliverable);

  const adapter = new ZaloAdapter(outbox, conversations, {
    buttonTemplates: options.buttonTemplates ?? false,
  });
  if (options.conversationState) {
    handleTurnErrors(adapter, logger, options.conversationState);
  } else {
    adapter.onTurnError = async (context: TurnContext, error: Error) => {
      const a = context.activity;
      logger.error({ err: error, conversationId: a.conversation?.id, activityType: a.type }, 'turn failed');
      if (a.type === 'message') {
        await context
          .sendActivity(TURN_ERROR_TEXT)
          .catch((err: unknown) => logger.error({ err }, 'could not tell the citizen about the failed turn'));
      }
    };
  }

  // One turn at a time per user (in order), users in parallel.
  const queue = new TurnQueue();
  const handling = new Set<string>();

  const handleEvent = async (key: string, event: OaEvent): Promise<void> => {
    const name = event.event_name;
    const { userId, oaId = config.appId } = eventParties(event);
    try {
      if (!userId) {
        logger.debug({ event: name }, 'zalo event without a user ignored');
        return;
      }
      const reference = zaloReference(userId, oaId);
      if (name === 'unfollow') {
        await conversations.touch(userId, reference, { followed: false });
        await conversations.setOptions(userId, []);
        const cancelled = await outbox.cancelPending(userId, 'the user unfollowed the OA');
        logger.info({ cancelled }, 'zalo user unfollowed the OA');
        return;
      }
      // "1", "2"…: the option offered last (read before the turn; the mapping itself is synchronous).
      const picked =
        name === 'user_send_text' && typeof event.message?.text === 'string'
          ? await conversations.pick(userId, event.message.text)
          : undefined;
      const r = activityFromEvent(event, {
        fallbackOaId: config.appId,
        pickOption: () => picked,
      });
      if (r.kind === 'ignore') {
        logger.debug({ event: name, reason: r.reason }, 'zalo event ignored');
        return;
      }
      await conversations.touch(userId, reference, {
        followed: name === 'follow' ? true : undefined,
        inboundAt: Date.now(),
      });
      await adapter.processActivity(r.activity, (context) => bot.run(context));
    } catch (err) {
      logger.error({ err, event: name }, 'zalo event processing failed');
    } finally {
      try {
        await inbound.done(key);
      } catch (err) {
        logger.error({ err }, 'zalo: cannot mark the event processed');
      }
    }
  };

  const dispatch = (key: string, event: OaEvent) => {
    if (handling.has(key)) return;
    handling.add(key);
    const { userId = '' } = eventParties(event);
    void queue.enqueue(userId, () => handleEvent(key, event)).finally(() => handling.delete(key));
  };

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => void) => {
    const t = setInterval(fn, ms);
    t.unref();
    timers.push(t);
  };

  /** Migrations and tokens, once (retried after a failure); awaited before anything uses the store. */
  let readying: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    readying ??= (async () => {
      await inbound.migrate();
      await conversations.migrate();
      await outbox.migrate();
      await tokens.load();
      if (sql.dialect === 'sqlite') {
        // One process serves a SQLite store: claims left are a previous run's (a crash).
        await outbox.releaseAllClaims();
        await inbound.release({ everyone: true });
      }
    })().catch((err: unknown) => {
      readying = undefined;
      throw err;
    });
    return readying;
  };

  const recover = async (): Promise<number> => {
    await ready();
    let dispatched = 0;
    // Events accepted before a stop or a crash but not processed: process them now (a day at most).
    for (const p of await inbound.claimPending()) {
      if (Date.now() - p.receivedAt > 24 * HOUR || !isOaEvent(p.payload)) {
        await inbound.done(p.key);
      } else {
        dispatch(p.key, p.payload);
        dispatched += 1;
      }
    }
    if (dispatched) logger.info({ events: dispatched }, 'zalo: processing events left unprocessed');
    return dispatched;
  };

  return {
    channelIds: [ZALO_CHANNEL_ID],
    adapter,
    outbox,
    tokens,
    conversations,
    readiness: { name: 'zalo', check: () => tokens.status() },

    register(server: restify.Server) {
      registerZaloWebhook(server, {
        appId: config.appId,
        oaSecretKey: config.oaSecretKey,
        logger,
        inbound,
        ready,
        maxBodyBytes: 256 * 1024,
        onEvent: dispatch,
      });
    },

    async start() {
      await ready();
      await recover();
      await outbox.start();
      const cleanup = async () => {
        try {
          await inbound.cleanup(options.dedupRetentionMs ?? 7 * 24 * HOUR);
          await outbox.cleanup(options.outboxRetentionMs ?? 30 * 24 * HOUR);
        } catch (err) {
          logger.warn({ err }, 'zalo: cleanup failed');
        }
      };
      await cleanup();
      every(HOUR, () => void cleanup());
      every(options.recoverIntervalMs ?? 60_000, () => {
        void recover().catch((err: unknown) => logger.warn({ err }, 'zalo: recovering events failed'));
      });
      every(options.tokenCheckIntervalMs ?? 10 * 60_000, () => {
        const expiresAt = tokens.expiresAt();
        if (expiresAt !== undefined && expiresAt - Date.now() < (options.refreshMarginMs ?? HOUR)) {
          void tokens
            .accessToken()
            .catch((err: unknown) => logger.error({ err }, 'zalo: token check failed'));
        }
      });
      const pending = (await outbox.counts()).pending;
      logger.info({ webhook: '/api/zalo', pending, instanceId }, 'Zalo channel is on');
    },

    recover,

    async stop() {
      for (const t of timers.splice(0)) clearInterval(t);
      const idle = await Promise.race([queue.idle().then(() => true), sleep(stopWaitMs).then(() => false)]);
      await outbox.stop(stopWaitMs);
      if (idle && readying) {
        // Nothing of ours is being processed: whatever this replica accepted and did not process
        // (nothing, normally) is recovered at once by the next start or another replica.
        await inbound
          .release()
          .catch((err: unknown) => logger.warn({ err }, 'zalo: cannot release received events'));
      }
    },

    async continueConversation(
      reference: Partial<ConversationReference>,
      logic: (context: TurnContext) => Promise<void>,
    ) {
      const userId = reference.conversation?.id;
      if (!userId) throw new Error('the conversation reference has no conversation id');
      await ready();
      // Queued behind the user's own turn in progress, so messages keep their order.
      await queue.enqueue(userId, () => adapter.continueConversation(reference, logic));
    },

    statusOf: (id) => outbox.statusOf(id),
    onUndeliverable: (listener) => outbox.onUndeliverable(listener),
    idle: () => queue.idle(),
  };
}

/** With Zalo unset, POST /api/zalo answers 404. */
export function registerZaloDisabled(server: restify.Server): void {
  server.post('/api/zalo', async (_req, res) => {
    res.json(404, {
      error: { code: 'NotFound', message: 'The Zalo channel is not configured on this server' },
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
