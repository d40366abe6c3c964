import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './postgres.js';

/** True when this run puts the apps' store in PostgreSQL (TEST_BACKEND=postgres, see .ci/run). */
export const onPostgres = process.env.TEST_BACKEND === 'postgres' && postgresAvailable();

export const KNOWLEDGE_DIR = path.resolve('knowledge');

export function tempDataDir(prefix = 'tlcds-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface RunningApp {
  app: App;
  config: Config;
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts the real app on an ephemeral loopback port with its own DATA_DIR. */
export async function startApp(
  env: Record<string, string> = {},
  options: { loadKnowledge?: boolean } = {},
): Promise<RunningApp> {
  // On PostgreSQL every app gets a fresh database, unless the test shares one (DATABASE_URL given).
  const database: TestDatabase | undefined =
    onPostgres && env.DATABASE_URL === undefined ? await createTestDatabase() : undefined;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    SQL_CHECK_TRANSACTIONS: '1',
    KNOWLEDGE_DIR,
    DATA_DIR: tempDataDir(),
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const logger = createLogger({ level: config.logLevel, pretty: false });
  const app = createApp(config, logger);
  const port = await app.listen();
  if (options.loadKnowledge !== false) await app.loadKnowledge();
  return {
    app,
    config,
    port,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await app.stop();
      await database?.drop();
    },
  };
}

/** `startApp` for a test file: every app started through it is stopped after each test. */
export function appsStoppedAfterEach(): typeof startApp {
  const running: RunningApp[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) await r.stop().catch(() => undefined);
  });
  return async (...args) => {
    const r = await startApp(...args);
    running.push(r);
    return r;
  };
}
