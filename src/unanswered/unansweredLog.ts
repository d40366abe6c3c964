import type { ConversationReference } from 'botbuilder';
import type { RecentTurn } from '../bot/recentTurns.js';

/** A question handed to the commune's community digital technology team. */
export interface UnansweredQuestion {
  /** Redacted before it reaches this interface. */
  text: string;
  channel: string;
  conversationId: string;
  userId: string;
  reference: Partial<ConversationReference>;
  commune?: string;
  topic?: string;
  /** Why it was forwarded: the bot could not answer, or the citizen asked for a person. */
  reason: 'not_answered' | 'handoff' | 'out_of_scope';
  confidence?: number;
  sources?: { title: string; file: string; score: number }[];
  /** The last turns of the conversation, redacted, oldest first. */
  transcript?: RecentTurn[];
}

export interface StoredQuestion extends UnansweredQuestion {
  id: string;
  status: 'open' | 'claimed' | 'answered' | 'escalated' | 'closed' | 'undeliverable';
  createdAt: string;
}

/**
 * Where a question the assistant could not answer is logged for the team. `log` resolves only
 * once the question is durably stored; the citizen is told it was forwarded after that.
 */
export interface UnansweredLog {
  log(question: UnansweredQuestion): Promise<StoredQuestion>;
  get(id: string): Promise<StoredQuestion | undefined>;
}
