import type { AddressInfo } from 'node:net';
import type { CloudAdapter, TurnContext } from 'botbuilder';
import type restify from 'restify';
import { createAssistant, type Assistant } from './assistant.js';
import { createAdapter } from './bot/adapter.js';
import { TurnTracker } from './bot/turnTracker.js';
import { registerMessagesRoute } from './channels/botframework/messagesRoute.js';
import type { Channel } from './channels/channel.js';
import { createDirectLineChannel, type DirectLineChannel } from './channels/directline/index.js';
import { createZaloChannel, registerZaloDisabled } from './channels/zalo/index.js';
import type { Config } from './config.js';
import { registerHealthRoutes, type ReadinessCheck } from './http/healthRoutes.js';
import { createHttpServer } from './http/server.js';
import { registerTeamDashboardRoutes } from './web/teamRoutes.js';
import { registerWebChatRoutes } from './web/webchatRoutes.js';
import { createTeamInbox, type TeamInbox } from './team/index.js';
import type { Logger } from './logger.js';
import { isWritable } from './storage/database.js';

export interface App {
  server: restify.Server;
  adapter: CloudAdapter;
  assistant: Assistant;
  /** Channels beside /api/messages, by the activity channelIds they serve. */
  channels: Channel[];
  directLine: DirectLineChannel;
  /** The community team's inbox (/api/team). */
  team: TeamInbox;
  /** Listens, then loads (or builds) the knowledge index. Resolves with the bound port. */
  start(): Promise<number>;
  /** Only listens (liveness up, readiness 503 until `loadKnowledge`). */
  listen(): Promise<number>;
  /** Loads (or on first start builds) the knowledge index and watches for new versions. */
  loadKnowledge(): Promise<void>;
  /** Stops accepting, lets in-flight turns finish within the configured bound, closes the store. */
  stop(): Promise<void>;
}

/** Builds the HTTP service around the assistant: the composition root. */
export function createApp(config: Config, logger: Logger): App {
  const assistant = createAssistant(config, logger);
  const { knowledge, db, bot } = assistant;
  const turns = new TurnTracker();
  const adapter = createAdapter(config, logger, assistant.conversationState);

  const server = createHttpServer({ logger, maxBodyBytes: 256 * 1024 });
  const readiness: ReadinessCheck[] = [
    {
      name: 'knowledge',
      check: () => {
        const s = knowledge.status();
        return s.ready ? { ok: true } : { ok: false, reason: s.reason ?? 'not loaded' };
      },
    },
    {
      name: 'store',
      check: () =>
        isWritable(db) ? { ok: true } : { ok: false, reason: 'the SQLite store is not writable' },
    },
  ];
  const trackedBot = { run: (context: TurnContext) => turns.track(bot.run(context)) };
  registerMessagesRoute(server, adapter, trackedBot);

  const directLine = createDirectLineChannel({
    config,
    db,
    bot: trackedBot,
    conversationState: assistant.conversationState,
    logger,
  });
  const channels: Channel[] = [directLine];
  if (config.zalo) {
    channels.push(
      createZaloChannel({
        config: config.zalo,
        db,
        bot: trackedBot,
        logger,
        conversationState: assistant.conversationState,
      }),
    );
  } else {
    registerZaloDisabled(server);
  }
  for (const channel of channels) channel.register(server);
  registerWebChatRoutes(server, config);

  const team = createTeamInbox({
    config,
    db,
    logger,
    knowledge,
    channels,
    adapter,
    unanswered: assistant.unanswered,
    feedback: assistant.feedback,
    knowledgeDir: config.knowledgeDir,
  });
  team.register(server);
  bot.useTakeover(team.takeover);
  registerTeamDashboardRoutes(server);

  registerHealthRoutes(server, [
    ...readiness,
    ...channels.flatMap((c) => (c.readiness ? [c.readiness] : [])),
  ]);

  let stopped = false;
  const listen = async () => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    if (!config.zalo) logger.info('Zalo channel is off (ZALO_APP_ID not set)');
    for (const channel of channels) await channel.start?.();
    if (!config.botAuth.enabled) {
      logger.warn(
        'MicrosoftAppId is not set: /api/messages accepts unauthenticated requests (local use only)',
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
    knowledge.watch();
    logger.info({ version: knowledge.status().version }, 'ready');
  };
  return {
    server,
    adapter,
    assistant,
    channels,
    directLine,
    team,
    listen,
    loadKnowledge,
    async start() {
      const port = await listen();
      await loadKnowledge();
      return port;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      knowledge.stop();
      team.stop(); // ends the dashboards' event streams, or server.close would wait for them
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const left = await turns.drain(config.shutdownTimeoutMs);
      for (const channel of channels) await channel.stop();
      if (left) logger.warn({ left }, 'shutdown: turns still running after the time bound');
      db.close();
      logger.info('stopped');
    },
  };
}
