import type { SqlLogger } from './logger.js';
import { PgDb } from './pgDb.js';
import type { SqlDb } from './sqlDb.js';
import { openSqliteDb } from './sqliteDb.js';

export * from './sqlDb.js';
export type { SqlLogger } from './logger.js';
export { PgDb, type PgDbOptions } from './pgDb.js';
export { SqliteDb, openSqliteDb, type SqliteDbOptions } from './sqliteDb.js';
export { toPgPlaceholders } from './placeholders.js';

export interface OpenSqlDbOptions {
  /** Where the embedded SQLite store lives (`assistant.db`), used when databaseUrl is empty. */
  dataDir: string;
  /** A postgres:// URL: PostgreSQL becomes the (shared) store. */
  databaseUrl?: string;
  /** Connections of PostgreSQL's query pool (default 10). */
  poolMax?: number;
  logger?: SqlLogger;
}

/**
 * Opens the store: PostgreSQL when databaseUrl is set, else SQLite under dataDir. With PostgreSQL the
 * connection is checked and schema_migrations created before this resolves (a wrong URL fails at
 * startup, not at the first request).
 */
export async function openSqlDb(options: OpenSqlDbOptions): Promise<SqlDb> {
  if (options.databaseUrl) {
    const db = new PgDb({ url: options.databaseUrl, poolMax: options.poolMax, logger: options.logger });
    try {
      await db.migrate([]);
    } catch (err) {
      await db.close().catch(() => {});
      throw err;
    }
    return db;
  }
  return openSqliteDb(options.dataDir, { logger: options.logger });
}
