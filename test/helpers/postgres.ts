import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openSqlDb, type SqlDb } from '../../src/storage/sql/index.js';

/**
 * PostgreSQL for tests. TEST_DATABASE_URL names a server where the test role may create databases
 * (`bash scripts/pg-dev.sh` starts one and prints it). Without it the PostgreSQL cases are skipped with
 * a one-line notice — except in CI with TEST_BACKEND=postgres, where they must run.
 */
export function postgresUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL?.trim();
  return url ? url : undefined;
}

/** True when this run must exercise PostgreSQL (CI=true and TEST_BACKEND=postgres). */
export function postgresRequired(): boolean {
  return process.env.CI === 'true' && process.env.TEST_BACKEND === 'postgres';
}

let noticed = false;

/**
 * Whether the PostgreSQL cases run. Throws when they are required but no URL is set; prints the skip
 * notice once per test file otherwise.
 */
export function postgresAvailable(): boolean {
  if (postgresUrl()) return true;
  if (postgresRequired()) {
    throw new Error(
      'TEST_BACKEND=postgres in CI but TEST_DATABASE_URL is unset (run scripts/pg-dev.sh --env)',
    );
  }
  if (!noticed) {
    noticed = true;
    console.warn('PostgreSQL cases skipped: TEST_DATABASE_URL is unset (bash scripts/pg-dev.sh starts one)');
  }
  return false;
}

export interface TestDatabase {
  /** The URL of a fresh, empty database. */
  url: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = postgresUrl();
  if (!url) throw new Error('TEST_DATABASE_URL is unset');
  const client = new pg.Client({ connectionString: url, application_name: 'tlcds-test-admin' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates database t_<random> on the TEST_DATABASE_URL server, isolated from every other test. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(postgresUrl()!);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** A fresh, empty store on one backend, and how to throw it away. */
export interface SqlBackend {
  name: 'sqlite' | 'postgres';
  open(): Promise<{ db: SqlDb; cleanup(): Promise<void> }>;
}

/**
 * The backends a repository test runs on: SQLite in a temporary DATA_DIR, and PostgreSQL in a fresh
 * database when one is available (see `postgresAvailable`).
 */
export function sqlBackends(tempPrefix: string): SqlBackend[] {
  const backends: SqlBackend[] = [
    {
      name: 'sqlite',
      async open() {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), tempPrefix));
        const db = await openSqlDb({ dataDir });
        return {
          db,
          cleanup: async () => {
            await db.close();
            fs.rmSync(dataDir, { recursive: true, force: true });
          },
        };
      },
    },
  ];
  if (postgresAvailable()) {
    backends.push({
      name: 'postgres',
      async open() {
        const database = await createTestDatabase();
        const db = await openSqlDb({ dataDir: '/nonexistent', databaseUrl: database.url });
        return {
          db,
          cleanup: async () => {
            await db.close();
            await database.drop();
          },
        };
      },
    });
  }
  return backends;
}
