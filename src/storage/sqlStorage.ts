import { randomUUID } from 'node:crypto';
import type { Storage, StoreItems } from 'botbuilder';
import type { SqlDb, SqlMigration } from './sql/index.js';

/** The bot state table. `bot_state/1` is the id the synchronous SQLite store applied: kept as is. */
export const BOT_STATE_MIGRATIONS: readonly SqlMigration[] = [
  {
    id: 'bot_state/1',
    sqlite: `CREATE TABLE bot_state (
      key TEXT PRIMARY KEY,
      etag TEXT NOT NULL,
      value TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
    postgres: `CREATE TABLE bot_state (
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

const SELECT = 'SELECT etag, value FROM bot_state WHERE key = ?';
const UPSERT = `INSERT INTO bot_state (key, etag, value, updated_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (key) DO UPDATE SET etag = excluded.etag, value = excluded.value, updated_at = excluded.updated_at`;
const UPDATE_IF_ETAG = 'UPDATE bot_state SET etag = ?, value = ?, updated_at = ? WHERE key = ? AND etag = ?';
const INSERT_IF_ABSENT = `INSERT INTO bot_state (key, etag, value, updated_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (key) DO NOTHING`;
const DELETE = 'DELETE FROM bot_state WHERE key = ?';

/**
 * Bot Framework `Storage` over the SQL store (SQLite or PostgreSQL), with the eTag semantics of
 * botbuilder's MemoryStorage, holding across replicas sharing one PostgreSQL:
 *
 * - an item with eTag "*" or none is written unconditionally (last write wins) — one upsert. This is
 *   what `BotState.saveChanges` sends, so the hot path is one statement per key;
 * - an item with another eTag is written only if the stored item still has that eTag: one
 *   conditional `UPDATE … WHERE key = ? AND etag = ?`. When it changes nothing, either the key is
 *   absent (MemoryStorage then writes: `INSERT … ON CONFLICT DO NOTHING`) or another writer — on
 *   this replica or another — got there first: `ETagConflictError`. Being single statements, the
 *   check and the write cannot be separated by another replica's write (no read-then-write).
 *
 * A write of several keys is not atomic as a whole (nor is MemoryStorage's); each key is.
 */
export class SqlStorage implements Storage {
  constructor(private readonly db: SqlDb) {}

  /** Creates the table (at startup, before the first turn). */
  migrate(): Promise<void> {
    return this.db.migrate(BOT_STATE_MIGRATIONS);
  }

  async read(keys: string[]): Promise<StoreItems> {
    const items: StoreItems = {};
    for (const key of keys) {
      const row = await this.db.get<{ etag: string; value: string }>(SELECT, [key]);
      if (row) items[key] = { ...JSON.parse(row.value), eTag: row.etag };
    }
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    const now = new Date().toISOString();
    for (const [key, item] of Object.entries(changes)) {
      const { eTag, ...value } = (item ?? {}) as { eTag?: unknown } & Record<string, unknown>;
      const json = JSON.stringify(value);
      const etag = randomUUID();
      if (typeof eTag !== 'string' || eTag === '' || eTag === '*') {
        await this.db.run(UPSERT, [key, etag, json, now]);
        continue;
      }
      if ((await this.db.run(UPDATE_IF_ETAG, [etag, json, now, key, eTag])).changes === 1) continue;
      if ((await this.db.run(INSERT_IF_ABSENT, [key, etag, json, now])).changes === 1) continue;
      throw new ETagConflictError(key);
    }
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) await this.db.run(DELETE, [key]);
  }
}
