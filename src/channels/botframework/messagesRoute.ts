import type { Activity, ActivityHandler, InvokeResponse, TurnContext } from 'botbuilder';
import { AuthenticationError } from 'botframework-connector';
import type restify from 'restify';
import type { MessagesAdapter } from '../../bot/adapter.js';
import type { RateLimitDecision, RateLimitStore } from '../../http/rateLimit.js';
import { clientIp, isLoopback, sendTooManyRequests } from '../../http/rateLimits.js';
import { sendError } from '../../http/server.js';

export interface MessagesRouteOptions {
  /**
   * False when MicrosoftAppId is not set. The route is then for local use only (the Emulator, tests):
   * it accepts activities only from a loopback client and with a loopback serviceUrl, because with
   * no JWT nothing else vouches for the serviceUrl the adapter sends replies to. With authentication
   * on, the adapter checks that the serviceUrl is the one signed in the connector's token.
   */
  authEnabled: boolean;
  /** Activities per conversation user (channel + conversation + sender), counted after authentication. */
  userLimiter?: RateLimitStore;
  /** The client address (X-Forwarded-For only behind trusted proxies). */
  clientIp?: (req: restify.Request) => string;
}

/**
 * Where a Bot Framework activity enters: POST /api/messages (Azure Bot Service, the Emulator,
 * Teams…). Authentication is the adapter's: JWT validation whenever MicrosoftAppId is set.
 *
 * The body is checked first (a JSON object with the fields every channel sends, of the right
 * types), so a malformed activity gets a 400 with a JSON error instead of reaching the adapter,
 * which would throw (500) or answer with a plain-text body. Every error is sent in the JSON error
 * shape.
 */
export function registerMessagesRoute(
  server: restify.Server,
  adapter: MessagesAdapter,
  bot: Pick<ActivityHandler, 'run'>,
  options: MessagesRouteOptions = { authEnabled: false },
): void {
  const ipOf = options.clientIp ?? ((req: restify.Request) => clientIp(req));
  server.post('/api/messages', async (req, res) => {
    const problem = activityProblem(req.body);
    if (problem) return sendError(res, 400, 'BadArgument', problem);
    if (!options.authEnabled) {
      const serviceUrl = (req.body as { serviceUrl: string }).serviceUrl;
      if (!isLoopback(ipOf(req)) || !isLoopbackUrl(serviceUrl)) {
        req.logger?.warn(
          { ip: ipOf(req) },
          '/api/messages without MicrosoftAppId accepts only local requests with a local serviceUrl',
        );
        return sendError(
          res,
          403,
          'Forbidden',
          'Without MicrosoftAppId this endpoint is for local use only (loopback client and serviceUrl)',
        );
      }
    }
    // The limit is counted inside the turn, i.e. after the adapter authenticated the request, so a
    // forged activity cannot spend a real user's budget; the response then becomes a 429.
    let limited: RateLimitDecision | undefined;
    let invokeResponse: InvokeResponse | undefined;
    try {
      invokeResponse = await adapter.processChecked(
        authorizationOf(req),
        req.body as Activity,
        async (context: TurnContext) => {
          const a = context.activity;
          const decision = await options.userLimiter?.consume(
            `${a.channelId}:${a.conversation?.id ?? ''}:${a.from?.id ?? ''}`,
          );
          if (decision && !decision.allowed) {
            limited = decision;
            req.logger?.warn(
              { channel: a.channelId, conversationId: a.conversation?.id },
              'rate limited (bot user)',
            );
            return;
          }
          await bot.run(context);
        },
      );
    } catch (err) {
      // The turn's own errors are onTurnError's; what reaches here failed authentication or before.
      // As in CloudAdapter.process, every authentication error is a 401 (a missing header included).
      if (err instanceof AuthenticationError) {
        return sendError(res, 401, 'Unauthorized', 'A valid Bot Framework token is required');
      }
      req.logger?.error({ err }, '/api/messages: the activity could not be processed');
      return sendError(res, 500, 'ServiceError', 'Internal error');
    }
    if (res.headersSent) return;
    if (limited) {
      return sendTooManyRequests(
        res,
        limited.retryAfterSeconds,
        'Too many activities from this user; try again later',
      );
    }
    const status = invokeResponse?.status ?? 200;
    if (status < 400) {
      res.status(status);
      if (invokeResponse?.body === undefined) res.end();
      else res.send(invokeResponse.body);
      return;
    }
    if (status === 501) return sendError(res, 400, 'NotSupported', 'This activity is not supported');
    if (status < 500) return sendError(res, status, 'BadArgument', 'The activity was not accepted');
    return sendError(res, status, 'ServiceError', 'Internal error');
  });
}

/** The Authorization header ('' when absent), as CloudAdapter.process reads it. */
function authorizationOf(req: restify.Request): string {
  const value = req.headers.authorization;
  return typeof value === 'string' ? value : '';
}

/** True for an http(s) URL whose host is localhost, 127.0.0.0/8 or [::1]. */
export function isLoopbackUrl(value: string): boolean {
  try {
    const host = new URL(value).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
  } catch {
    return false;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** Why `body` is not an activity we can process, or undefined when it is. */
export function activityProblem(body: unknown): string | undefined {
  if (!isObject(body)) return 'The body must be an activity object';
  if (!isNonEmptyString(body.type)) return 'type must be a non-empty string';
  if (!isNonEmptyString(body.channelId)) return 'channelId must be a non-empty string';
  if (!isNonEmptyString(body.serviceUrl) || !/^https?:\/\/[^\s/]+/i.test(body.serviceUrl))
    return 'serviceUrl must be an http(s) URL';
  if (!isObject(body.conversation) || !isNonEmptyString(body.conversation.id))
    return 'conversation.id must be a non-empty string';
  for (const key of ['from', 'recipient'] as const) {
    const account = body[key];
    if (account !== undefined && (!isObject(account) || !isNonEmptyString(account.id)))
      return `${key}.id must be a non-empty string`;
  }
  for (const key of ['id', 'text', 'locale', 'name', 'replyToId', 'textFormat'] as const) {
    if (body[key] !== undefined && body[key] !== null && typeof body[key] !== 'string')
      return `${key} must be a string`;
  }
  for (const key of ['membersAdded', 'membersRemoved', 'attachments', 'entities'] as const) {
    const list = body[key];
    if (list !== undefined && list !== null && !Array.isArray(list)) return `${key} must be an array`;
    if (Array.isArray(list) && !list.every(isObject)) return `${key} must be an array of objects`;
  }
  for (const key of ['membersAdded', 'membersRemoved'] as const) {
    const list = body[key];
    if (Array.isArray(list) && !list.every((m) => isObject(m) && isNonEmptyString(m.id)))
      return `${key}[].id must be a non-empty string`;
  }
  return undefined;
}
