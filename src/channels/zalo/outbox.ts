import type { ConversationReference } from 'botbuilder';
import type { Logger } from '../../logger.js';
import type { SqlDb, SqlMigration } from '../../storage/sql/index.js';
import type { ZaloPart } from './messages.js';

export const OUTBOX_MIGRATIONS: readonly SqlMigration[] = [
  {
    id: 'zalo_outbox/1',
    sqlite: `CREATE TABLE zalo_outbox (
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
    postgres: `CREATE TABLE zalo_outbox (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      group_id BIGINT,
      user_id TEXT NOT NULL,
      text TEXT,
      buttons TEXT,
      reference TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'undeliverable', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at BIGINT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      error_code INTEGER,
      last_error TEXT,
      zalo_message_id TEXT
    );
    CREATE INDEX zalo_outbox_pending ON zalo_outbox (status, user_id, id);
    CREATE INDEX zalo_outbox_group ON zalo_outbox (group_id);`,
  },
  {
    // The replica sending a row and until when (its lease), and an unfollow that arrived while the row
    // was being sent (settled after that attempt unless it delivered the message).
    id: 'zalo_outbox/2',
    sqlite: `ALTER TABLE zalo_outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE zalo_outbox ADD COLUMN lease_until INTEGER;
    ALTER TABLE zalo_outbox ADD COLUMN cancel_reason TEXT;`,
    postgres: `ALTER TABLE zalo_outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE zalo_outbox ADD COLUMN lease_until BIGINT;
    ALTER TABLE zalo_outbox ADD COLUMN cancel_reason TEXT;`,
  },
];

/** Notified after an enqueue: a hint for the other replicas' workers to look at the queue. */
export const OUTBOX_CHANNEL = 'zalo_outbox';

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
  sql: SqlDb;
  /** This replica's id, written as the claimant of the rows it sends. */
  instanceId: string;
  /**
   * How long a claimed row stays this replica's: longer than any attempt can take (token refresh and
   * two sends with their timeouts). Past it, another replica may send the row.
   */
  leaseMs: number;
  /** How often the queue is read when nothing else wakes the worker (other replicas' rows). */
  pollIntervalMs: number;
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
  claimed_by: string | null;
  lease_until: number | null;
  cancel_reason: string | null;
}

/**
 * The persisted queue of messages to Zalo users, shared by every replica. Enqueueing is one short
 * transaction, so a bot turn never waits for Zalo. Each replica's worker sends the oldest pending
 * message of each user, several users in parallel; a failure that may pass (rate limit -32, timeout,
 * 5xx, network) is retried with exponential backoff, persisted, so nothing is lost across restarts.
 * Zalo's refusals for a user (-230/-232…) mark the message `undeliverable` at once; listeners
 * registered with `onUndeliverable` are told.
 *
 * Across replicas: a worker claims a row before sending it with one conditional UPDATE (its id as
 * `claimed_by`, a lease `lease_until`; `… WHERE id = ? AND status = 'pending' AND the lease is free
 * AND no earlier row of the user is pending … RETURNING *`), so exactly one replica gets it. Only the
 * head of a user's queue can be claimed and a claimed head keeps the user's later rows waiting, so a
 * user's messages go out one at a time, in order. The row is marked sent (or its retry scheduled) in
 * the same statement that clears the claim. A replica that dies while sending leaves its lease,
 * which another replica takes over once it has expired. An enqueue notifies the other replicas; they
 * also poll every `pollIntervalMs`.
 */
export class Outbox {
  /** What this replica's worker did since it started (logs and tests). */
  readonly stats = { claimed: 0, sent: 0 };
  /** User id → the row this replica is sending to that user. */
  private readonly inFlight = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly listeners = new Set<(m: UndeliverableMessage) => void>();
  private timer?: NodeJS.Timeout;
  private pumpScheduled = false;
  private pumping = false;
  private pumpAgain = false;
  private started = false;
  private unlisten?: () => Promise<void>;

  constructor(private readonly o: OutboxOptions) {}

  migrate(): Promise<void> {
    return this.o.sql.migrate(OUTBOX_MIGRATIONS);
  }

  /** Queues the parts of one message; returns its id (for `statusOf`). */
  async enqueue(
    userId: string,
    parts: readonly ZaloPart[],
    reference: Partial<ConversationReference>,
  ): Promise<string> {
    if (!parts.length) throw new Error('nothing to send');
    const now = Date.now();
    const ref = JSON.stringify(reference);
    const groupId = await this.o.sql.transaction(async (tx) => {
      let first: number | undefined;
      for (const p of parts) {
        const buttons = p.buttons?.length ? JSON.stringify(p.buttons) : null;
        const row = await tx.get<{ id: number }>(
          `INSERT INTO zalo_outbox (group_id, user_id, text, buttons, reference, status, next_attempt_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id`,
          [first ?? null, userId, p.text, buttons, ref, now, now, now],
        );
        if (first === undefined) {
          first = Number(row!.id);
          await tx.run('UPDATE zalo_outbox SET group_id = ? WHERE id = ?', [first, first]);
        }
      }
      await tx.notify(OUTBOX_CHANNEL, '');
      return first!;
    });
    this.kick();
    return `zalo:${groupId}`;
  }

  /** The delivery status of a message by the id `enqueue` (or `sendActivity`) returned. */
  async statusOf(id: string): Promise<OutboxStatus | undefined> {
    const m = /^zalo:(\d+)$/.exec(id);
    if (!m) return undefined;
    const rows = await this.o.sql.all<Row>('SELECT * FROM zalo_outbox WHERE group_id = ? ORDER BY id', [
      Number(m[1]),
    ]);
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

  /**
   * Marks a user's pending messages undeliverable (the user unfollowed the OA). A message being sent
   * (by any replica) is settled after that attempt, unless the attempt delivers it.
   */
  async cancelPending(userId: string, reason: string): Promise<number> {
    const rows = await this.o.sql.all<Row>(
      `SELECT * FROM zalo_outbox WHERE user_id = ? AND status = 'pending' ORDER BY id`,
      [userId],
    );
    let n = 0;
    for (const r of rows) {
      const now = Date.now();
      const held = r.lease_until !== null && r.lease_until >= now;
      if (!held && (await this.finish(r, 'undeliverable', undefined, reason, { unclaimedAt: now }))) {
        n += 1;
        continue;
      }
      await this.o.sql.run(`UPDATE zalo_outbox SET cancel_reason = ? WHERE id = ? AND status = 'pending'`, [
        reason,
        r.id,
      ]);
    }
    return n;
  }

  /** Counts by status (for logs and tests). */
  async counts(): Promise<Record<OutboxItemStatus, number>> {
    const out: Record<OutboxItemStatus, number> = { pending: 0, sent: 0, undeliverable: 0, failed: 0 };
    const rows = await this.o.sql.all<{ status: OutboxItemStatus; n: number }>(
      'SELECT status, COUNT(*) AS n FROM zalo_outbox GROUP BY status',
    );
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }

  /** Deletes settled messages older than `retentionMs`. */
  async cleanup(retentionMs: number): Promise<number> {
    const r = await this.o.sql.run(`DELETE FROM zalo_outbox WHERE status <> 'pending' AND updated_at < ?`, [
      Date.now() - retentionMs,
    ]);
    return r.changes;
  }

  /**
   * Gives up every claim (SQLite at start: one process serves the store, so a claim left is a previous
   * run's, whose send was cut short). Never on PostgreSQL, where the claims may be other replicas'.
   */
  async releaseAllClaims(): Promise<number> {
    const r = await this.o.sql.run(
      `UPDATE zalo_outbox SET claimed_by = NULL, lease_until = NULL
       WHERE status = 'pending' AND claimed_by IS NOT NULL`,
    );
    return r.changes;
  }

  async start(): Promise<void> {
    this.started = true;
    try {
      this.unlisten = await this.o.sql.listen(OUTBOX_CHANNEL, () => this.kick(), {
        onReconnect: () => this.kick(),
      });
    } catch (err) {
      this.o.logger.warn({ err }, 'zalo outbox: cannot listen for other replicas; polling only');
    }
    this.kick();
  }

  /** Stops the worker and waits up to `waitMs` for sends in flight. */
  async stop(waitMs: number): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    await unlisten?.().catch(() => undefined);
    if (this.running.size) {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.running]),
        new Promise((r) => (timeout = setTimeout(r, waitMs))),
      ]);
      clearTimeout(timeout);
    }
  }

  /** Runs the worker soon (after an enqueue, a send, a notification or a timer). */
  kick(): void {
    if (!this.started || this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (!this.started) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.pumpOnce();
      } while (this.pumpAgain && this.started);
    } finally {
      this.pumping = false;
    }
  }

  private async pumpOnce(): Promise<void> {
    let heads: Row[];
    try {
      heads = await this.o.sql.all<Row>(
        `SELECT o.* FROM zalo_outbox o
         WHERE o.status = 'pending' AND NOT EXISTS (
           SELECT 1 FROM zalo_outbox p WHERE p.user_id = o.user_id AND p.status = 'pending' AND p.id < o.id)
         ORDER BY o.next_attempt_at, o.id LIMIT 1000`,
      );
    } catch (err) {
      if (!this.started) return;
      this.o.logger.error({ err }, 'zalo outbox: cannot read the queue');
      this.schedule(5000);
      return;
    }
    let nextAt = Date.now() + this.o.pollIntervalMs;
    for (const head of heads) {
      if (!this.started) return;
      if (this.inFlight.has(head.user_id)) continue;
      const now = Date.now();
      // Being sent by another replica: look again when its lease expires (it normally ends sooner).
      const readyAt = Math.max(head.next_attempt_at, head.lease_until === null ? 0 : head.lease_until + 1);
      if (readyAt > now) {
        nextAt = Math.min(nextAt, readyAt);
        continue;
      }
      if (this.running.size >= this.o.concurrency) break;
      this.inFlight.set(head.user_id, head.id);
      let row: Row | undefined;
      try {
        row = await this.claim(head.id, now);
      } catch (err) {
        this.o.logger.error({ err, outboxId: head.id }, 'zalo outbox: cannot claim a message');
      }
      if (!row) {
        this.inFlight.delete(head.user_id); // another replica was first
        continue;
      }
      const claimed = row;
      this.stats.claimed += 1;
      const work = this.attempt(claimed)
        .catch((err: unknown) =>
          this.o.logger.error({ err, outboxId: claimed.id }, 'zalo outbox: attempt failed'),
        )
        .finally(() => {
          this.inFlight.delete(claimed.user_id);
          this.running.delete(work);
          this.kick();
        });
      this.running.add(work);
    }
    if (this.started) this.schedule(nextAt - Date.now());
  }

  /**
   * Claims one row for this replica: pending, due, its lease free (never claimed, released, or
   * expired), and the head of its user's queue. Undefined when another replica was first.
   */
  private claim(id: number, now: number): Promise<Row | undefined> {
    return this.o.sql.get<Row>(
      `UPDATE zalo_outbox SET claimed_by = ?, lease_until = ?
       WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?
         AND (lease_until IS NULL OR lease_until < ?)
         AND NOT EXISTS (
           SELECT 1 FROM zalo_outbox p
           WHERE p.user_id = zalo_outbox.user_id AND p.status = 'pending' AND p.id < zalo_outbox.id)
       RETURNING *`,
      [this.o.instanceId, now + this.o.leaseMs, id, now, now],
    );
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
    if (row.cancel_reason !== null) {
      // The user unfollowed while another attempt was under way.
      await this.finish(row, 'undeliverable', undefined, row.cancel_reason);
      return;
    }
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
    const current = await this.o.sql.get<Pick<Row, 'status' | 'cancel_reason' | 'claimed_by'>>(
      'SELECT status, cancel_reason, claimed_by FROM zalo_outbox WHERE id = ?',
      [row.id],
    );
    if (!current || current.status !== 'pending') return;
    const now = Date.now();
    const attempts = row.attempts + 1;
    const log = this.o.logger.child({ outboxId: row.id, attempts });
    if (current.claimed_by !== this.o.instanceId) {
      log.warn('zalo outbox: the lease expired during the attempt; another replica may have taken it over');
    }
    if (current.cancel_reason !== null && outcome.result !== 'sent') {
      await this.finish({ ...row, attempts }, 'undeliverable', undefined, current.cancel_reason);
      return;
    }
    switch (outcome.result) {
      case 'sent':
        // Marked sent in the statement that ends the claim: no other replica can send it again.
        // The text is not kept once delivered: the transcript holds the redacted conversation.
        await this.o.sql.run(
          `UPDATE zalo_outbox SET status = 'sent', text = NULL, buttons = NULL, attempts = ?, updated_at = ?,
           zalo_message_id = ?, claimed_by = NULL, lease_until = NULL, cancel_reason = NULL
           WHERE id = ? AND status = 'pending'`,
          [attempts, now, outcome.messageId ?? null, row.id],
        );
        this.stats.sent += 1;
        if (row.attempts > 0) log.info('zalo message sent after retries');
        return;
      case 'without_buttons':
        log.warn(
          { code: outcome.code, error: outcome.error },
          'zalo refused the button template; sending text only',
        );
        await this.o.sql.run(
          `UPDATE zalo_outbox SET buttons = NULL, attempts = ?, updated_at = ?, claimed_by = NULL, lease_until = NULL
           WHERE id = ? AND status = 'pending' AND claimed_by = ?`,
          [attempts, now, row.id, this.o.instanceId],
        );
        return;
      case 'undeliverable':
      case 'failed':
        await this.finish({ ...row, attempts }, outcome.result, outcome.code, outcome.error);
        return;
      case 'retry': {
        if (now - row.created_at >= this.o.giveUpAfterMs) {
          await this.finish(
            { ...row, attempts },
            'failed',
            outcome.code,
            `gave up after ${attempts} attempts: ${outcome.error}`,
          );
          return;
        }
        const delay = Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** Math.min(row.attempts, 30));
        const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
        await this.o.sql.run(
          `UPDATE zalo_outbox SET attempts = ?, next_attempt_at = ?, updated_at = ?, error_code = ?, last_error = ?,
           claimed_by = NULL, lease_until = NULL
           WHERE id = ? AND status = 'pending' AND claimed_by = ?`,
          [attempts, now + jittered, now, outcome.code ?? null, outcome.error, row.id, this.o.instanceId],
        );
        (attempts === 1 || attempts % 10 === 0 ? log.warn.bind(log) : log.debug.bind(log))(
          { code: outcome.code, error: outcome.error, retryInMs: jittered },
          'zalo send failed; will retry',
        );
        return;
      }
    }
  }

  /**
   * Settles a pending row as undeliverable or failed and tells the listeners; false when it was no
   * longer pending (settled elsewhere) or, with `unclaimedAt`, when a replica holds its lease.
   */
  private async finish(
    row: Row,
    status: 'undeliverable' | 'failed',
    code: number | undefined,
    reason: string,
    o: { unclaimedAt?: number } = {},
  ): Promise<boolean> {
    const params: unknown[] = [status, row.attempts, Date.now(), code ?? null, reason, row.id];
    if (o.unclaimedAt !== undefined) params.push(o.unclaimedAt);
    const { changes } = await this.o.sql.run(
      `UPDATE zalo_outbox SET status = ?, attempts = ?, updated_at = ?, error_code = ?, last_error = ?,
       claimed_by = NULL, lease_until = NULL
       WHERE id = ? AND status = 'pending'${
         o.unclaimedAt !== undefined ? ' AND (lease_until IS NULL OR lease_until < ?)' : ''
       }`,
      params,
    );
    if (changes === 0) return false;
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
    return true;
  }
}
