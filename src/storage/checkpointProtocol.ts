/** What the checkpoint thread is started with. */
export interface CheckpointSettings {
  /** The SQLite database file (in WAL mode). */
  file: string;
  /** How often the thread checkpoints, ms. */
  intervalMs: number;
  /** Once the WAL holds this many frames (pages), the thread has the next write start it over. */
  restartFrames: number;
}

/** From the service to the checkpoint thread. */
export type CheckpointRequest = { type: 'stop' };

/** From the checkpoint thread to the service. */
export type CheckpointReply =
  | { type: 'ready' }
  /** The WAL held `frames` pages, all now in the database file; the next write starts it over. */
  | { type: 'restarted'; frames: number }
  | { type: 'failed'; error: string };
