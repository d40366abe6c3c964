import { randomUUID } from 'node:crypto';
import restify from 'restify';
import type { Logger } from '../logger.js';

declare module 'restify' {
  interface Request {
    /** Logger bound to this request's id. */
    logger?: Logger;
    /**
     * The request body exactly as received, before any decoding (restify's `rawBody` is a decoded
     * string). Set once the body has been read; used to verify webhook signatures (Zalo).
     */
    rawBodyBytes?: Buffer;
  }
}

export interface HttpServerOptions {
  logger: Logger;
  /** Largest accepted request body; larger ones get 413. */
  maxBodyBytes: number;
  /** Routes that accept a larger body than `maxBodyBytes` (e.g. the knowledge console's upload). */
  bodyLimits?: readonly { method: string; path: string; maxBytes: number }[];
}

/** A restify server with request ids, request logging, body limits and JSON errors. */
export function createHttpServer({
  logger,
  maxBodyBytes,
  bodyLimits = [],
}: HttpServerOptions): restify.Server {
  const server = restify.createServer({ name: 'tro-ly-cong-dan-so', handleUncaughtExceptions: false });

  server.pre((req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const reqId = typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    req.logger = logger.child({ reqId });
    res.setHeader('x-request-id', reqId);
    res.setHeader('x-content-type-options', 'nosniff');
    return next();
  });
  server.use(restify.plugins.queryParser({ mapParams: false }));
  const [readBody, parseBody] = restify.plugins.bodyParser({
    maxBodySize: maxBodyBytes,
    mapParams: false,
    mapFiles: false,
  });
  const readDefault = keepRawBodyBytes(readBody!, maxBodyBytes);
  // Route-specific limits: only these routes read a larger body (without keeping a raw copy).
  const readers = new Map(
    bodyLimits.map((l) => [
      `${l.method.toUpperCase()} ${l.path}`,
      restify.plugins.bodyParser({ maxBodySize: l.maxBytes, mapParams: false, mapFiles: false })[0]!,
    ]),
  );
  server.use(
    (req, res, next) => (readers.get(`${req.method} ${req.getPath()}`) ?? readDefault)(req, res, next),
    parseBody!,
  );

  server.on('after', (req: restify.Request, res: restify.Response) => {
    const quiet = req.url === '/healthz' || req.url === '/readyz';
    const entry = {
      method: req.method,
      url: req.url?.split('?')[0],
      status: res.statusCode,
      ms: Date.now() - req.time(),
    };
    if (quiet) req.logger?.debug(entry, 'request');
    else req.logger?.info(entry, 'request');
  });

  // Errors as JSON bodies in the Direct Line / Bot Framework shape.
  server.on(
    'restifyError',
    (
      req: restify.Request,
      res: restify.Response,
      err: Error & { statusCode?: number; toJSON?: () => unknown },
      cb: () => void,
    ) => {
      const status = err.statusCode ?? 500;
      if (status >= 500) req.logger?.error({ err }, 'request failed');
      err.toJSON = () => ({
        error: { code: errorCode(status, err), message: status >= 500 ? 'Internal error' : err.message },
      });
      return cb();
    },
  );
  return server;
}

/**
 * Wraps restify's body reader to also keep the exact body bytes on `req.rawBodyBytes`. The tap is
 * attached in the same tick as the reader's own 'data' listener (restify runs each handler in its
 * own tick, so a separate handler would let the stream start flowing before the reader listens).
 */
function keepRawBodyBytes(readBody: restify.RequestHandler, maxBodyBytes: number): restify.RequestHandler {
  return (req, res, next) => {
    const type = req.contentType();
    // The cases restify's reader leaves the stream unread (and the gzip case it decodes).
    const unread =
      (req.getContentLength() === 0 && !req.isChunked()) ||
      type === 'multipart/form-data' ||
      type === 'application/octet-stream' ||
      req.headers['content-encoding'] !== undefined;
    if (!unread) {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxBodyBytes) chunks.push(chunk);
      });
      req.once('end', () => {
        if (size <= maxBodyBytes) req.rawBodyBytes = Buffer.concat(chunks);
      });
    }
    return readBody(req, res, next);
  };
}

function errorCode(status: number, err: Error): string {
  if (status === 413) return 'PayloadTooLarge';
  if (status === 415) return 'UnsupportedMediaType';
  if (status === 404) return 'NotFound';
  if (status === 405) return 'MethodNotAllowed';
  if (status === 400) return err.name === 'InvalidContentError' ? 'MalformedJson' : 'BadArgument';
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  if (status === 429) return 'TooManyRequests';
  return status >= 500 ? 'ServiceError' : 'BadRequest';
}

/** Sends a JSON error in one consistent shape. */
export function sendError(res: restify.Response, status: number, code: string, message: string): void {
  res.status(status);
  res.json({ error: { code, message } });
}
