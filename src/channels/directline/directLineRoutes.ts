import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ActivityTypes, type Activity } from 'botbuilder';
import type restify from 'restify';
import { WebSocketServer } from 'ws';
import { sendError } from '../../http/server.js';
import type { RateLimitStore } from '../../http/rateLimit.js';
import { ipKey, sendTooManyRequests } from '../../http/rateLimits.js';
import type { Logger } from '../../logger.js';
import { redactPii } from '../../privacy/redact.js';
import type { ConversationStore } from './conversationStore.js';
import { DIRECTLINE_SERVICE_URL } from './directLineAdapter.js';
import type { StreamHub } from './streams.js';
import { bearer, type TokenClaims, type TokenService } from './tokens.js';

export const BOT_ACCOUNT = { id: 'tro-ly-cong-dan-so', name: 'Trợ lý Công dân số', role: 'bot' };
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX = '/v3/directline';

export interface DirectLineRouteOptions {
  store: ConversationStore;
  /** The token service (its secret comes from the store: available once the channel is initialized). */
  tokens: () => TokenService;
  streams: StreamHub;
  /** Conversations started (tokens/generate) per client IP. */
  tokenLimiter: RateLimitStore;
  /** Activity posts per token user; none = unlimited (the bot's chat limit still applies). */
  userLimiter?: RateLimitStore;
  /** The client address of a request (X-Forwarded-For only behind trusted proxies). */
  clientIp(req: restify.Request): string;
  allowedOrigins: readonly string[];
  publicUrl?: string;
  logger: Logger;
  /** Hands an activity to the bot, serially per conversation; resolves when queued. */
  dispatch(activity: Partial<Activity>): void;
}

const newId = (bytes = 16) => randomBytes(bytes).toString('base64url');

/**
 * A Direct Line 3.0-compatible API for the standard Bot Framework Web Chat, served by us:
 * tokens bound to one conversation and user, activities with watermarks (polling) and a
 * WebSocket stream, all persisted.
 */
export function registerDirectLineRoutes(
  server: restify.Server,
  o: DirectLineRouteOptions,
): { closeStreams(): void } {
  const { store, streams, logger } = o;

  // CORS for configured origins only; same-origin pages need none.
  server.pre((req, res, next) => {
    if (!req.url?.startsWith(PREFIX)) return next();
    const origin = req.headers.origin;
    if (origin && o.allowedOrigins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
      res.setHeader(
        'access-control-allow-headers',
        'Authorization, Content-Type, Accept, X-Requested-With, x-ms-bot-agent',
      );
      res.setHeader('access-control-max-age', '600');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(origin && !o.allowedOrigins.includes(origin) ? 403 : 204);
      res.end();
      return next(false);
    }
    return next();
  });

  const authorize = async (
    req: restify.Request,
    res: restify.Response,
    conversationId?: string,
  ): Promise<TokenClaims | undefined> => {
    const check = o.tokens().verify(bearer(req.headers.authorization));
    if (!check.ok) {
      sendError(
        res,
        check.reason === 'malformed' ? 401 : 403,
        check.reason === 'expired' ? 'TokenExpired' : 'Unauthorized',
        'Missing, invalid or expired token',
      );
      return undefined;
    }
    if (conversationId !== undefined && check.claims.conversationId !== conversationId) {
      sendError(res, 403, 'Forbidden', 'The token is not valid for this conversation');
      return undefined;
    }
    if (!(await store.get(check.claims.conversationId))) {
      sendError(res, 404, 'NotFound', 'Conversation not found');
      return undefined;
    }
    return check.claims;
  };

  const streamUrl = (req: restify.Request, conversationId: string, token: string, watermark: number) => {
    const base =
      o.publicUrl ??
      `${(req.headers['x-forwarded-proto'] as string) === 'https' ? 'https' : 'http'}://${req.headers.host}`;
    const ws = base.replace(/^http/, 'ws');
    return `${ws}${PREFIX}/conversations/${conversationId}/stream?t=${encodeURIComponent(token)}&watermark=${watermark}`;
  };

  const userAccount = (claims: TokenClaims, name?: unknown) => ({
    id: claims.userId,
    name: typeof name === 'string' && name.length <= 64 ? name : 'Công dân',
    role: 'user',
  });

  server.post(`${PREFIX}/tokens/generate`, async (req, res) => {
    const limit = await o.tokenLimiter.consume(ipKey(o.clientIp(req)));
    if (!limit.allowed) {
      return sendTooManyRequests(
        res,
        limit.retryAfterSeconds,
        'Too many conversations started from this address; try again later',
      );
    }
    const body = (req.body ?? {}) as { user?: { id?: unknown } };
    const requested = body.user?.id;
    if (
      requested !== undefined &&
      (typeof requested !== 'string' || !ID.test(requested) || requested.startsWith('dl_'))
    ) {
      return sendError(
        res,
        400,
        'BadArgument',
        'user.id must be 1-64 letters, digits, "-" or "_" and not start with "dl_"',
      );
    }
    const userId = typeof requested === 'string' ? requested : `u-${newId(9)}`;
    const conversationId = newId();
    await store.create(conversationId, userId);
    const { token, expiresIn } = o.tokens().issue(conversationId, userId);
    res.json(200, { conversationId, token, expires_in: expiresIn });
  });

  server.post(`${PREFIX}/tokens/refresh`, async (req, res) => {
    // An expired token is accepted within the resume window, so a citizen can come back later.
    const tokens = o.tokens();
    const check = tokens.verify(bearer(req.headers.authorization), Date.now(), tokens.resumeWindowSeconds);
    if (!check.ok) return sendError(res, 403, 'Forbidden', 'Invalid token');
    if (!(await store.get(check.claims.conversationId)))
      return sendError(res, 404, 'NotFound', 'Conversation not found');
    const { token, expiresIn } = tokens.issue(check.claims.conversationId, check.claims.userId);
    res.json(200, { conversationId: check.claims.conversationId, token, expires_in: expiresIn });
  });

  server.post(`${PREFIX}/conversations`, async (req, res) => {
    const claims = await authorize(req, res);
    if (!claims) return;
    const token = bearer(req.headers.authorization)!;
    const started = await store.markStarted(claims.conversationId);
    if (started) {
      const user = userAccount(claims);
      o.dispatch({
        type: ActivityTypes.ConversationUpdate,
        membersAdded: [user, BOT_ACCOUNT],
        from: user,
        recipient: BOT_ACCOUNT,
        conversation: { id: claims.conversationId } as Activity['conversation'],
        channelId: 'directline',
        serviceUrl: DIRECTLINE_SERVICE_URL,
        locale:
          typeof (req.body as { locale?: unknown } | undefined)?.locale === 'string'
            ? (req.body as { locale: string }).locale
            : 'vi-VN',
        id: newId(8),
      });
    }
    res.json(started ? 201 : 200, {
      conversationId: claims.conversationId,
      token,
      expires_in: Math.max(0, claims.exp - Math.floor(Date.now() / 1000)),
      streamUrl: streamUrl(req, claims.conversationId, token, 0),
      referenceGrammarId: '',
    });
  });

  server.get(`${PREFIX}/conversations/:id`, async (req, res) => {
    const claims = await authorize(req, res, req.params.id);
    if (!claims) return;
    const token = bearer(req.headers.authorization)!;
    const watermark = parseWatermark(req.query?.watermark);
    res.json(200, {
      conversationId: claims.conversationId,
      token,
      expires_in: Math.max(0, claims.exp - Math.floor(Date.now() / 1000)),
      streamUrl: streamUrl(req, claims.conversationId, token, watermark),
    });
  });

  server.get(`${PREFIX}/conversations/:id/activities`, async (req, res) => {
    const claims = await authorize(req, res, req.params.id);
    if (!claims) return;
    res.json(200, await store.since(claims.conversationId, parseWatermark(req.query?.watermark)));
  });

  server.post(`${PREFIX}/conversations/:id/activities`, async (req, res) => {
    const claims = await authorize(req, res, req.params.id);
    if (!claims) return;
    // Counted per user after the token is verified, so nobody can spend another citizen's budget.
    const limit = await o.userLimiter?.consume(claims.userId);
    if (limit && !limit.allowed) {
      return sendTooManyRequests(
        res,
        limit.retryAfterSeconds,
        'Too many messages; wait a moment and try again',
      );
    }
    const body = req.body as Partial<Activity> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      return sendError(res, 400, 'BadArgument', 'The body must be an activity object');
    if (
      body.type !== ActivityTypes.Message &&
      body.type !== ActivityTypes.Event &&
      body.type !== ActivityTypes.Typing
    ) {
      return sendError(res, 400, 'BadArgument', 'Only message, event and typing activities are accepted');
    }
    if (body.text !== undefined && typeof body.text !== 'string')
      return sendError(res, 400, 'BadArgument', 'text must be a string');
    if (body.type === ActivityTypes.Typing) {
      res.json(200, { id: '' });
      return;
    }
    const channelData = isPlainObject(body.channelData) ? body.channelData : {};
    const from = userAccount(claims, body.from?.name);
    // The echo Web Chat waits for: a server id, the client's clientActivityID, a timestamp.
    // Personal data is redacted before it is stored; the bot itself gets the text as sent.
    const echo = await store.append(claims.conversationId, {
      type: body.type,
      name: typeof body.name === 'string' ? body.name.slice(0, 100) : undefined,
      text: body.text === undefined ? undefined : redactPii(body.text.slice(0, 4000)).text,
      textFormat: 'plain',
      locale: typeof body.locale === 'string' ? body.locale.slice(0, 20) : 'vi-VN',
      channelData: {
        clientActivityID:
          typeof channelData.clientActivityID === 'string'
            ? channelData.clientActivityID.slice(0, 100)
            : undefined,
      },
      channelId: 'directline',
      conversation: { id: claims.conversationId } as Activity['conversation'],
      from,
      recipient: BOT_ACCOUNT,
    });
    await streams.stored(claims.conversationId);
    o.dispatch({
      ...echo,
      text: body.text,
      value: body.type === ActivityTypes.Event ? body.value : undefined,
      timestamp: new Date(),
      serviceUrl: DIRECTLINE_SERVICE_URL,
    } as Partial<Activity>);
    res.json(200, { id: echo.id });
  });

  server.post(`${PREFIX}/conversations/:id/upload`, async (_req, res) => {
    sendError(res, 400, 'BadArgument', 'File upload is not supported');
  });

  // WebSocket stream: GET …/conversations/{id}/stream?t=<token>&watermark=<n>
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = new RegExp(`^${PREFIX}/conversations/([A-Za-z0-9_-]+)/stream$`).exec(url.pathname);
    const check = o.tokens().verify(url.searchParams.get('t') ?? bearer(req.headers.authorization));
    const refuse = () => {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
    };
    if (!m || !check.ok || check.claims.conversationId !== m[1]) return refuse();
    const conversationId = m[1]!;
    store.get(conversationId).then(
      (conversation) => {
        if (!conversation) return refuse();
        wss.handleUpgrade(req, socket, head, (ws) => {
          ws.on('message', () => undefined); // DLJS pings with empty frames; nothing to do.
          ws.on('error', (err) => logger.debug({ err }, 'stream error'));
          // Sends what follows the client's watermark, then every activity as it is stored.
          streams.add(conversationId, ws, parseWatermark(url.searchParams.get('watermark') ?? undefined));
        });
      },
      (err: unknown) => {
        logger.warn({ err }, 'direct line: stream refused, the store failed');
        socket.write('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
        socket.destroy();
      },
    );
  });

  return { closeStreams: () => streams.closeAll() };
}

function parseWatermark(value: unknown): number {
  const n = typeof value === 'string' ? Number.parseInt(value, 10) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
