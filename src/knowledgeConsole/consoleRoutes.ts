import type restify from 'restify';
import { sendError } from '../http/server.js';
import type { Principal, TeamAuth } from '../team/auth.js';
import { ConsoleError } from './errors.js';
import type { KnowledgeConsole } from './service.js';

/** The upload route: its request body may be larger than the global limit (see `uploadBodyLimit`). */
export const KB_UPLOAD_PATH = '/api/team/kb/upload';

/** The largest JSON body of an upload: the file base64-encoded (4/3) plus the other fields. */
export function uploadBodyLimit(maxFileBytes: number): number {
  return Math.ceil(maxFileBytes / 3) * 4 + 64 * 1024;
}

type Handler = (req: restify.Request, res: restify.Response, p: Principal) => Promise<unknown> | unknown;

function body(req: restify.Request): Record<string, unknown> {
  const b: unknown = req.body;
  if (b === undefined || b === null || b === '') return {};
  if (typeof b !== 'object' || Array.isArray(b) || Buffer.isBuffer(b)) {
    throw new ConsoleError(400, 'BadArgument', 'expected a JSON object');
  }
  return b as Record<string, unknown>;
}

const query = (req: restify.Request) => (req.query ?? {}) as Record<string, unknown>;

/** The knowledge console API under /api/team/kb: admins only (see docs in README "Knowledge console"). */
export function registerKnowledgeConsoleRoutes(
  server: restify.Server,
  d: { auth: TeamAuth; console: KnowledgeConsole },
): void {
  const wrap =
    (handler: Handler, status = 200) =>
    async (req: restify.Request, res: restify.Response) => {
      res.setHeader('cache-control', 'no-store');
      try {
        const principal = await d.auth.authenticate(d.auth.tokenOf(req));
        if (!principal) {
          res.setHeader('www-authenticate', 'Bearer');
          return sendError(res, 401, 'Unauthorized', 'A valid team token is required');
        }
        if (principal.role !== 'admin') return sendError(res, 403, 'Forbidden', 'Only an admin may do this');
        const result = await handler(req, res, principal);
        if (result !== undefined && !res.headersSent) res.json(status, result);
      } catch (err) {
        if (err instanceof ConsoleError) return sendError(res, err.status, err.code, err.message);
        req.logger?.error({ err }, 'knowledge console API failed');
        if (!res.headersSent) sendError(res, 500, 'ServiceError', 'Internal error');
      }
    };
  const kb = d.console;
  const actor = (p: Principal) => ({ id: p.id, name: p.name });

  server.get(
    '/api/team/kb/documents',
    wrap(() => kb.documents()),
  );
  server.get(
    '/api/team/kb/document',
    wrap((req) => kb.document(query(req).id)),
  );
  server.put(
    '/api/team/kb/document',
    wrap(async (req, res, p) => {
      const r = await kb.saveDocument(actor(p), query(req).id, body(req).content);
      res.json(r.created ? 201 : 200, { document: r.document, job: r.job });
      return undefined;
    }),
  );
  server.post(
    KB_UPLOAD_PATH,
    wrap((req, _res, p) => kb.upload(actor(p), body(req)), 201),
  );
  server.post(
    '/api/team/kb/retire',
    wrap((req, _res, p) => kb.retire(actor(p), query(req).id ?? body(req).id, body(req).reason)),
  );
  server.get(
    '/api/team/kb/versions',
    wrap(() => kb.versionList()),
  );
  server.post(
    '/api/team/kb/reindex',
    wrap((_req, _res, p) => kb.reindex(actor(p)), 202),
  );
  server.post(
    '/api/team/kb/rollback',
    wrap((req, _res, p) => kb.rollback(actor(p), body(req).version)),
  );
  server.post(
    '/api/team/kb/hit',
    wrap((req) => kb.hit(body(req).q, body(req).k)),
  );
  server.post(
    '/api/team/kb/expected',
    wrap(async (req, res, p) => {
      const r = await kb.expected(actor(p), body(req).q, body(req).docId);
      res.json(r.duplicate ? 200 : 201, r);
      return undefined;
    }),
  );
  server.get(
    '/api/team/kb/synonyms',
    wrap(() => kb.synonyms()),
  );
  server.put(
    '/api/team/kb/synonyms',
    wrap((req, _res, p) => kb.saveSynonyms(actor(p), body(req).content)),
  );
  server.get(
    '/api/team/kb/eval',
    wrap(() => kb.evalRuns()),
  );
  server.get(
    '/api/team/kb/audit',
    wrap(() => kb.auditEntries()),
  );
}
