import type { SqlDb, SqlMigration } from '../../storage/sql/index.js';

export const INBOUND_MIGRATIONS: readonly SqlMigration[] = [
  {
    id: 'zalo_inbound/1',
    sqlite: `CREATE TABLE zalo_inbound (
      event_key TEXT PRIMARY KEY,
      received_at INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
      payload TEXT
    );
    CREATE INDEX zalo_inbound_status ON zalo_inbound (status, received_at);`,
    postgres: `CREATE TABLE zalo_inbound (
      event_key TEXT PRIMARY KEY,
      received_at BIGINT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
      payload TEXT
    );
    CREATE INDEX zalo_inbound_status ON zalo_inbound (status, received_at);`,
  },
  {
    // Which replica processes a pending event, until when (a replica that died lets another one
    // recover the event once the lease has expired).
    id: 'zalo_inbound/2',
    sqlite: `ALTER TABLE zalo_inbound ADD COLUMN claimed_by TEXT;
    ALTER TABLE zalo_inbound ADD COLUMN lease_until INTEGER;`,
    postgres: `ALTER TABLE zalo_inbound ADD COLUMN claimed_by TEXT;
    ALTER TABLE zalo_inbound ADD COLUMN lease_until BIGINT;`,
  },
];

export interface PendingEvent {
  key: string;
  receivedAt: number;
  payload: unknown;
}

/**
 * The persisted set of webhook events already received (by `message.msg_id`, else event name +
 * timestamp + user), shared by every replica, so a redelivery (even after a restart, even to another
 * replica) is ignored: `accept` is one `INSERT … ON CONFLICT DO NOTHING` and only its winner processes
 * the event. An event is written here before the webhook answers 200, with its payload and a lease of
 * the accepting replica, until it has been processed: an event accepted just before a crash is
 * recovered later by one replica (`claimPending` claims it with a conditional UPDATE). The payload
 * (which may hold the citizen's text) is erased once processed; keys are kept for `retentionMs`.
 */
export class InboundLog {
  constructor(
    private readonly sql: SqlDb,
    /** This replica's id, written as the claimant of the events it processes. */
    private readonly instanceId: string,
    /** How long an event claimed by a replica stays its own (then another replica may recover it). */
    private readonly leaseMs: number,
  ) {}

  migrate(): Promise<void> {
    return this.sql.migrate(INBOUND_MIGRATIONS);
  }

  /** Records a new event, claimed by this replica; false when its key was already seen (a redelivery). */
  async accept(key: string, payload: unknown, now = Date.now()): Promise<boolean> {
    const r = await this.sql.run(
      `INSERT INTO zalo_inbound (event_key, received_at, status, payload, claimed_by, lease_until)
       VALUES (?, ?, 'pending', ?, ?, ?)
       ON CONFLICT (event_key) DO NOTHING`,
      [key, now, JSON.stringify(payload), this.instanceId, now + this.leaseMs],
    );
    return r.changes === 1;
  }

  async has(key: string): Promise<boolean> {
    return Boolean(await this.sql.get('SELECT 1 AS one FROM zalo_inbound WHERE event_key = ?', [key]));
  }

  /** Marks an event processed and erases its payload. */
  async done(key: string): Promise<void> {
    await this.sql.run(
      `UPDATE zalo_inbound SET status = 'done', payload = NULL, claimed_by = NULL, lease_until = NULL
       WHERE event_key = ?`,
      [key],
    );
  }

  /**
   * Claims, oldest first, the events accepted but not processed whose lease has expired or that no
   * replica holds (the process stopped or died first). Each is claimed with a conditional UPDATE, so
   * of replicas recovering at once exactly one gets it.
   */
  async claimPending(now = Date.now(), limit = 500): Promise<PendingEvent[]> {
    const rows = await this.sql.all<{ event_key: string; received_at: number }>(
      `SELECT event_key, received_at FROM zalo_inbound
       WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < ?)
       ORDER BY received_at, event_key LIMIT ?`,
      [now, limit],
    );
    const out: PendingEvent[] = [];
    for (const r of rows) {
      const claimed = await this.sql.get<{ payload: string | null }>(
        `UPDATE zalo_inbound SET claimed_by = ?, lease_until = ?
         WHERE event_key = ? AND status = 'pending' AND (lease_until IS NULL OR lease_until < ?)
         RETURNING payload`,
        [this.instanceId, now + this.leaseMs, r.event_key, now],
      );
      if (!claimed) continue; // another replica was first
      out.push({
        key: r.event_key,
        receivedAt: r.received_at,
        payload: claimed.payload ? (JSON.parse(claimed.payload) as unknown) : undefined,
      });
    }
    return out;
  }

  /**
   * Gives up this replica's claims on events it has not processed (a stop): the next start, or
   * another replica, recovers them at once instead of after the lease. `everyone` releases all claims
   * (SQLite at start: one process serves the store, so any claim is a previous run's).
   */
  async release(o: { everyone?: boolean } = {}): Promise<number> {
    const r = o.everyone
      ? await this.sql.run(
          `UPDATE zalo_inbound SET claimed_by = NULL, lease_until = NULL
           WHERE status = 'pending' AND claimed_by IS NOT NULL`,
        )
      : await this.sql.run(
          `UPDATE zalo_inbound SET claimed_by = NULL, lease_until = NULL
           WHERE status = 'pending' AND claimed_by = ?`,
          [this.instanceId],
        );
    return r.changes;
  }

  /** Forgets keys older than `retentionMs` (processed or not). Returns how many were removed. */
  async cleanup(retentionMs: number, now = Date.now()): Promise<number> {
    return (await this.sql.run('DELETE FROM zalo_inbound WHERE received_at < ?', [now - retentionMs]))
      .changes;
  }
}
