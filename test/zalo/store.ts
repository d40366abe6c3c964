import { openSqlDb, type SqlDb } from '../../src/storage/sql/index.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { onPostgres, tempDataDir } from '../helpers/testApp.js';

/**
 * A store for the Zalo tests that build the channel (or its parts) themselves: a fresh PostgreSQL
 * database when TEST_BACKEND=postgres, else a SQLite file in a new directory. `open()` may be called
 * again (a restart) and returns another handle on the same store; `close()` closes every handle and
 * drops the PostgreSQL database.
 */
export interface TestStore {
  readonly backend: 'sqlite' | 'postgres';
  open(): Promise<SqlDb>;
  close(): Promise<void>;
}

export async function createTestStore(prefix = 'zalo-'): Promise<TestStore> {
  const opened: SqlDb[] = [];
  const database = onPostgres ? await createTestDatabase() : undefined;
  const dataDir = tempDataDir(prefix);
  return {
    backend: database ? 'postgres' : 'sqlite',
    async open() {
      const sql = await openSqlDb({ dataDir, databaseUrl: database?.url, poolMax: 4 });
      opened.push(sql);
      return sql;
    },
    async close() {
      for (const sql of opened.splice(0)) await sql.close().catch(() => undefined);
      await database?.drop();
    },
  };
}
