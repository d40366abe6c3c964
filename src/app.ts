import type { AddressInfo } from 'node:net';
import type { TurnContext } from 'botbuilder';
import type restify from 'restify';
import { createAssistant, type Assistant, type AssistantOverrides } from './assistant.js';
import { createAdapter, type MessagesAdapter } from './bot/adapter.js';
import { TurnTracker } from './bot/turnTracker.js';
import { registerMessagesRoute } from './channels/botframework/messagesRoute.js';
import type { Channel } from './channels/channel.js';
import { createDirectLineChannel, type DirectLineChannel } from './channels/directline/index.js';
import { createZaloChannel, registerZaloDisabled } from './channels/zalo/index.js';
import type { Config } from './config.js';
import { registerHealthRoutes, type ReadinessCheck } from './http/healthRoutes.js';
import { createHttpServer } from './http/server.js';
import { createApiRateLimits, registerApiRateLimits } from './http/rateLimits.js';
import { registerTeamDashboardRoutes } from './web/teamRoutes.js';
import { registerWebChatRoutes } from './web/webchatRoutes.js';
import { createTeamInbox, type TeamInbox } from './team/index.js';
import {
  createKnowledgeConsole,
  KB_UPLOAD_PATH,
  ReindexJob,
  uploadBodyLimit,
  type KnowledgeConsole,
} from './knowledgeConsole/index.js';
import type { Logger } from './logger.js';

export interface App {
  server: restify.Server;
  adapter: MessagesAdapter;
  assistant: Assistant;
  /** Channels beside /api/messages, by the activity channelIds they serve. */
  channels: Channel[];
  directLine: DirectLineChannel;
  /** The community team's inbox (/api/team). */
  team: TeamInbox;
  /** The ICT staff's knowledge console (/api/team/kb, admins). */
  knowledgeConsole: KnowledgeConsole;
  /**
   * Listens, then loads (or builds) the knowledge index. Resolves with the bound port; when the
   * index cannot be loaded nor built, the service stays up, not ready, and retries with backoff.
   */
  start(): Promise<number>;
  /** Only listens (liveness up, readiness 503 until `loadKnowledge`). */
  listen(): Promise<number>;
  /** Loads (or on first start builds) the knowledge index and watches for new versions. */
  loadKnowledge(): Promise<void>;
  /** Stops accepting, lets in-flight turns finish within the configured bound, closes the store. */
  stop(): Promise<void>;
}

/**
 * Builds the HTTP service around the assistant: the composition root. `overrides` are for
 * benchmarks and tests only (see `AssistantOverrides`).
 */
export function createApp(config: Config, logger: Logger, overrides?: AssistantOverrides): App {
  const assistant = createAssistant(config, logger, overrides);
  const { knowledge, bot } = assistant;
  const turns = new TurnTracker();
  const adapter = createAdapter(config, logger, assistant.conversationState);

  const server = createHttpServer({
    logger,
    maxBodyBytes: 256 * 1024,
    // Knowledge console uploads carry the file base64-encoded in JSON; only that route reads more.
    bodyLimits: [
      { method: 'POST', path: KB_UPLOAD_PATH, maxBytes: uploadBodyLimit(config.kb.uploadMaxBytes) },
    ],
  });
  /** Why the last load of the knowledge index failed while a retry is pending (for /readyz). */
  let knowledgeError: string | undefined;
  let knowledgeRetry: NodeJS.Timeout | undefined;
  const readiness: ReadinessCheck[] = [
    {
      name: 'knowledge',
      check: () => {
        const s = knowledge.status();
        return s.ready ? { ok: true } : { ok: false, reason: knowledgeError ?? s.reason ?? 'not loaded' };
      },
    },
    {
      name: 'store',
      check: async () =>
        (await assistant.sql.writable())
          ? { ok: true }
          : {
              ok: false,
              reason: `the ${assistant.sql.dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'} store is not writable`,
            },
    },
  ];
  const trackedBot = { run: (context: TurnContext) => turns.track(bot.run(context)) };
  // Shared by the replicas in PostgreSQL; in memory with SQLite (one process).
  const limits = createApiRateLimits(
    config,
    config.database ? { sql: assistant.sql, logger: logger.child({ component: 'rate-limits' }) } : undefined,
  );
  registerMessagesRoute(server, adapter, trackedBot, {
    authEnabled: config.botAuth.enabled,
    userLimiter: limits.botUser,
    clientIp: limits.clientIp,
  });

  const directLine = createDirectLineChannel({
    config,
    sql: assistant.sql,
    bot: trackedBot,
    conversationState: assistant.conversationState,
    logger,
    limits: { tokens: limits.directLineTokens, user: limits.directLineUser },
    clientIp: limits.clientIp,
  });
  const channels: Channel[] = [directLine];
  if (config.zalo) {
    channels.push(
      createZaloChannel({
        config: config.zalo,
        sql: assistant.sql,
        bot: trackedBot,
        logger,
        conversationState: assistant.conversationState,
      }),
    );
  } else {
    registerZaloDisabled(server);
  }
  for (const channel of channels) channel.register(server);
  // After the channels' own pre handlers (Direct Line CORS), so a 429 carries their headers.
  registerApiRateLimits(server, limits);
  registerWebChatRoutes(server, config);

  // The one background re-index queue: console changes and FAQ entries promoted from the inbox.
  const reindex = new ReindexJob({ knowledge, logger });
  const team = createTeamInbox({
    config,
    sql: assistant.sql,
    logger,
    knowledge,
    channels,
    adapter,
    unanswered: assistant.unanswered,
    feedback: assistant.feedback,
    knowledgeDir: config.knowledgeDir,
    reindex,
  });
  team.register(server);
  const kb = createKnowledgeConsole({
    knowledgeDir: config.knowledgeDir,
    dataDir: config.dataDir,
    knowledge,
    answers: assistant.answers,
    audit: team.store.audit,
    auth: team.auth,
    logger: logger.child({ component: 'knowledge-console' }),
    uploadMaxBytes: config.kb.uploadMaxBytes,
    maxMessageChars: config.maxMessageChars,
    answerMaxChars: config.answerMaxChars,
    job: reindex,
  });
  kb.register(server);
  bot.useTakeover(team.takeover);
  registerTeamDashboardRoutes(server);

  registerHealthRoutes(server, [
    ...readiness,
    ...channels.flatMap((c) => (c.readiness ? [c.readiness] : [])),
  ]);

  let stopped = false;
  const listen = async () => {
    // Migrations and subscriptions before the first request (replicas starting together take turns).
    await assistant.init();
    await team.init(); // after the unanswered log's migrations: it extends the questions table
    for (const channel of channels) await channel.init?.();
    await limits.init();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    if (!config.zalo) logger.info('Zalo channel is off (ZALO_APP_ID not set)');
    for (const channel of channels) await channel.start?.();
    if (!config.botAuth.enabled) {
      logger.warn(
        'MicrosoftAppId is not set: /api/messages accepts unauthenticated requests from this machine only (loopback client and serviceUrl)',
      );
    }
    logger.info(
      {
        port,
        model: config.llm ? config.llm.model : 'none (extractive answers)',
        embedder: assistant.embedderId,
      },
      'listening',
    );
    return port;
  };
  const loadKnowledge = async () => {
    await knowledge.start();
    assistant.retrievalThread?.warm();
    knowledge.watch();
    logger.info({ version: knowledge.status().version }, 'ready');
  };
  /**
   * A service that cannot load or build its index (a damaged index and a knowledge directory or an
   * embedding endpoint it cannot read) stays up, not ready (/readyz 503 with the reason), and
   * retries with backoff, rather than exiting into a restart loop.
   */
  const loadKnowledgeOrRetry = async (attempt = 0): Promise<void> => {
    knowledgeRetry = undefined;
    try {
      await loadKnowledge();
      knowledgeError = undefined;
    } catch (err) {
      if (stopped) return;
      const delayMs = Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6));
      const why = err instanceof Error ? err.message : String(err);
      knowledgeError = `the knowledge index could not be loaded or built (${why}); retrying in ${Math.round(delayMs / 1000)} s`;
      logger.error({ err, retryInMs: delayMs }, 'knowledge index unavailable; not ready, will retry');
      knowledgeRetry = setTimeout(() => void loadKnowledgeOrRetry(attempt + 1), delayMs);
    }
  };
  return {
    server,
    adapter,
    assistant,
    channels,
    directLine,
    team,
    knowledgeConsole: kb.console,
    listen,
    loadKnowledge,
    async start() {
      const port = await listen();
      await loadKnowledgeOrRetry();
      return port;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(knowledgeRetry);
      limits.stop();
      knowledge.stop();
      kb.stop(); // no new re-index; an eval in progress stops
      await team.stop(); // ends the dashboards' event streams, or server.close would wait for them
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const left = await turns.drain(config.shutdownTimeoutMs);
      for (const channel of channels) await channel.stop();
      if (left) logger.warn({ left }, 'shutdown: turns still running after the time bound');
      await assistant.close();
      logger.info('stopped');
    },
  };
}
