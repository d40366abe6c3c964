import { applyMigrations, type Db } from '../../storage/database.js';

const MIGRATIONS = [
  {
    id: 'zalo_inbound/1',
    sql: `CREATE TABLE zalo_inbound (
      event_key TEXT PRIMARY KEY,
      received_at INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
      payload TEXT
    );
    CREATE INDEX zalo_inbound_status ON zalo_inbound (status, received_at);`,
  },
];

/**
 * The persisted set of webhook events already received (by `message.msg_id`, else event name +
 * timestamp + user), so a redelivery (even after a restart) is ignored. An event is written here
 * before the webhook answers 200, with its payload until it has been processed: an event accepted
 * just before a crash is processed on the next start instead of being lost. The payload (which may
 * hold the citizen's text) is erased once processed; keys are kept for `retentionMs`.
 */
export class InboundLog {
  constructor(private readonly db: Db) {
    applyMigrations(db, MIGRATIONS);
  }

  /** Records a new event; false when its key was already seen (a redelivery). */
  accept(key: string, payload: unknown, now = Date.now()): boolean {
    const r = this.db
      .prepare(
        `INSERT INTO zalo_inbound (event_key, received_at, status, payload) VALUES (?, ?, 'pending', ?)
         ON CONFLICT (event_key) DO NOTHING`,
      )
      .run(key, now, JSON.stringify(payload));
    return r.changes === 1;
  }

  has(key: string): boolean {
    return Boolean(this.db.prepare('SELECT 1 FROM zalo_inbound WHERE event_key = ?').get(key));
  }

  /** Marks an event processed and erases its payload. */
  done(key: string): void {
    this.db.prepare(`UPDATE zalo_inbound SET status = 'done', payload = NULL WHERE event_key = ?`).run(key);
  }

  /** Events accepted but not processed (the process stopped first), oldest first. */
  pending(): { key: string; receivedAt: number; payload: unknown }[] {
    const rows = this.db
      .prepare(
        `SELECT event_key, received_at, payload FROM zalo_inbound WHERE status = 'pending' ORDER BY received_at, rowid`,
      )
      .all() as { event_key: string; received_at: number; payload: string | null }[];
    return rows.map((r) => ({
      key: r.event_key,
      receivedAt: r.received_at,
      payload: r.payload ? (JSON.parse(r.payload) as unknown) : undefined,
    }));
  }

  /** Forgets keys older than `retentionMs` (processed or not). Returns how many were removed. */
  cleanup(retentionMs: number, now = Date.now()): number {
    return this.db.prepare('DELETE FROM zalo_inbound WHERE received_at < ?').run(now - retentionMs).changes;
  }
}
