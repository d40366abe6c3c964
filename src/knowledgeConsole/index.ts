import type restify from 'restify';
import type { TeamAuth } from '../team/auth.js';
import { registerKnowledgeConsoleRoutes } from './consoleRoutes.js';
import { KnowledgeConsole, type KnowledgeConsoleOptions } from './service.js';

export { KB_UPLOAD_PATH, uploadBodyLimit } from './consoleRoutes.js';
export { ConsoleError } from './errors.js';
export { ReindexJob, type ReindexChange, type ReindexJobState } from './reindexJob.js';
export { KnowledgeConsole, type Actor, type KnowledgeConsoleOptions } from './service.js';

export interface KnowledgeConsoleHandle {
  console: KnowledgeConsole;
  /** Registers /api/team/kb/* (admins of the team dashboard). */
  register(server: restify.Server): void;
  stop(): void;
}

/** The knowledge console of the service (issue 8): the operations and their HTTP API. */
export function createKnowledgeConsole(
  o: KnowledgeConsoleOptions & { auth: TeamAuth },
): KnowledgeConsoleHandle {
  const kb = new KnowledgeConsole(o);
  return {
    console: kb,
    register: (server) => registerKnowledgeConsoleRoutes(server, { auth: o.auth, console: kb }),
    stop: () => kb.stop(),
  };
}
