import type { StatePropertyAccessor } from 'botbuilder';
import type { AnswerService } from '../src/answer/answerService.js';
import type { FeedbackStore } from '../src/feedback/feedbackStore.js';
import type { FlowLibrary } from '../src/flows/flowLibrary.js';
import type { RecentTurns } from '../src/bot/recentTurns.js';
import type { Logger } from '../src/logger.js';
import type { IndexedChunk } from '../src/retrieval/types.js';
import type { UnansweredLog } from '../src/unanswered/unansweredLog.js';
import type { ConversationData, UserProfile } from './state.js';

/** Everything the dialogs use, passed in explicitly (no singletons). */
export interface DialogServices {
  answers: AnswerService;
  knowledge: { nextChunk(chunkId: string): IndexedChunk | undefined };
  flows: FlowLibrary;
  unanswered: UnansweredLog;
  feedback: FeedbackStore;
  conversationData: StatePropertyAccessor<ConversationData>;
  userProfile: StatePropertyAccessor<UserProfile>;
  /** The conversation's last lines, for the team's context of a forwarded question. */
  recentTurns: RecentTurns;
  logger: Logger;
  brandName: string;
}
