import type { AnswerSource } from '../src/answer/types.js';

/** What the assistant remembers about a conversation (conversation state; never raw secrets). */
export interface ConversationData {
  lastQuestion?: string;
  lastTopic?: string;
  /** The last question the assistant could not (or would not) answer: "gặp người thật" forwards it. */
  lastUnanswered?: string;
  lastAnswer?: { id: string; question: string; sources: AnswerSource[]; chunkId?: string; at: string };
  /** Feedback record waiting for the citizen's optional reason. */
  pendingFeedbackId?: string;
}

/** What the assistant remembers about a citizen (user state). */
export interface UserProfile {
  /** The xã/phường (commune or ward) whose community team answers this citizen. */
  commune?: string;
}

/** How many lines of a conversation are kept for the team's context (src/bot/recentTurns.ts). */
export const TRANSCRIPT_TURNS = 12;

export function emptyConversation(): ConversationData {
  return {};
}
