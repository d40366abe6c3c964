/**
 * The checkpoint thread's entry (see `walCheckpointer.ts`): opens the service's SQLite file with a
 * second connection and, every `intervalMs`, copies the WAL's committed pages into the database
 * file with a PASSIVE checkpoint, which never blocks the service's reads and writes (and does
 * nothing when there is nothing new). Once the WAL holds `restartFrames` pages, a RESTART
 * checkpoint follows: it copies the few pages committed meanwhile, holding off writes for that
 * long, so that the next write starts the WAL over instead of appending to it.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { CheckpointReply, CheckpointRequest, CheckpointSettings } from './checkpointProtocol.js';

const port = parentPort;
if (!port) throw new Error('checkpointThread.ts runs only as a worker thread');
const { file, intervalMs, restartFrames } = workerData as CheckpointSettings;
const reply = (message: CheckpointReply) => port.postMessage(message);

/** A row of `PRAGMA wal_checkpoint`: busy, pages in the WAL, pages of it in the database file. */
interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

const db = new Database(file, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
// How long a RESTART waits for the service's write in progress; past it, the next tick tries again.
db.pragma('busy_timeout = 100');

const checkpoint = (mode: 'PASSIVE' | 'RESTART') =>
  (db.pragma(`wal_checkpoint(${mode})`) as CheckpointRow[])[0];

const tick = () => {
  try {
    const passive = checkpoint('PASSIVE');
    if (!passive || passive.log < restartFrames) return;
    const restart = checkpoint('RESTART');
    if (restart && restart.busy === 0) reply({ type: 'restarted', frames: restart.log });
  } catch (err) {
    reply({ type: 'failed', error: String(err) });
    stop();
  }
};
const timer = setInterval(tick, intervalMs);
const stop = () => {
  clearInterval(timer);
  if (db.open) db.close();
  port.close();
};

port.on('message', (request: CheckpointRequest) => {
  if (request.type === 'stop') stop();
});
reply({ type: 'ready' });
