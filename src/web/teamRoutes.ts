import fs from 'node:fs';
import path from 'node:path';
import type restify from 'restify';
import { projectRoot, sendSecureHtml, serveFile } from './webchatRoutes.js';

/**
 * The community team dashboard at /team (issue 7): a static page, its script and its style. All data
 * comes from /api/team/* with the member's bearer token; only our own script runs on the page.
 */
export function registerTeamDashboardRoutes(server: restify.Server): void {
  const dir = path.join(projectRoot(), 'src', 'web', 'team');
  const page = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');

  const sendPage = async (_req: restify.Request, res: restify.Response) => {
    sendSecureHtml(
      res,
      page,
      [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        // fetch and the EventSource of /api/team/events. The EventSource URL carries the token,
        // which is why no referrer is ever sent.
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
      ],
      'DENY',
    );
  };
  server.get('/team', sendPage);
  server.get('/team/', sendPage);

  server.get(
    '/team/team.js',
    serveFile(path.join(dir, 'team.js'), 'application/javascript; charset=utf-8', 300),
  );
  server.get('/team/team.css', serveFile(path.join(dir, 'team.css'), 'text/css; charset=utf-8', 300));
}
