import { randomBytes } from 'node:crypto';
import { applyMigrations, type Db } from './database.js';

const MIGRATIONS = [
  {
    id: 'settings/1',
    sql: `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)`,
  },
];

/** Small persisted key/value settings, e.g. secrets generated on first start. */
export class SettingsStore {
  constructor(private readonly db: Db) {
    applyMigrations(db, MIGRATIONS);
  }

  get(key: string): string | undefined {
    const row = this.db
      .prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?')
      .get(key);
    return row?.value;
  }

  set(key: string, value: string): void {
    this.db
      .prepare(
        `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      )
      .run(key, value, new Date().toISOString());
  }

  /** Returns the stored secret, generating and storing a random one the first time. */
  secret(key: string, bytes = 32): string {
    const existing = this.get(key);
    if (existing) return existing;
    const value = randomBytes(bytes).toString('base64url');
    this.db
      .prepare('INSERT OR IGNORE INTO settings (key, value, updated_at) VALUES (?, ?, ?)')
      .run(key, value, new Date().toISOString());
    return this.get(key)!;
  }
}
