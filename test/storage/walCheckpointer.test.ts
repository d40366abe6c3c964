import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import { WalCheckpointer } from '../../src/storage/walCheckpointer.js';
import { capturingLogger } from '../helpers/knowledge.js';

/**
 * The store's WAL checkpoints run on a worker thread: the WAL stays bounded although the service's
 * connection no longer checkpoints, and the connection checkpoints itself again when the thread is
 * gone.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** 4 KB pages: one row of this size fills one page and a bit (an overflow chain). */
const ROW_BYTES = 3500;

function setup(): { db: Db; dir: string; logs: string[]; checkpointer: WalCheckpointer } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-checkpointer-'));
  const db = openDatabase(dir);
  db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB)');
  const { logger, lines: logs } = capturingLogger('warn');
  const checkpointer = new WalCheckpointer({ db, logger, intervalMs: 20, restartFrames: 300 });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => {
    if (db.open) db.close();
  });
  cleanups.push(() => checkpointer.stop());
  return { db, dir, logs, checkpointer };
}

/** Commits `count` rows, one transaction each, as the service commits one turn's state at a time. */
function commitRows(db: Db, count: number): void {
  const insert = db.prepare('INSERT INTO rows (body) VALUES (?)');
  for (let i = 0; i < count; i++) insert.run(Buffer.alloc(ROW_BYTES, i % 251));
}

const ROUNDS = 6;
/** A round is over 1,000 pages of WAL (three per commit), in bursts with pauses between, as turns come. */
const ROWS_PER_ROUND = 400;

async function commitRounds(db: Db, rounds: number): Promise<void> {
  for (let burst = 0; burst < (rounds * ROWS_PER_ROUND) / 50; burst++) {
    commitRows(db, 50);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const walBytes = (dir: string) => fs.statSync(path.join(dir, 'assistant.db-wal')).size;
const dbBytes = (dir: string) => fs.statSync(path.join(dir, 'assistant.db')).size;
const autocheckpoint = (db: Db) => db.pragma('wal_autocheckpoint', { simple: true });

describe('WalCheckpointer', () => {
  it('keeps the WAL bounded while the service connection commits without checkpointing', async () => {
    // The control: with no checkpoints at all, the WAL holds every round.
    const control = setup();
    control.db.pragma('wal_autocheckpoint = 0');
    await commitRounds(control.db, 1);
    const oneRound = walBytes(control.dir);
    await commitRounds(control.db, ROUNDS - 1);
    expect(walBytes(control.dir)).toBeGreaterThan((ROUNDS - 0.5) * oneRound);

    const { db, dir, checkpointer } = setup();
    checkpointer.start();
    await until(() => checkpointer.active, 'the thread has opened the file');
    expect(autocheckpoint(db)).toBe(0);
    await commitRounds(db, ROUNDS);
    // The thread copied the committed pages into the database file and had the WAL start over
    // each time it held 300 pages: the file never grew to much more than a round.
    await until(() => checkpointer.restarts >= ROUNDS, 'the WAL has started over once a round');
    expect(walBytes(dir)).toBeLessThan(2 * oneRound);
    expect(dbBytes(dir)).toBeGreaterThan((ROUNDS - 1) * ROWS_PER_ROUND * ROW_BYTES);
    expect(db.prepare('SELECT count(*) AS n FROM rows').get()).toEqual({ n: ROUNDS * ROWS_PER_ROUND });
  });

  it('hands checkpoints back to the connection when the thread exits, with a warning', async () => {
    const { db, logs, checkpointer } = setup();
    checkpointer.start();
    await until(() => checkpointer.active, 'the thread has opened the file');
    await (checkpointer as unknown as { worker: Worker }).worker.terminate();
    await until(() => autocheckpoint(db) === 1000, 'the connection checkpoints itself again');
    expect(checkpointer.active).toBe(false);
    expect(logs.join('')).toMatch(/checkpoint thread exited/);
  });

  it('leaves the connection checkpointing itself when the thread cannot open the file', async () => {
    const { db, dir, logs, checkpointer } = setup();
    // The service's connection keeps its open file; the thread finds none under the name.
    fs.renameSync(path.join(dir, 'assistant.db'), path.join(dir, 'moved.db'));
    checkpointer.start();
    await until(() => logs.join('').includes('checkpoint thread'), 'the failure is logged');
    expect(autocheckpoint(db)).toBe(1000);
    expect(checkpointer.active).toBe(false);
    commitRows(db, 10);
    expect(db.prepare('SELECT count(*) AS n FROM rows').get()).toEqual({ n: 10 });
  });

  it('stops when asked, and starts no thread for an in-memory database', async () => {
    const { db, checkpointer } = setup();
    checkpointer.start();
    await until(() => checkpointer.active, 'the thread has opened the file');
    await checkpointer.stop();
    expect(checkpointer.active).toBe(false);
    expect(autocheckpoint(db)).toBe(1000);

    const inMemory = new Database(':memory:');
    cleanups.push(() => void inMemory.close());
    const memory = new WalCheckpointer({
      db: inMemory,
      logger: createLogger({ level: 'silent', pretty: false }),
    });
    memory.start();
    expect(memory.active).toBe(false);
  });
});
