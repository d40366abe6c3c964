import type { CloudAdapter } from 'botbuilder';
import type restify from 'restify';
import type { Channel } from '../channels/channel.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { ReindexJob } from '../knowledgeConsole/reindexJob.js';
import type { KnowledgeBase } from '../retrieval/knowledgeIndex.js';
import type { SqlDb } from '../storage/sql/index.js';
import type { StoredQuestion } from '../unanswered/unansweredLog.js';
import { TeamAuth } from './auth.js';
import { Curation } from './curation.js';
import { Delivery } from './delivery.js';
import { EventHub } from './events.js';
import { Inbox } from './inbox.js';
import { WebhookNotifier } from './notify.js';
import { RetentionSweep } from './retention.js';
import { TeamSignals, type TeamSignal } from './signals.js';
import { TakeoverService } from './takeover.js';
import { registerTeamRoutes, type TeamRouteDeps } from './teamRoutes.js';
import { createTeamStore, type TeamStore } from './teamStore.js';

export type { TakeoverHook } from './takeover.js';
export { TEAM_PREFIX } from './delivery.js';

export interface TeamInboxOptions {
  config: Pick<Config, 'team' | 'webchat'>;
  /** The store: PostgreSQL shared by the replicas, or the embedded SQLite. */
  sql: SqlDb;
  logger: Logger;
  knowledge: Pick<KnowledgeBase, 'rebuild' | 'status'>;
  channels: readonly Channel[];
  /** The Bot Framework adapter of /api/messages, for conversations of other channels (Emulator…). */
  adapter?: CloudAdapter;
  /**
   * The unanswered log (owner of the `questions` table): `onLogged` feeds the inbox, on the replica
   * that logged the question only.
   */
  unanswered: {
    onLogged(listener: (q: StoredQuestion) => unknown): () => unknown;
    /** Its migrations (idempotent): applied before the team's, which extend its table. */
    migrate?(): Promise<void>;
  };
  feedback: TeamRouteDeps['feedback'];
  knowledgeDir: string;
  /** The shared background re-index queue (knowledge console); promoted FAQ entries go through it. */
  reindex?: Pick<ReindexJob, 'request'>;
}

export interface TeamInbox {
  /**
   * Migrates the team's tables (after the unanswered log's), groups questions stored meanwhile, starts
   * listening to the other replicas, the takeover idle sweep and the retention sweep. Awaited before
   * the service accepts requests.
   */
  init(): Promise<void>;
  register(server: restify.Server): void;
  /** Team tokens (also used by the knowledge console's API). */
  auth: TeamAuth;
  takeover: TakeoverService;
  store: TeamStore;
  inbox: Inbox;
  events: EventHub;
  curation: Curation;
  notifier: WebhookNotifier;
  retention: RetentionSweep;
  /** Ends the dashboards' streams and the background work; stops listening to the other replicas. */
  stop(): Promise<void>;
}

/**
 * The community team's inbox (issue 7): store, API under /api/team, live events, delivery, takeover.
 * Several replicas may serve it over one PostgreSQL store (issue 10): every state is in the store, and
 * changes reach the other replicas' dashboards and caches through notifications (`TeamSignals`).
 */
export function createTeamInbox(o: TeamInboxOptions): TeamInbox {
  const logger = o.logger.child({ component: 'team' });
  const store = createTeamStore(o.sql);
  const events = new EventHub();
  const signals = new TeamSignals({ sql: o.sql, logger });
  const auth = new TeamAuth(store.members, o.config.team.adminToken);
  // The inbox is built after the services that call back into it.
  const late: { inbox?: Inbox } = {};
  const background = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>, what: string) => {
    const t = p.catch((err: unknown) => logger.error({ err }, what)).finally(() => background.delete(t));
    background.add(t);
  };
  const delivery = new Delivery({
    channels: o.channels,
    adapter: o.adapter,
    logger,
    onUndeliverable: (ref, reason) =>
      track(late.inbox?.undeliverable(ref, reason) ?? Promise.resolve(), 'team: undeliverable report failed'),
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
    logger,
    idleMinutes: o.config.team.takeoverIdleMinutes,
    audit: async (p, action, target, detail) => {
      await late.inbox?.audit(p, action, target, detail);
    },
    onChange: async (id, key) => {
      signals.send({ t: 'takeover', key });
      const q = await store.questions.get(id);
      if (q) await late.inbox?.publish(q);
    },
    onMessage: (q, m) => late.inbox?.publishMessage(q, m),
  });
  const theInbox = new Inbox({
    store,
    events,
    signals,
    delivery,
    logger,
    staleAfterMinutes: o.config.team.staleAfterMinutes,
    takenOver: () => takeover.takenOverQuestions(),
    onNew: (q) => void notifier.notify(q),
  });
  const reindex = o.reindex;
  const curation = new Curation({
    knowledge: o.knowledge,
    knowledgeDir: o.knowledgeDir,
    logger,
    reindex: reindex && ((change) => reindex.request(change)),
  });
  const retention = new RetentionSweep({
    sql: o.sql,
    questions: store.questions,
    jobs: store.jobs,
    retentionDays: o.config.team.retentionDays,
    logger,
  });
  late.inbox = theInbox;

  /** What another replica did: re-read the store and show it here. */
  const onSignal = async (s: TeamSignal) => {
    switch (s.t) {
      case 'question': {
        if (events.size === 0) return;
        const q = await store.questions.get(s.id);
        if (q) await theInbox.publishLocally(q);
        return;
      }
      case 'message': {
        if (events.size === 0) return;
        let text = s.text;
        if (text === undefined) {
          const q = await store.questions.get(s.questionId);
          text = q?.transcript.find((t) => t.at === s.at && t.from === s.from)?.text;
        }
        if (text !== undefined) {
          events.publish('message', s.commune, { questionId: s.questionId, from: s.from, text, at: s.at });
        }
        return;
      }
      case 'takeover':
        takeover.forget(s.key);
        return;
      case 'member_disabled':
        events.disconnect(s.id);
        return;
    }
  };

  let unsubscribe: (() => unknown) | undefined;
  let initialized: Promise<void> | undefined;
  const init = async () => {
    await o.unanswered.migrate?.();
    await store.migrate();
    await signals.listen(onSignal, () => {
      // Notifications may have been missed while the connection was down.
      takeover.forget();
      logger.warn('team: live updates from other replicas may have been missed (store reconnected)');
    });
    unsubscribe = o.unanswered.onLogged((q) => {
      const added = theInbox.added(q);
      track(added, 'team inbox: could not announce a new question');
      return added.catch(() => undefined);
    });
    // Questions stored while no inbox ran (one replica at a time; the others find them grouped).
    await o.sql.withLock('team-backfill', async () => {
      const n = await theInbox.backfill();
      if (n) logger.info({ questions: n }, 'team inbox: questions grouped');
    });
    takeover.startSweeping();
    track(retention.start(), 'retention sweep failed');
  };

  return {
    init() {
      initialized ??= init();
      return initialized;
    },
    register(server) {
      registerTeamRoutes(server, {
        auth,
        inbox: theInbox,
        store,
        events,
        signals,
        takeover,
        curation,
        feedback: o.feedback,
      });
    },
    auth,
    takeover,
    store,
    inbox: theInbox,
    events,
    curation,
    notifier,
    retention,
    async stop() {
      unsubscribe?.();
      events.close();
      delivery.stop();
      await Promise.all([retention.stop(), takeover.stop()]);
      await Promise.all([...background]);
      await notifier.idle();
      await signals.stop();
    },
  };
}
