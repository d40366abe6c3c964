import type restify from 'restify';
import type { FeedbackStore } from '../feedback/feedbackStore.js';
import { sendError } from '../http/server.js';
import { hashToken, newToken, type Principal, type TeamAuth } from './auth.js';
import type { Curation } from './curation.js';
import type { EventHub } from './events.js';
import type { TeamSignals } from './signals.js';
import { communeKey } from './grouping.js';
import { TeamError, type Inbox, type ListFilter } from './inbox.js';
import { validWebhookUrl } from './notify.js';
import type { TakeoverService } from './takeover.js';
import type { Member, Role, TeamStore } from './teamStore.js';

export interface TeamRouteDeps {
  auth: TeamAuth;
  inbox: Inbox;
  store: TeamStore;
  events: EventHub;
  /** Tells the other replicas (a revoked member's streams end everywhere). */
  signals?: TeamSignals;
  takeover: TakeoverService;
  curation: Curation;
  feedback: FeedbackStore & {
    list(): Promise<
      {
        id: string;
        helpful: boolean;
        question: string;
        reason?: string;
        sources: unknown;
        createdAt: string;
      }[]
    >;
  };
}

type Handler = (req: restify.Request, res: restify.Response, p: Principal) => Promise<unknown> | unknown;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function body(req: restify.Request): Record<string, unknown> {
  const b: unknown = req.body;
  if (b === undefined || b === null || b === '') return {};
  if (typeof b !== 'object' || Array.isArray(b))
    throw new TeamError(400, 'BadArgument', 'expected a JSON object');
  return b as Record<string, unknown>;
}

function memberJson(m: Member) {
  return {
    id: m.id,
    name: m.name,
    role: m.role,
    communes: m.communes,
    disabled: m.disabled,
    createdAt: m.createdAt,
  };
}

/** The team inbox API under /api/team (see team-api.md). */
export function registerTeamRoutes(server: restify.Server, d: TeamRouteDeps): void {
  const wrap =
    (handler: Handler, opts: { admin?: boolean; queryToken?: boolean } = {}) =>
    async (req: restify.Request, res: restify.Response) => {
      res.setHeader('cache-control', 'no-store');
      try {
        const principal = await d.auth.authenticate(d.auth.tokenOf(req, opts.queryToken));
        if (!principal) {
          res.setHeader('www-authenticate', 'Bearer');
          return sendError(res, 401, 'Unauthorized', 'A valid team token is required');
        }
        if (opts.admin && principal.role !== 'admin') {
          return sendError(res, 403, 'Forbidden', 'Only an admin may do this');
        }
        const result = await handler(req, res, principal);
        if (result !== undefined && !res.headersSent) res.json(200, result);
      } catch (err) {
        if (err instanceof TeamError) return sendError(res, err.status, err.code, err.message);
        req.logger?.error({ err }, 'team API failed');
        if (!res.headersSent) sendError(res, 500, 'ServiceError', 'Internal error');
      }
    };

  const filter = (req: restify.Request): ListFilter => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    return {
      status: str(q.status),
      commune: str(q.commune),
      topic: str(q.topic),
      q: str(q.q),
      from: str(q.from),
      to: str(q.to),
    };
  };
  const id = (req: restify.Request) => String(req.params.id ?? '');

  server.get(
    '/api/team/me',
    wrap((_req, _res, p) => ({ id: p.id, name: p.name, role: p.role, communes: p.communes })),
  );

  server.get(
    '/api/team/questions',
    wrap((req, _res, p) => d.inbox.list(p, filter(req))),
  );

  server.get(
    '/api/team/questions.csv',
    wrap(async (req, res, p) => {
      const csv = await d.inbox.csv(p, filter(req));
      await d.inbox.audit(p, 'questions.export_csv', undefined, filter(req));
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', 'attachment; filename="cau-hoi-to-cong-nghe-so.csv"');
      res.writeHead(200);
      res.end(`\ufeff${csv}`);
      return undefined;
    }),
  );

  server.get(
    '/api/team/questions/:id',
    wrap((req, _res, p) => d.inbox.detail(p, id(req))),
  );
  server.post(
    '/api/team/questions/:id/claim',
    wrap((req, _res, p) => d.inbox.claim(p, id(req))),
  );
  server.post(
    '/api/team/questions/:id/answer',
    wrap((req, _res, p) => d.inbox.answer(p, id(req), body(req).text)),
  );
  server.post(
    '/api/team/questions/:id/escalate',
    wrap((req, _res, p) => d.inbox.escalate(p, id(req), body(req).note)),
  );
  server.post(
    '/api/team/questions/:id/close',
    wrap((req, _res, p) => d.inbox.close(p, id(req))),
  );

  server.post(
    '/api/team/questions/:id/takeover',
    wrap(async (req, _res, p) => {
      const q = await d.inbox.require(p, id(req));
      await d.takeover.start(p, q);
      return { takenOver: true };
    }),
  );
  server.post(
    '/api/team/questions/:id/messages',
    wrap(async (req, _res, p) => {
      const q = await d.inbox.require(p, id(req));
      return d.takeover.message(p, q, body(req).text);
    }),
  );
  server.post(
    '/api/team/questions/:id/handback',
    wrap(async (req, _res, p) => {
      const q = await d.inbox.require(p, id(req));
      await d.takeover.handback(p, q);
      return { takenOver: false };
    }),
  );

  server.post(
    '/api/team/questions/:id/promote',
    wrap(
      async (req, _res, p) => {
        const q = await d.inbox.require(p, id(req));
        if (!q.answerText && typeof body(req).answer !== 'string') {
          throw new TeamError(409, 'Conflict', 'Only an answered question can be promoted');
        }
        const group = await d.store.questions.inGroup(q.groupId);
        const result = await d.curation.promote(p, q, group, body(req));
        await d.inbox.audit(p, 'question.promote', q.id, result);
        return result;
      },
      { admin: true },
    ),
  );

  server.get(
    '/api/team/events',
    wrap(
      (req, res, p) => {
        d.events.attach(req, res, p);
        return undefined;
      },
      { queryToken: true },
    ),
  );

  server.get(
    '/api/team/trends',
    wrap(async (_req, _res, p) => {
      const all = await d.feedback.list();
      const feedback = {
        up: all.filter((f) => f.helpful).length,
        down: all.filter((f) => !f.helpful).length,
      };
      return d.inbox.trends(p, feedback);
    }),
  );

  server.get(
    '/api/team/feedback',
    wrap(
      async (req) => {
        const helpful = str((req.query as Record<string, unknown> | undefined)?.helpful);
        const all = await d.feedback.list();
        const items = all
          .filter((f) => helpful === undefined || String(f.helpful) === helpful)
          .reverse()
          .map((f) => ({
            id: f.id,
            question: f.question,
            reason: f.reason ?? null,
            sources: f.sources,
            createdAt: f.createdAt,
          }));
        return { items };
      },
      { admin: true },
    ),
  );

  server.get(
    '/api/team/members',
    wrap(async () => ({ items: (await d.store.members.list()).map(memberJson) }), { admin: true }),
  );
  server.post(
    '/api/team/members',
    wrap(
      async (req, _res, p) => {
        const b = body(req);
        const name = typeof b.name === 'string' ? b.name.trim() : '';
        const role = (b.role ?? 'member') as Role;
        const communes = Array.isArray(b.communes)
          ? b.communes
              .filter((c): c is string => typeof c === 'string' && c.trim() !== '')
              .map((c) => c.trim())
          : [];
        if (!name || name.length > 100) throw new TeamError(400, 'BadArgument', 'name is required (≤ 100)');
        if (role !== 'member' && role !== 'admin')
          throw new TeamError(400, 'BadArgument', 'role is member or admin');
        if (role === 'member' && !communes.length) {
          throw new TeamError(400, 'BadArgument', 'a member needs at least one commune');
        }
        const token = newToken();
        const member = await d.store.members.create({ name, role, communes, tokenHash: hashToken(token) });
        await d.inbox.audit(p, 'member.add', member.id, { name, role, communes });
        return { member: memberJson(member), token };
      },
      { admin: true },
    ),
  );
  server.post(
    '/api/team/members/:id/disable',
    wrap(
      async (req, _res, p) => {
        const existing = await d.store.members.get(id(req));
        if (!existing) throw new TeamError(404, 'NotFound', 'No such member');
        const member = (await d.store.members.disable(existing.id))!;
        // A revoked token's open dashboard streams end now, on this replica and the others.
        d.events.disconnect(member.id);
        d.signals?.send({ t: 'member_disabled', id: member.id });
        await d.inbox.audit(p, 'member.disable', member.id, { name: member.name });
        return memberJson(member);
      },
      { admin: true },
    ),
  );

  server.put(
    '/api/team/communes/:commune/webhook',
    wrap(
      async (req, _res, p) => {
        const commune = String(req.params.commune ?? '').trim();
        const key = communeKey(commune);
        if (!key) throw new TeamError(400, 'BadArgument', 'commune is required');
        const raw = body(req).url;
        const url = raw === null || raw === '' ? null : validWebhookUrl(raw);
        if (url === undefined)
          throw new TeamError(400, 'BadArgument', 'url must be an http(s) URL (or null)');
        await d.store.webhooks.set(key, commune, url, p.id);
        await d.inbox.audit(p, url ? 'webhook.set' : 'webhook.remove', commune, { url });
        return { commune, url };
      },
      { admin: true },
    ),
  );
  server.get(
    '/api/team/webhooks',
    wrap(async () => ({ items: await d.store.webhooks.list() }), { admin: true }),
  );

  server.get(
    '/api/team/audit',
    wrap(
      async (req) => {
        const target = str((req.query as Record<string, unknown> | undefined)?.target);
        return { items: await d.store.audit.list(1000, { target }) };
      },
      { admin: true },
    ),
  );
}
