import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logger.js';
import type { ConversationStore } from './conversationStore.js';

export interface TurnLeaseOptions {
  /** How long a lease lasts without renewal (a replica that dies mid-turn blocks no longer). */
  leaseMs?: number;
  /** How often a running turn renews its lease. */
  renewEveryMs?: number;
  /** How long to wait for another replica's turn before running anyway. */
  waitMaxMs?: number;
}

/**
 * Runs one turn of a web chat conversation while holding the conversation's lease in the store, so
 * turns of one conversation never overlap across replicas (within a replica the TurnQueue orders
 * them). Without it, a citizen's next message landing on replica B while replica A is still between
 * sending its reply and saving the dialog state would run on the old state, and one of the two
 * states would be lost. The lease is one conditional UPDATE (claim), renewed while the turn runs and
 * released after it; a lease left by a replica that died expires after `leaseMs`. A message is never
 * dropped: past `waitMaxMs`, or when the store cannot be asked, the turn runs anyway.
 */
export async function withTurnLease<T>(
  store: ConversationStore,
  conversationId: string,
  logger: Logger,
  fn: () => Promise<T>,
  options: TurnLeaseOptions = {},
): Promise<T> {
  const leaseMs = options.leaseMs ?? 15_000;
  const owner = randomUUID();
  const deadline = Date.now() + (options.waitMaxMs ?? 20_000);
  let held = false;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    const now = Date.now();
    try {
      held = await store.claimTurn(conversationId, owner, now, now + leaseMs);
    } catch (err) {
      logger.warn({ err, conversationId }, 'direct line: turn lease unavailable; running the turn anyway');
      break;
    }
    if (held) break;
    if (now >= deadline) {
      logger.warn(
        { conversationId },
        'direct line: another turn holds the conversation too long; running anyway',
      );
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  const renewal = held
    ? setInterval(() => {
        const now = Date.now();
        store.claimTurn(conversationId, owner, now, now + leaseMs).catch(() => undefined);
      }, options.renewEveryMs ?? 5_000)
    : undefined;
  renewal?.unref();
  try {
    return await fn();
  } finally {
    clearInterval(renewal);
    if (held) {
      await store.releaseTurn(conversationId, owner).catch((err: unknown) => {
        logger.warn({ err, conversationId }, 'direct line: turn lease not released; it expires by itself');
      });
    }
  }
}
