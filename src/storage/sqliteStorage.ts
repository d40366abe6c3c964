import { randomUUID } from 'node:crypto';
import type { Storage, StoreItems } from 'botbuilder';
import { applyMigrations, type Db } from './database.js';

const MIGRATIONS = [
  {
    id: 'bot_state/1',
    sql: `CREATE TABLE bot_state (
      key TEXT PRIMARY KEY,
      etag TEXT NOT NULL,
      value TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
  },
];

export class ETagConflictError extends Error {
  constructor(key: string) {
    super(`Storage: error writing "${key}" due to eTag conflict.`);
    this.name = 'ETagConflictError';
  }
}

/**
 * Bot Framework `Storage` over SQLite, with optimistic concurrency on eTags as MemoryStorage and
 * the Azure stores do: a write whose eTag is neither "*" nor the stored one is refused.
 */
export class SqliteStorage implements Storage {
  private readonly selectOne;
  private readonly upsert;
  private readonly remove;

  constructor(private readonly db: Db) {
    applyMigrations(db, MIGRATIONS);
    this.selectOne = db.prepare<[string], { etag: string; value: string }>(
      'SELECT etag, value FROM bot_state WHERE key = ?',
    );
    this.upsert = db.prepare(
      `INSERT INTO bot_state (key, etag, value, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET etag = excluded.etag, value = excluded.value, updated_at = excluded.updated_at`,
    );
    this.remove = db.prepare('DELETE FROM bot_state WHERE key = ?');
  }

  async read(keys: string[]): Promise<StoreItems> {
    const items: StoreItems = {};
    for (const key of keys) {
      const row = this.selectOne.get(key);
      if (row) items[key] = { ...JSON.parse(row.value), eTag: row.etag };
    }
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const [key, item] of Object.entries(changes)) {
        const { eTag, ...value } = (item ?? {}) as { eTag?: string } & Record<string, unknown>;
        const existing = this.selectOne.get(key);
        if (existing && eTag && eTag !== '*' && eTag !== existing.etag) throw new ETagConflictError(key);
        this.upsert.run(key, randomUUID(), JSON.stringify(value), now);
      }
    })();
  }

  async delete(keys: string[]): Promise<void> {
    this.db.transaction(() => {
      for (const key of keys) this.remove.run(key);
    })();
  }
}
