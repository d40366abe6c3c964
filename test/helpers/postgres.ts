import { randomBytes } from 'node:crypto';
import pg from 'pg';

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
