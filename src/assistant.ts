import path from 'node:path';
import type { ConversationState, UserState } from 'botbuilder';
import { MainDialog } from '../dialogs/mainDialog.js';
import { TRANSCRIPT_TURNS, type ConversationData, type UserProfile } from '../dialogs/state.js';
import { AnswerService } from './answer/answerService.js';
import { createGroundedModel } from './answer/groundedGenerator.js';
import { CitizenBot } from './bot/citizenBot.js';
import { RecentTurns } from './bot/recentTurns.js';
import { TurnPersistence } from './bot/turnPersistence.js';
import type { Config } from './config.js';
import { SqlFeedbackStore } from './feedback/feedbackStore.js';
import { FlowLibrary } from './flows/flowLibrary.js';
import type { Logger } from './logger.js';
import { createEmbeddings } from './retrieval/embeddingsFactory.js';
import { HashingEmbeddings } from './retrieval/hashingEmbeddings.js';
import { KnowledgeBase } from './retrieval/knowledgeIndex.js';
import { createIndexPublisher } from './retrieval/indexPublisher.js';
import { ThreadedRetriever } from './retrieval/threadedRetriever.js';
import { ChangeCheckedConversationState, ChangeCheckedUserState } from './storage/changeCheckedState.js';
import { openDatabase, type Db } from './storage/database.js';
import { PgDb, SqliteDb, type SqlDb } from './storage/sql/index.js';
import { SqlStorage } from './storage/sqlStorage.js';
import { WalCheckpointer } from './storage/walCheckpointer.js';
import type { Retriever } from './retrieval/types.js';
import { SqlUnansweredLog } from './unanswered/sqlUnansweredLog.js';

/** The channel-independent assistant: store, knowledge, answer policy, dialogs and bot. */
export interface Assistant {
  /**
   * With the embedded store, the SQLite connection (DATA_DIR/assistant.db) that `sql` wraps, for
   * maintenance such as a checkpoint. With PostgreSQL there is none: no SQLite file is opened.
   */
  db: Db | undefined;
  /** The store every repository uses: PostgreSQL when DATABASE_URL is set, else SQLite in DATA_DIR. */
  sql: SqlDb;
  /** With the embedded store (and SQLITE_CHECKPOINT_THREAD on), the thread that checkpoints its WAL. */
  checkpointer: WalCheckpointer | undefined;
  /** Applies the repositories' migrations: awaited once before the first request or turn. */
  init(): Promise<void>;
  /** Closes the store (after the last turn). */
  close(): Promise<void>;
  /** The bot state (conversation and user state), with eTag concurrency across replicas. */
  storage: SqlStorage;
  knowledge: KnowledgeBase;
  /** Retrieval on a worker thread, when configured (RETRIEVAL_THREAD) with the offline embedding. */
  retrievalThread: ThreadedRetriever | undefined;
  answers: AnswerService;
  conversationState: ConversationState;
  userState: UserState;
  bot: CitizenBot;
  unanswered: SqlUnansweredLog;
  feedback: SqlFeedbackStore;
  embedderId: string;
}

/**
 * Replacements for parts of the assistant, for benchmarks and tests only (the service never
 * passes any): `retriever` answers the questions instead of the knowledge base, which still
 * loads the index, reports readiness and serves "bước tiếp theo".
 */
export interface AssistantOverrides {
  retriever?: Retriever;
}

export function createAssistant(
  config: Config,
  logger: Logger,
  overrides: AssistantOverrides = {},
): Assistant {
  const { db, sql } = openStore(config, logger);
  const checkpointer = db && config.checkpointThread ? new WalCheckpointer({ db, logger }) : undefined;
  checkpointer?.start();
  const storage = new SqlStorage(sql);
  const conversationState = new ChangeCheckedConversationState(storage);
  const userState = new ChangeCheckedUserState(storage);
  const conversationData = conversationState.createProperty<ConversationData>('ConversationData');
  const userProfile = userState.createProperty<UserProfile>('UserProfile');

  const { embeddings, id: embedderId } = createEmbeddings(config);
  // With a model's embedding a retrieval mostly waits for the network: a thread would not help.
  // A retriever given by a benchmark or test answers instead: no thread is started for it.
  const threaded = config.retrievalThread && embeddings instanceof HashingEmbeddings && !overrides.retriever;
  const knowledge = new KnowledgeBase({
    knowledgeDir: config.knowledgeDir,
    dataDir: config.dataDir,
    embeddings,
    embedderId,
    logger,
    // With PostgreSQL, index versions are published to (and followed from) the other replicas.
    publisher: createIndexPublisher(sql, { logger }),
    // The thread has the search structures; this thread builds its own only to stand in for it.
    prepareSearch: !threaded,
  });
  const retrievalThread = threaded
    ? new ThreadedRetriever({ knowledge, dimensions: embeddings.dimensions, logger })
    : undefined;
  const model = config.llm ? createGroundedModel(config.llm, config.answerMaxChars) : undefined;
  const answers = new AnswerService({
    retriever: overrides.retriever ?? retrievalThread ?? knowledge,
    maxChars: config.answerMaxChars,
    logger,
    generator: model,
    rewriter: model,
    generatorTimeoutMs: config.llm?.timeoutMs,
  });
  const flows = FlowLibrary.load(path.join(config.knowledgeDir, 'flows'), (file, error) =>
    logger.warn({ file, error }, 'guided flow skipped'),
  );
  const unanswered = new SqlUnansweredLog(sql);
  const recentTurns = new RecentTurns(sql, TRANSCRIPT_TURNS);
  const feedback = new SqlFeedbackStore(sql);
  let initialized: Promise<void> | undefined;
  const init = () =>
    (initialized ??= (async () => {
      await storage.migrate();
      await recentTurns.migrate();
      await unanswered.migrate(); // before the team inbox's migrations, which extend its table
      await feedback.migrate();
    })());
  const close = async () => {
    await retrievalThread?.stop();
    await checkpointer?.stop();
    await sql.close().catch((err: unknown) => logger.warn({ err }, 'closing the store failed'));
    db?.close();
  };
  const dialog = new MainDialog({
    answers,
    knowledge,
    flows,
    unanswered,
    feedback,
    conversationData,
    userProfile,
    recentTurns,
    logger,
    brandName: config.brandName,
  });
  const bot = new CitizenBot({
    conversationState,
    dialog,
    conversationData,
    recentTurns,
    persistence: new TurnPersistence({ db: sql, recentTurns, states: [conversationState, userState] }),
    logger,
    brandName: config.brandName,
    maxMessageChars: config.maxMessageChars,
    messagesPerMinute: config.chatMessagesPerMinute,
    isReady: () => knowledge.status().ready,
  });
  return {
    db,
    sql,
    checkpointer,
    init,
    close,
    storage,
    knowledge,
    retrievalThread,
    answers,
    conversationState,
    userState,
    bot,
    unanswered,
    feedback,
    embedderId,
  };
}

/** PostgreSQL when DATABASE_URL is set (no SQLite file is opened then), else SQLite in DATA_DIR. */
function openStore(config: Config, logger: Logger): { db: Db | undefined; sql: SqlDb } {
  const checkTransactions = config.checkSqlTransactions;
  if (config.database) {
    const { url, poolMax } = config.database;
    return { db: undefined, sql: new PgDb({ url, poolMax, logger, checkTransactions }) };
  }
  const db = openDatabase(config.dataDir);
  return { db, sql: new SqliteDb(db, { ownsConnection: false, logger, checkTransactions }) };
}
