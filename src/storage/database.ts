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
 * WAL with synchronous=NORMAL: a committed transaction survives a crash of this process (kill -9);
 * only a power loss of the whole machine can lose the last transactions.
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
