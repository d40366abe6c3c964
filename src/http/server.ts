import { randomUUID } from 'node:crypto';
import restify from 'restify';
import type { Logger } from '../logger.js';

declare module 'restify' {
  interface Request {
    /** Logger bound to this request's id. */
    logger?: Logger;
  }
}

export interface HttpServerOptions {
  logger: Logger;
  /** Largest accepted request body; larger ones get 413. */
  maxBodyBytes: number;
}

/** A restify server with request ids, request logging, body limits and JSON errors. */
export function createHttpServer({ logger, maxBodyBytes }: HttpServerOptions): restify.Server {
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
  server.use(restify.plugins.bodyParser({ maxBodySize: maxBodyBytes, mapParams: false, mapFiles: false }));

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
