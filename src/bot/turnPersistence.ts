import type { TurnContext } from 'botbuilder';
import type { ChangeCheckedState, PendingChanges } from '../storage/changeCheckedState.js';
import type { SqlDb } from '../storage/sql/index.js';
import { SqlStorage } from '../storage/sqlStorage.js';
import type { RecentTurns } from './recentTurns.js';

export interface TurnPersistenceOptions {
  db: SqlDb;
  recentTurns: RecentTurns;
  /** The conversation and user state, written when the turn completed. */
  states: readonly ChangeCheckedState[];
}

/**
 * Writes what a turn leaves behind, in one transaction: its transcript lines (RecentTurns) and,
 * when the turn completed, the conversation and user state that changed. One commit per turn
 * where writing each on its own made three (a commit is most of the store's cost in a turn), and
 * a crash can no longer keep the transcript of a turn without its state or the reverse.
 */
export class TurnPersistence {
  constructor(private readonly o: TurnPersistenceOptions) {}

  /**
   * `completed` false (the turn threw): only the transcript lines are written, what the citizen
   * said and was told; the state the failed turn left half-changed is not.
   */
  async save(context: TurnContext, completed: boolean): Promise<void> {
    const states: PendingChanges[] = [];
    if (completed) {
      for (const s of this.o.states) {
        const pending = await s.pendingChanges(context);
        if (pending) states.push(pending);
      }
    }
    if (!states.length && !this.o.recentTurns.hasPending(context)) return;
    await this.o.db.transaction(async (tx) => {
      await this.o.recentTurns.flush(tx, context);
      const storage = new SqlStorage(tx);
      for (const s of states) await storage.write(s.changes);
    });
    for (const s of states) s.saved();
  }
}
