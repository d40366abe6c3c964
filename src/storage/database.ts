import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

export interface Migration {
  /** Unique and never reused, e.g. "bot_state/1". */
  id: string;
  sql: string;
}

/**
 * Opens the embedded SQLite store under `dataDir`.
 *
 * Durability: WAL with synchronous=NORMAL. A transaction is committed once its frames are written
 * to the WAL file (in the OS page cache), so it survives a crash of this process (kill -9, OOM
 * kill, an uncaught exception): test/faults/killDuringForward.test.ts kills the service during a
 * burst of forwarded questions and finds every confirmed one after the restart. What NORMAL does
 * not cover is an OS crash or power loss, which can roll back the last transactions not yet
 * fsync'ed (at the next checkpoint). That is accepted for conversation state, transcripts and
 * caches, which are written on every turn (an fsync each would cost more than it saves), but not
 * for a question a citizen is told was forwarded to the team: those writes go through
 * `SqliteDb.runDurably` (one fsync of the WAL after their commit, on libuv's thread pool, which
 * also makes every earlier commit durable; `durably` below is the synchronous form).
 */
export function openDatabase(dataDir: string, fileName = 'assistant.db'): Db {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, fileName));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL
  )`);
  return db;
}

/**
 * Runs `write` (one or more statements, each committing on its own or within a transaction the
 * caller opens) with synchronous=FULL, so its commit is fsync'ed before this returns: durable
 * across an OS crash or power loss, not only a process crash. The connection's setting is restored
 * afterwards. Safe because better-sqlite3 is synchronous: no other statement can run in between.
 */
export function durably<T>(db: Db, write: () => T): T {
  const previous = db.pragma('synchronous', { simple: true }) as number;
  if (previous >= 2) return write();
  db.pragma('synchronous = FULL');
  try {
    return write();
  } finally {
    db.pragma(`synchronous = ${previous}`);
  }
}

/** Applies, in order and once each, the migrations a repository owns. */
export function applyMigrations(db: Db, migrations: readonly Migration[]): void {
  const applied = db.prepare('SELECT 1 FROM schema_migrations WHERE id = ?');
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  for (const m of migrations) {
    if (applied.get(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.id, new Date().toISOString());
    })();
  }
}

/** True when the store accepts a write (used by /readyz). */
export function isWritable(db: Db): boolean {
  try {
    db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)').run('__probe__', 'x');
    db.prepare('DELETE FROM schema_migrations WHERE id = ?').run('__probe__');
    return true;
  } catch {
    return false;
  }
}
