import type restify from 'restify';
import type { Logger } from '../../logger.js';
import type { InboundLog } from './dedup.js';
import { verifyZaloSignature } from './signature.js';
import { eventKey, isOaEvent, type OaEvent } from './types.js';

export const ZALO_WEBHOOK_PATH = '/api/zalo';

export interface ZaloWebhookOptions {
  appId: string;
  oaSecretKey: string;
  logger: Logger;
  inbound: Pick<InboundLog, 'accept'>;
  /** Resolves once the channel's store is ready (migrations applied); awaited before an event is recorded. */
  ready?: () => Promise<void>;
  /** Largest body read when restify left the body unread (no or an unusual content type). */
  maxBodyBytes: number;
  /** Called after the 200 was sent, for an event accepted for the first time. */
  onEvent(key: string, event: OaEvent): void;
}

/**
 * Where a Zalo OA event enters: POST /api/zalo. The `X-ZEvent-Signature` is checked on the body
 * bytes exactly as received (req.rawBodyBytes, kept by src/http/server.ts); a missing or wrong
 * signature gets 401 and nothing is processed, except the console's unsigned empty probe, which
 * gets 200 and is ignored. A new event is persisted (deduplication by msg_id, in the store every
 * replica shares) before the 200, then processed asynchronously; a redelivery (to this replica or
 * another) gets 200 and is ignored.
 */
export function registerZaloWebhook(server: restify.Server, o: ZaloWebhookOptions): void {
  // Reference §9.2: some claim the console validates with a GET; answer 200 without side effects.
  server.get(ZALO_WEBHOOK_PATH, async (_req, res) => {
    res.json(200, { status: 'ok' });
  });

  server.post(ZALO_WEBHOOK_PATH, async (req, res) => {
    const log = req.logger ?? o.logger;
    const raw = await rawBody(req, o.maxBodyBytes);
    if (!raw) {
      res.json(413, { error: { code: 'PayloadTooLarge', message: 'Request body too large' } });
      return;
    }
    const header = req.header('x-zevent-signature') || undefined;
    let body: unknown;
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      body = undefined;
    }

    if (!header) {
      const empty =
        !raw.toString('utf8').trim() ||
        (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
      if (empty) {
        log.info('zalo webhook: unsigned empty probe answered (nothing processed)');
        res.json(200, { status: 'ok' });
        return;
      }
      log.warn('zalo webhook: request without X-ZEvent-Signature rejected');
      res.json(401, { error: { code: 'Unauthorized', message: 'Missing signature' } });
      return;
    }

    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
    const check = verifyZaloSignature({
      rawBody: raw,
      header,
      body: fields,
      appId: o.appId,
      oaSecretKey: o.oaSecretKey,
      headerTimestamp: req.header('x-zevent-timestamp') || undefined,
    });
    if (!check.ok) {
      log.warn(
        {
          reason: check.reason,
          timestamp: typeof fields?.timestamp === 'string' ? fields.timestamp : undefined,
          headerTimestamp: req.header('x-zevent-timestamp') || undefined,
          bytes: raw.length,
        },
        'zalo webhook: bad signature rejected (check ZALO_APP_ID and ZALO_OA_SECRET_KEY: the OA Secret Key, not the App Secret)',
      );
      res.json(401, { error: { code: 'Unauthorized', message: 'Invalid signature' } });
      return;
    }
    if (check.timestampFrom === 'header') {
      log.warn('zalo webhook: signature matched with the X-ZEvent-Timestamp header, not the body timestamp');
    }
    if (!isOaEvent(body)) {
      log.info('zalo webhook: signed body is not an event; ignored');
      res.json(200, { status: 'ignored' });
      return;
    }
    if (body.event_name.startsWith('oa_')) {
      // Echoes of what the OA sent (including our own replies): never processed.
      res.json(200, { status: 'ignored' });
      return;
    }
    const key = eventKey(body);
    let accepted: boolean;
    try {
      await o.ready?.();
      accepted = await o.inbound.accept(key, body);
    } catch (err) {
      // Not persisted: let Zalo deliver it again rather than risk losing it.
      log.error({ err }, 'zalo webhook: cannot record the event');
      res.json(503, { error: { code: 'ServiceUnavailable', message: 'Try again later' } });
      return;
    }
    if (!accepted) {
      log.debug({ event: body.event_name }, 'zalo webhook: duplicate event ignored');
      res.json(200, { status: 'duplicate' });
      return;
    }
    res.json(200, { status: 'accepted' });
    setImmediate(() => o.onEvent(key, body));
  });
}

/** The body bytes as received; undefined when over the limit. */
async function rawBody(req: restify.Request, maxBytes: number): Promise<Buffer | undefined> {
  if (req.rawBodyBytes) return req.rawBodyBytes;
  // Bodies restify's reader decoded without the byte tap (e.g. gzip): its decoded text, re-encoded.
  if (typeof req.rawBody === 'string') return Buffer.from(req.rawBody, 'utf8');
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  if (Buffer.isBuffer(req.body)) return req.body;
  if (req.readableEnded) return Buffer.alloc(0);
  // Left unread by restify (no or an unusual content type): read it here.
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= maxBytes) chunks.push(c);
    });
    req.once('end', () => resolve(size <= maxBytes ? Buffer.concat(chunks) : undefined));
    req.once('error', () => resolve(Buffer.alloc(0)));
    req.resume();
  });
}
