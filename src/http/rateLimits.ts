import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type restify from 'restify';
import type { Config } from '../config.js';
import { perMinute, type RateLimitStore } from './rateLimit.js';
import { sendError } from './server.js';
import { SqlRateLimits, type SqlRateLimitLogger } from './sqlRateLimit.js';
import type { SqlDb } from '../storage/sql/index.js';

/**
 * The HTTP APIs' rate limits (abuse protection), each a per-minute budget from the configuration:
 *
 * - per client IP, on every API request (`/v3/directline/*`, `/api/*`), except
 *   `POST /api/messages` (Bot Framework traffic all comes from Microsoft's connector addresses, so a
 *   per-IP budget would throttle every Teams/Azure user at once: it is limited per conversation
 *   user instead, after JWT validation) and `/api/zalo` (events come from Zalo's servers and are
 *   signed; each Zalo user is limited by the bot's chat limiter). Health checks and static pages
 *   are never limited;
 * - per Direct Line token user, on activity posts (`directLineRoutes.ts`);
 * - per conversation user on `/api/messages` (`messagesRoute.ts`);
 * - per team token on `/api/team/*` (here, so every route under it is covered);
 * - conversations started (Direct Line tokens) per IP (`directLineRoutes.ts`).
 *
 * A refusal is a 429 JSON error `{ error: { code: 'TooManyRequests', message } }` with
 * `Retry-After` in seconds. The chat itself has a gentler limit with a polite reply (CitizenBot).
 *
 * Where the counters live: with SQLite (one process) in memory (`RateLimiter`); with PostgreSQL
 * (`DATABASE_URL`, possibly several replicas behind a load balancer) in the shared `rate_limits`
 * table (`SqlRateLimits`), so a client cannot multiply its budget by the number of replicas. A shared
 * store that cannot answer lets requests through (logged once) rather than failing them.
 */
export interface ApiRateLimits {
  ip: RateLimitStore;
  directLineTokens: RateLimitStore;
  directLineUser: RateLimitStore;
  botUser: RateLimitStore;
  team: RateLimitStore;
  /** The client address of a request, honouring X-Forwarded-For only behind trusted proxies. */
  clientIp(req: restify.Request): string;
  /** Prepares a shared store (its table) before the first request; nothing for in-memory limits. */
  init(): Promise<void>;
  /** Stops the shared store's cleanup timer. */
  stop(): void;
}

/**
 * The limits with the configured budgets: in memory (one process), or in the SQL store shared by
 * the replicas when `shared` is given (PostgreSQL).
 */
export function createApiRateLimits(
  config: Pick<Config, 'rateLimits'>,
  shared?: { sql: SqlDb; logger: SqlRateLimitLogger },
): ApiRateLimits {
  const r = config.rateLimits;
  if (shared) {
    const sqlLimits = new SqlRateLimits(shared.sql, shared.logger);
    return {
      ip: sqlLimits.perMinute('ip', r.ipPerMinute),
      directLineTokens: sqlLimits.perMinute('dl_tokens', r.directLineTokensPerMinute),
      directLineUser: sqlLimits.perMinute('dl_user', r.directLineUserPerMinute),
      botUser: sqlLimits.perMinute('bot_user', r.botUserPerMinute),
      team: sqlLimits.perMinute('team', r.teamPerMinute),
      clientIp: (req) => clientIp(req, r.trustProxyHops),
      init: () => sqlLimits.init(),
      stop: () => sqlLimits.stop(),
    };
  }
  return {
    init: async () => undefined,
    stop: () => undefined,
    ip: perMinute(r.ipPerMinute),
    directLineTokens: perMinute(r.directLineTokensPerMinute),
    directLineUser: perMinute(r.directLineUserPerMinute),
    botUser: perMinute(r.botUserPerMinute),
    team: perMinute(r.teamPerMinute),
    clientIp: (req) => clientIp(req, r.trustProxyHops),
  };
}

/**
 * The client's address. Without trusted proxies it is the socket's peer (a client can set any
 * X-Forwarded-For, so the header is ignored). With `trustedHops` proxies in front (nginx appends
 * the address it saw), it is the entry that many places from the right of X-Forwarded-For.
 * IPv4-mapped IPv6 addresses are unmapped.
 */
export function clientIp(req: Pick<restify.Request, 'headers' | 'socket'>, trustedHops = 0): string {
  let ip = req.socket?.remoteAddress ?? '';
  if (trustedHops > 0) {
    const header = req.headers['x-forwarded-for'];
    const list = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    // The socket peer is the nearest proxy; each trusted proxy appended the address it saw.
    const candidate = list[list.length - trustedHops] ?? list[0];
    if (candidate && isIP(candidate)) ip = candidate;
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip || 'unknown';
}

/** The rate-limit key of an address: IPv4 as it is, IPv6 by its /64 prefix (one subscriber). */
export function ipKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  // Expand "::" and keep the first four groups (the /64 prefix).
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** True for 127.0.0.0/8 and ::1 (as `clientIp` returns them). */
export function isLoopback(ip: string): boolean {
  return /^127\./.test(ip) || ip === '::1';
}

/** Sends the 429 of a refused request, with Retry-After (seconds). */
export function sendTooManyRequests(res: restify.Response, retryAfterSeconds: number, message: string): void {
  res.setHeader('retry-after', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  sendError(res, 429, 'TooManyRequests', message);
}

/** Paths limited per client IP: the JSON APIs, except those called by Microsoft's and Zalo's servers. */
export function limitedPerIp(pathname: string): boolean {
  if (pathname === '/api/messages' || pathname === '/api/zalo') return false;
  return pathname.startsWith('/v3/directline/') || pathname.startsWith('/api/');
}

/**
 * Installs the per-IP and per-team-token limits as a `pre` handler: a refused request is answered
 * before its body is read or a route runs. Register it after the routes' own `pre` handlers (the
 * Direct Line CORS headers) so a 429 still carries them.
 */
export function registerApiRateLimits(server: restify.Server, limits: ApiRateLimits): void {
  // A callback-style handler (restify refuses async ones that take `next`).
  server.pre((req, res, next) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return next();
    }
    // Decoded as the router decodes it, so "/%61pi/team/me" cannot slip past the checks.
    const pathname = decodedPath(url.pathname);
    if (!limitedPerIp(pathname)) return next();
    refusal(req, pathname, url, limits).then(
      (refused) => {
        if (!refused) return next();
        req.logger?.warn({ ip: limits.clientIp(req), path: pathname, by: refused.by }, 'rate limited');
        sendTooManyRequests(res, refused.retryAfterSeconds, refused.message);
        return next(false);
      },
      (err: unknown) => {
        // A failing limit store (a shared one, later) must not take the service down: let it through.
        req.logger?.error({ err }, 'rate limit store failed; request allowed');
        next();
      },
    );
  });
}

function decodedPath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

async function refusal(
  req: restify.Request,
  pathname: string,
  url: URL,
  limits: ApiRateLimits,
): Promise<{ by: string; retryAfterSeconds: number; message: string } | undefined> {
  const byIp = await limits.ip.consume(`ip:${ipKey(limits.clientIp(req))}`);
  if (!byIp.allowed) {
    return {
      by: 'client IP',
      retryAfterSeconds: byIp.retryAfterSeconds,
      message: 'Too many requests from this address; try again later',
    };
  }
  if (pathname.startsWith('/api/team/')) {
    const token = teamToken(req, url);
    if (!token) return undefined; // refused with 401 by the route
    const byToken = await limits.team.consume(`team:${tokenKey(token)}`);
    if (!byToken.allowed) {
      return {
        by: 'team token',
        retryAfterSeconds: byToken.retryAfterSeconds,
        message: 'Too many requests with this team token; try again later',
      };
    }
  }
  return undefined;
}

/** The team bearer token (header, or `?token=` as the dashboard's EventSource sends it). */
function teamToken(req: restify.Request, url: URL): string | undefined {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m?.[1] ?? (url.searchParams.get('token') || undefined);
}

/** Tokens are not kept in memory as such: a short hash is the key. */
function tokenKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url').slice(0, 22);
}
