import type { CloudAdapter } from 'botbuilder';
import type restify from 'restify';
import type { Channel } from '../channels/channel.js';
import type { Config } from '../config.js';
import type { SqliteFeedbackStore } from '../feedback/feedbackStore.js';
import type { Logger } from '../logger.js';
import type { KnowledgeBase } from '../retrieval/knowledgeIndex.js';
import type { Db } from '../storage/database.js';
import type { SqliteUnansweredLog } from '../unanswered/sqliteUnansweredLog.js';
import { TeamAuth } from './auth.js';
import { Curation } from './curation.js';
import { Delivery } from './delivery.js';
import { EventHub } from './events.js';
import { Inbox } from './inbox.js';
import { WebhookNotifier } from './notify.js';
import { RetentionSweep } from './retention.js';
import { TakeoverService, type TakeoverHook } from './takeover.js';
import { registerTeamRoutes } from './teamRoutes.js';
import { createSqliteTeamStore, type TeamStore } from './teamStore.js';

export type { TakeoverHook } from './takeover.js';
export { TEAM_PREFIX } from './delivery.js';

export interface TeamInboxOptions {
  config: Pick<Config, 'team' | 'webchat'>;
  db: Db;
  logger: Logger;
  knowledge: Pick<KnowledgeBase, 'rebuild' | 'status'>;
  channels: readonly Channel[];
  /** The Bot Framework adapter of /api/messages, for conversations of other channels (Emulator…). */
  adapter?: CloudAdapter;
  unanswered: Pick<SqliteUnansweredLog, 'onLogged'>;
  feedback: SqliteFeedbackStore;
  knowledgeDir: string;
}

export interface TeamInbox {
  register(server: restify.Server): void;
  takeover: TakeoverHook;
  store: TeamStore;
  inbox: Inbox;
  curation: Curation;
  notifier: WebhookNotifier;
  retention: RetentionSweep;
  stop(): void;
}

/** The community team's inbox (issue 7): store, API under /api/team, live events, delivery, takeover. */
export function createTeamInbox(o: TeamInboxOptions): TeamInbox {
  const logger = o.logger.child({ component: 'team' });
  const store = createSqliteTeamStore(o.db);
  const events = new EventHub();
  const auth = new TeamAuth(store.members, o.config.team.adminToken);
  // The inbox is built after the services that call back into it.
  const late: { inbox?: Inbox } = {};
  const delivery = new Delivery({
    channels: o.channels,
    adapter: o.adapter,
    logger,
    onUndeliverable: (ref, reason) => late.inbox?.undeliverable(ref, reason),
  });
  const notifier = new WebhookNotifier({
    webhooks: store.webhooks,
    logger,
    dashboardUrl: (id) => `${o.config.webchat.publicUrl?.replace(/\/$/, '') ?? ''}/team/#/questions/${id}`,
  });
  const takeover: TakeoverService = new TakeoverService({
    repo: store.takeovers,
    questions: store.questions,
    delivery,
    events,
    logger,
    idleMinutes: o.config.team.takeoverIdleMinutes,
    audit: (p, action, target, detail) => late.inbox?.audit(p, action, target, detail),
    onChange: (id) => {
      const q = store.questions.get(id);
      if (q) late.inbox?.publish(q);
    },
  });
  const theInbox = new Inbox({
    store,
    events,
    delivery,
    logger,
    staleAfterMinutes: o.config.team.staleAfterMinutes,
    isTakenOver: (id) => takeover.isQuestionTakenOver(id),
    onNew: (q) => notifier.notify(q),
  });
  const curation = new Curation({ knowledge: o.knowledge, knowledgeDir: o.knowledgeDir, logger });
  const retention = new RetentionSweep({
    questions: store.questions,
    retentionDays: o.config.team.retentionDays,
    logger,
  });
  late.inbox = theInbox;
  theInbox.backfill();
  const unsubscribe = o.unanswered.onLogged((q) => {
    try {
      theInbox.added(q);
    } catch (err) {
      logger.error({ err, questionId: q.id }, 'team inbox: could not announce a new question');
    }
  });
  retention.start();

  return {
    register(server) {
      registerTeamRoutes(server, {
        auth,
        inbox: theInbox,
        store,
        events,
        takeover,
        curation,
        feedback: o.feedback,
      });
    },
    takeover,
    store,
    inbox: theInbox,
    curation,
    notifier,
    retention,
    stop() {
      unsubscribe();
      retention.stop();
      takeover.stop();
      delivery.stop();
      events.close();
    },
  };
}
