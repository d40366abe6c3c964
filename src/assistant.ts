import path from 'node:path';
import { ConversationState, UserState } from 'botbuilder';
import { MainDialog } from '../dialogs/mainDialog.js';
import type { ConversationData, UserProfile } from '../dialogs/state.js';
import { AnswerService } from './answer/answerService.js';
import { createGroundedModel } from './answer/groundedGenerator.js';
import { CitizenBot } from './bot/citizenBot.js';
import type { Config } from './config.js';
import { SqliteFeedbackStore } from './feedback/feedbackStore.js';
import { FlowLibrary } from './flows/flowLibrary.js';
import type { Logger } from './logger.js';
import { createEmbeddings } from './retrieval/embeddingsFactory.js';
import { KnowledgeBase } from './retrieval/knowledgeIndex.js';
import { openDatabase, type Db } from './storage/database.js';
import { SqliteStorage } from './storage/sqliteStorage.js';
import { SqliteUnansweredLog } from './unanswered/sqliteUnansweredLog.js';

/** The channel-independent assistant: store, knowledge, answer policy, dialogs and bot. */
export interface Assistant {
  db: Db;
  knowledge: KnowledgeBase;
  answers: AnswerService;
  conversationState: ConversationState;
  userState: UserState;
  bot: CitizenBot;
  unanswered: SqliteUnansweredLog;
  feedback: SqliteFeedbackStore;
  embedderId: string;
}

export function createAssistant(config: Config, logger: Logger): Assistant {
  const db = openDatabase(config.dataDir);
  const storage = new SqliteStorage(db);
  const conversationState = new ConversationState(storage);
  const userState = new UserState(storage);
  const conversationData = conversationState.createProperty<ConversationData>('ConversationData');
  const userProfile = userState.createProperty<UserProfile>('UserProfile');

  const { embeddings, id: embedderId } = createEmbeddings(config);
  const knowledge = new KnowledgeBase({
    knowledgeDir: config.knowledgeDir,
    dataDir: config.dataDir,
    embeddings,
    embedderId,
    logger,
  });
  const model = config.llm ? createGroundedModel(config.llm, config.answerMaxChars) : undefined;
  const answers = new AnswerService({
    retriever: knowledge,
    maxChars: config.answerMaxChars,
    logger,
    generator: model,
    rewriter: model,
    generatorTimeoutMs: config.llm?.timeoutMs,
  });
  const flows = FlowLibrary.load(path.join(config.knowledgeDir, 'flows'), (file, error) =>
    logger.warn({ file, error }, 'guided flow skipped'),
  );
  const unanswered = new SqliteUnansweredLog(db);
  const feedback = new SqliteFeedbackStore(db);
  const dialog = new MainDialog({
    answers,
    knowledge,
    flows,
    unanswered,
    feedback,
    conversationData,
    userProfile,
    logger,
    brandName: config.brandName,
  });
  const bot = new CitizenBot({
    conversationState,
    userState,
    dialog,
    conversationData,
    logger,
    brandName: config.brandName,
    maxMessageChars: config.maxMessageChars,
    messagesPerMinute: config.chatMessagesPerMinute,
    isReady: () => knowledge.status().ready,
  });
  return { db, knowledge, answers, conversationState, userState, bot, unanswered, feedback, embedderId };
}
