import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { MAX_NOTIFY_BYTES, type SqlDb } from '../storage/sql/index.js';
import type { TranscriptEntry } from './teamStore.js';

/** The notification channel every replica listens on. */
export const TEAM_CHANNEL = 'team_events';

/**
 * What one replica tells the others (through `SqlDb.notify`: LISTEN/NOTIFY on PostgreSQL, in-process on
 * SQLite). Only ids and small facts travel: the receiver re-reads the store (payload ≤ 7 KB, and a
 * notification is a hint, delivered at most once).
 */
export type TeamSignal =
  /** A question changed (new, claimed, answered…): dashboards re-read and show it. */
  | { t: 'question'; id: string }
  /** A message in a taken-over conversation; `text` is left out when it would not fit. */
  | {
      t: 'message';
      questionId: string;
      from: TranscriptEntry['from'];
      at: string;
      commune: string | null;
      text?: string;
    }
  /** A takeover of a conversation started or ended: forget the cached state of `key`. */
  | { t: 'takeover'; key: string }
  /** A member's token was revoked: end their open dashboard streams. */
  | { t: 'member_disabled'; id: string };

type Envelope = TeamSignal & { o: string };

/** A replica's end of the team's cross-replica notifications; its own are ignored on receipt. */
export class TeamSignals {
  /** This replica's id in each payload. */
  readonly origin = randomUUID();
  private unlisten?: () => Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly o: { sql: SqlDb; logger: Logger }) {}

  /**
   * Starts receiving the other replicas' signals. `onReconnect`: the listening connection was lost and
   * re-established, so some may have been missed (forget cached state).
   */
  async listen(handler: (s: TeamSignal) => Promise<void> | void, onReconnect: () => void): Promise<void> {
    if (this.unlisten) return;
    this.unlisten = await this.o.sql.listen(
      TEAM_CHANNEL,
      (payload) => {
        let s: Envelope;
        try {
          s = JSON.parse(payload) as Envelope;
        } catch {
          return;
        }
        if (!s || typeof s !== 'object' || s.o === this.origin) return;
        void Promise.resolve()
          .then(() => handler(s))
          .catch((err: unknown) => this.o.logger.warn({ err, signal: s.t }, 'team: signal not handled'));
      },
      { onReconnect },
    );
  }

  /** Tells the other replicas (fire-and-forget; a failure is logged, never thrown). */
  send(signal: TeamSignal): void {
    let payload = JSON.stringify({ ...signal, o: this.origin });
    if (Buffer.byteLength(payload, 'utf8') > MAX_NOTIFY_BYTES - 64 && signal.t === 'message') {
      // The receivers read the text from the question's transcript instead.
      payload = JSON.stringify({ ...signal, text: undefined, o: this.origin });
    }
    const p = this.o.sql
      .notify(TEAM_CHANNEL, payload)
      .catch((err: unknown) => this.o.logger.warn({ err, signal: signal.t }, 'team: signal not sent'))
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Resolves when every signal sent so far has been handed to the store. */
  async idle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  async stop(): Promise<void> {
    await this.idle();
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    await unlisten?.().catch((err: unknown) => this.o.logger.warn({ err }, 'team: unlisten failed'));
  }
}
