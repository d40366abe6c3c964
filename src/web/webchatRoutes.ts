import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type restify from 'restify';
import type { Config } from '../config.js';

/** The project root, whether running from src/ (tsx) or dist/src/ (compiled). */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist')
    dir = path.dirname(dir);
  return dir;
}

/** Sends an HTML page with a Content-Security-Policy and the usual protective headers. */
export function sendSecureHtml(
  res: restify.Response,
  page: string,
  csp: string[],
  frame: 'DENY' | 'SAMEORIGIN',
): void {
  res.setHeader('content-security-policy', csp.join('; '));
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', frame);
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.writeHead(200);
  res.end(page);
}

/** A handler streaming one static file. */
export const serveFile =
  (file: string, type: string, maxAge: number) => async (_req: restify.Request, res: restify.Response) => {
    res.setHeader('content-type', type);
    res.setHeader('cache-control', `public, max-age=${maxAge}`);
    res.writeHead(200);
    fs.createReadStream(file).pipe(res);
  };

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The citizen chat page at / and /webchat, its script and style, and the Web Chat bundle served
 * from node_modules (no CDN). Only our own scripts run on the page (see the CSP header).
 */
export function registerWebChatRoutes(
  server: restify.Server,
  config: Pick<Config, 'brandName' | 'webchat'>,
): void {
  const publicDir = path.join(projectRoot(), 'src', 'web', 'public');
  const require = createRequire(import.meta.url);
  const bundle = path.join(path.dirname(require.resolve('botframework-webchat')), '..', 'dist', 'webchat.js');
  const logo = config.webchat.logoUrl;
  const page = fs
    .readFileSync(path.join(publicDir, 'index.html'), 'utf8')
    .replaceAll('{{brandName}}', escapeHtml(config.brandName))
    .replaceAll('{{primaryColor}}', escapeHtml(config.webchat.primaryColor))
    .replace('{{logo}}', logo ? `<img src="${escapeHtml(logo)}" alt="" />` : '');
  const logoOrigin = logo && /^https?:\/\//.test(logo) ? new URL(logo).origin : '';

  const sendPage = async (req: restify.Request, res: restify.Response) => {
    const host = req.headers.host ?? '';
    sendSecureHtml(
      res,
      page,
      [
        "default-src 'self'",
        "script-src 'self'",
        // Web Chat injects its styles at run time.
        "style-src 'self' 'unsafe-inline'",
        `img-src 'self' data: blob: ${logoOrigin}`.trim(),
        `connect-src 'self' ws://${host} wss://${host}`,
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "form-action 'none'",
      ],
      'SAMEORIGIN',
    );
  };
  server.get('/favicon.ico', async (_req, res) => {
    res.writeHead(204);
    res.end();
  });
  server.get('/', sendPage);
  server.get('/webchat', sendPage);

  server.get(
    '/webchat/app.js',
    serveFile(path.join(publicDir, 'app.js'), 'application/javascript; charset=utf-8', 300),
  );
  server.get('/webchat/app.css', serveFile(path.join(publicDir, 'app.css'), 'text/css; charset=utf-8', 300));
  server.get('/webchat/webchat.js', serveFile(bundle, 'application/javascript; charset=utf-8', 86_400));
  server.get(
    '/webchat/webchat.js.LICENSE.txt',
    serveFile(`${bundle}.LICENSE.txt`, 'text/plain; charset=utf-8', 86_400),
  );
}
