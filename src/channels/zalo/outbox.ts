import type { ConversationReference } from 'botbuilder';
import type { Logger } from '../../logger.js';
import { applyMigrations, type Db } from '../../storage/database.js';
import type { ZaloPart } from './messages.js';

const MIGRATIONS = [
  {
    id: 'zalo_outbox/1',
    sql: `CREATE TABLE zalo_outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      group_id INTEGER,
      user_id TEXT NOT NULL,
      text TEXT,
      buttons TEXT,
      reference TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'undeliverable', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      error_code INTEGER,
      last_error TEXT,
      zalo_message_id TEXT
    );
    CREATE INDEX zalo_outbox_pending ON zalo_outbox (status, user_id, id);
    CREATE INDEX zalo_outbox_group ON zalo_outbox (group_id);`,
  },
];

export type OutboxItemStatus = 'pending' | 'sent' | 'undeliverable' | 'failed';

/** What happened to one bot message (all its parts) sent to a Zalo user. */
export interface OutboxStatus {
  /** The id returned by `sendActivity` (ResourceResponse.id), e.g. "zalo:42". */
  id: string;
  /**
   * `sent`: every part was accepted by Zalo. `undeliverable`: Zalo refused it for this user (outside
   * the 7-day window -230/-232, not following, blocked…; not retried). `failed`: given up after
   * retries (Zalo unreachable too long) or refused permanently. `pending`: still being sent.
   */
  status: OutboxItemStatus;
  parts: number;
  attempts: number;
  errorCode?: number;
  lastError?: string;
  createdAt: string;
  updatedAt: string;
}

/** Passed to `onUndeliverable` listeners when a message will not reach the citizen. */
export interface UndeliverableMessage {
  id: string;
  status: 'undeliverable' | 'failed';
  userId: string;
  reference: Partial<ConversationReference>;
  /** The text of the part that could not be delivered (the citizen-facing answer). */
  text: string;
  errorCode?: number;
  reason: string;
}

/** What a delivery attempt came to; `deliver` never needs to throw (a throw counts as `retry`). */
export type DeliveryOutcome =
  | { result: 'sent'; messageId?: string }
  | { result: 'retry'; code?: number; error: string }
  | { result: 'without_buttons'; code?: number; error: string }
  | { result: 'undeliverable' | 'failed'; code?: number; error: string };

export interface OutboxItem {
  id: number;
  userId: string;
  text: string;
  buttons?: string[];
  attempts: number;
}

export interface OutboxOptions {
  db: Db;
  logger: Logger;
  deliver: (item: OutboxItem) => Promise<DeliveryOutcome>;
  /** First retry delay; doubles on each failure (±20 % jitter) up to `maxBackoffMs`. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** A message still failing this long after it was queued is marked `failed`. */
  giveUpAfterMs: number;
  /** Users served at once (one message in flight per user keeps each user's parts in order). */
  concurrency: number;
}

interface Row {
  id: number;
  group_id: number | null;
  user_id: string;
  text: string | null;
  buttons: string | null;
  reference: string;
  status: OutboxItemStatus;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  updated_at: number;
  error_code: number | null;
  last_error: string | null;
}

/**
 * The persisted queue of messages to Zalo users. Enqueueing is a synchronous SQLite write, so a
 * bot turn never waits for Zalo. A worker sends the oldest pending message of each user (never two
 * of one user at once, so split parts arrive in order), several users in parallel; a failure that
 * may pass (rate limit -32, timeout, 5xx, network) is retried with exponential backoff, persisted,
 * so nothing is lost across restarts. Zalo's refusals for a user (-230/-232…) mark the message
 * `undeliverable` at once; listeners registered with `onUndeliverable` are told.
 */
export class Outbox {
  /** User id → the row being sent to that user. */
  private readonly inFlight = new Map<string, number>();
  /** Rows cancelled while being sent: settled as undeliverable unless that attempt delivers them. */
  private readonly cancelAfterAttempt = new Map<number, string>();
  private readonly running = new Set<Promise<void>>();
  private readonly listeners = new Set<(m: UndeliverableMessage) => void>();
  private timer?: NodeJS.Timeout;
  private pumpScheduled = false;
  private started = false;

  constructor(private readonly o: OutboxOptions) {
    applyMigrations(o.db, MIGRATIONS);
  }

  /** Queues the parts of one message; returns its id (for `statusOf`). */
  enqueue(userId: string, parts: readonly ZaloPart[], reference: Partial<ConversationReference>): string {
    if (!parts.length) throw new Error('nothing to send');
    const now = Date.now();
    const insert = this.o.db.prepare(
      `INSERT INTO zalo_outbox (group_id, user_id, text, buttons, reference, status, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
    );
    const setGroup = this.o.db.prepare('UPDATE zalo_outbox SET group_id = ? WHERE id = ?');
    const ref = JSON.stringify(reference);
    const groupId = this.o.db.transaction(() => {
      let first: number | undefined;
      for (const p of parts) {
        const buttons = p.buttons?.length ? JSON.stringify(p.buttons) : null;
        const id = Number(
          insert.run(first ?? null, userId, p.text, buttons, ref, now, now, now).lastInsertRowid,
        );
        if (first === undefined) {
          first = id;
          setGroup.run(id, id);
        }
      }
      return first!;
    })();
    this.kick();
    return `zalo:${groupId}`;
  }

  /** The delivery status of a message by the id `enqueue` (or `sendActivity`) returned. */
  statusOf(id: string): OutboxStatus | undefined {
    const m = /^zalo:(\d+)$/.exec(id);
    if (!m) return undefined;
    const rows = this.o.db
      .prepare('SELECT * FROM zalo_outbox WHERE group_id = ? ORDER BY id')
      .all(Number(m[1])) as Row[];
    if (!rows.length) return undefined;
    const has = (s: OutboxItemStatus) => rows.some((r) => r.status === s);
    const status: OutboxItemStatus = has('undeliverable')
      ? 'undeliverable'
      : has('failed')
        ? 'failed'
        : rows.every((r) => r.status === 'sent')
          ? 'sent'
          : 'pending';
    const worst = rows.find((r) => r.error_code !== null || r.last_error !== null);
    return {
      id,
      status,
      parts: rows.length,
      attempts: rows.reduce((n, r) => n + r.attempts, 0),
      errorCode: worst?.error_code ?? undefined,
      lastError: worst?.last_error ?? undefined,
      createdAt: new Date(rows[0]!.created_at).toISOString(),
      updatedAt: new Date(Math.max(...rows.map((r) => r.updated_at))).toISOString(),
    };
  }

  /** Called when a message is marked undeliverable or failed. Returns an unsubscribe function. */
  onUndeliverable(listener: (m: UndeliverableMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Marks a user's pending messages undeliverable (the user unfollowed the OA). */
  cancelPending(userId: string, reason: string): number {
    const rows = this.o.db
      .prepare(`SELECT * FROM zalo_outbox WHERE user_id = ? AND status = 'pending' ORDER BY id`)
      .all(userId) as Row[];
    let n = 0;
    for (const r of rows) {
      if (this.inFlight.get(userId) === r.id) {
        this.cancelAfterAttempt.set(r.id, reason); // unless the attempt under way delivers it
        continue;
      }
      this.finish(r, 'undeliverable', undefined, reason);
      n += 1;
    }
    return n;
  }

  /** Counts by status (for logs and tests). */
  counts(): Record<OutboxItemStatus, number> {
    const out: Record<OutboxItemStatus, number> = { pending: 0, sent: 0, undeliverable: 0, failed: 0 };
    const rows = this.o.db.prepare('SELECT status, COUNT(*) AS n FROM zalo_outbox GROUP BY status').all() as {
      status: OutboxItemStatus;
      n: number;
    }[];
    for (const r of rows) out[r.status] = r.n;
    return out;
  }

  /** Deletes settled messages older than `retentionMs`. */
  cleanup(retentionMs: number): number {
    return this.o.db
      .prepare(`DELETE FROM zalo_outbox WHERE status != 'pending' AND updated_at < ?`)
      .run(Date.now() - retentionMs).changes;
  }

  start(): void {
    this.started = true;
    this.kick();
  }

  /** Stops the worker and waits up to `waitMs` for sends in flight. */
  async stop(waitMs: number): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running.size) {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.running]),
        new Promise((r) => (timeout = setTimeout(r, waitMs))),
      ]);
      clearTimeout(timeout);
    }
  }

  /** Runs the worker soon (after an enqueue, a send, or a timer). */
  kick(): void {
    if (!this.started || this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.started) return;
    let heads: Row[];
    try {
      heads = this.o.db
        .prepare(
          `SELECT o.* FROM zalo_outbox o
           WHERE o.status = 'pending' AND NOT EXISTS (
             SELECT 1 FROM zalo_outbox p WHERE p.user_id = o.user_id AND p.status = 'pending' AND p.id < o.id)
           ORDER BY o.next_attempt_at, o.id LIMIT 1000`,
        )
        .all() as Row[];
    } catch (err) {
      this.o.logger.error({ err }, 'zalo outbox: cannot read the queue');
      this.schedule(5000);
      return;
    }
    const now = Date.now();
    let nextAt = Infinity;
    for (const row of heads) {
      if (this.inFlight.has(row.user_id)) continue;
      if (row.next_attempt_at > now) {
        nextAt = Math.min(nextAt, row.next_attempt_at);
        continue;
      }
      if (this.running.size >= this.o.concurrency) break;
      this.inFlight.set(row.user_id, row.id);
      const work = this.attempt(row)
        .catch((err: unknown) =>
          this.o.logger.error({ err, outboxId: row.id }, 'zalo outbox: attempt failed'),
        )
        .finally(() => {
          this.inFlight.delete(row.user_id);
          this.running.delete(work);
          this.kick();
        });
      this.running.add(work);
    }
    if (nextAt < Infinity) this.schedule(nextAt - now);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.kick();
      },
      Math.min(Math.max(delayMs, 5), 60_000),
    );
    this.timer.unref();
  }

  private async attempt(row: Row): Promise<void> {
    const item: OutboxItem = {
      id: row.id,
      userId: row.user_id,
      text: row.text ?? '',
      buttons: row.buttons ? (JSON.parse(row.buttons) as string[]) : undefined,
      attempts: row.attempts,
    };
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.o.deliver(item);
    } catch (err) {
      outcome = { result: 'retry', error: (err as Error).message.slice(0, 200) };
    }
    // cancelPending (unfollow) may have settled it meanwhile.
    const current = this.o.db.prepare('SELECT status FROM zalo_outbox WHERE id = ?').get(row.id) as
      { status: OutboxItemStatus } | undefined;
    if (!current || current.status !== 'pending') return;
    const now = Date.now();
    const attempts = row.attempts + 1;
    const cancelled = this.cancelAfterAttempt.get(row.id);
    this.cancelAfterAttempt.delete(row.id);
    if (cancelled !== undefined && outcome.result !== 'sent') {
      this.finish({ ...row, attempts }, 'undeliverable', undefined, cancelled);
      return;
    }
    const log = this.o.logger.child({ outboxId: row.id, attempts });
    switch (outcome.result) {
      case 'sent':
        // The text is not kept once delivered: the transcript holds the redacted conversation.
        this.o.db
          .prepare(
            `UPDATE zalo_outbox SET status = 'sent', text = NULL, buttons = NULL, attempts = ?, updated_at = ?,
             zalo_message_id = ? WHERE id = ?`,
          )
          .run(attempts, now, outcome.messageId ?? null, row.id);
        if (row.attempts > 0) log.info('zalo message sent after retries');
        return;
      case 'without_buttons':
        log.warn(
          { code: outcome.code, error: outcome.error },
          'zalo refused the button template; sending text only',
        );
        this.o.db
          .prepare('UPDATE zalo_outbox SET buttons = NULL, attempts = ?, updated_at = ? WHERE id = ?')
          .run(attempts, now, row.id);
        return;
      case 'undeliverable':
      case 'failed':
        this.finish({ ...row, attempts }, outcome.result, outcome.code, outcome.error);
        return;
      case 'retry': {
        if (now - row.created_at >= this.o.giveUpAfterMs) {
          this.finish(
            { ...row, attempts },
            'failed',
            outcome.code,
            `gave up after ${attempts} attempts: ${outcome.error}`,
          );
          return;
        }
        const delay = Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** Math.min(row.attempts, 30));
        const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
        this.o.db
          .prepare(
            `UPDATE zalo_outbox SET attempts = ?, next_attempt_at = ?, updated_at = ?, error_code = ?, last_error = ?
             WHERE id = ?`,
          )
          .run(attempts, now + jittered, now, outcome.code ?? null, outcome.error, row.id);
        (attempts === 1 || attempts % 10 === 0 ? log.warn.bind(log) : log.debug.bind(log))(
          { code: outcome.code, error: outcome.error, retryInMs: jittered },
          'zalo send failed; will retry',
        );
        return;
      }
    }
  }

  private finish(
    row: Row,
    status: 'undeliverable' | 'failed',
    code: number | undefined,
    reason: string,
  ): void {
    this.o.db
      .prepare(
        `UPDATE zalo_outbox SET status = ?, attempts = ?, updated_at = ?, error_code = ?, last_error = ? WHERE id = ?`,
      )
      .run(status, row.attempts, Date.now(), code ?? null, reason, row.id);
    this.o.logger.warn({ outboxId: row.id, status, code, reason }, `zalo message ${status}`);
    const message: UndeliverableMessage = {
      id: `zalo:${row.group_id ?? row.id}`,
      status,
      userId: row.user_id,
      reference: JSON.parse(row.reference) as Partial<ConversationReference>,
      text: row.text ?? '',
      errorCode: code,
      reason,
    };
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (err) {
        this.o.logger.error({ err }, 'zalo outbox: an onUndeliverable listener failed');
      }
    }
  }
}
