import { randomBytes } from 'node:crypto';
import type { SqlDb, SqlMigration } from './sql/index.js';

/** `settings/1` is the id the synchronous SQLite store applied: kept as is. */
export const SETTINGS_MIGRATIONS: readonly SqlMigration[] = [
  {
    id: 'settings/1',
    sqlite: `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)`,
    postgres: `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)`,
  },
];

/** Small persisted key/value settings, e.g. secrets generated on first start. */
export class SettingsStore {
  constructor(private readonly db: SqlDb) {}

  migrate(): Promise<void> {
    return this.db.migrate(SETTINGS_MIGRATIONS);
  }

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
    return row?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db.run(
      `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [key, value, new Date().toISOString()],
    );
  }

  /**
   * Returns the stored secret, generating and storing a random one the first time. Replicas
   * starting together each propose a value; the first insert wins (`ON CONFLICT DO NOTHING`) and
   * every one of them returns the stored value, so they all end with the same secret.
   */
  async secret(key: string, bytes = 32): Promise<string> {
    const existing = await this.get(key);
    if (existing) return existing;
    await this.db.run(
      'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING',
      [key, randomBytes(bytes).toString('base64url'), new Date().toISOString()],
    );
    const stored = await this.get(key);
    if (!stored) throw new Error(`settings: ${key} could not be stored`);
    return stored;
  }
}
