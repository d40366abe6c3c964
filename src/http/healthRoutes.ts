import type restify from 'restify';

export interface ReadinessCheck {
  name: string;
  check(): { ok: true } | { ok: false; reason: string };
}

/** GET /healthz: the process is alive. GET /readyz: it can answer (index loaded, store writable…). */
export function registerHealthRoutes(server: restify.Server, checks: readonly ReadinessCheck[]): void {
  server.get('/healthz', async (_req, res) => {
    res.json(200, { status: 'ok' });
  });
  server.get('/readyz', async (_req, res) => {
    const results = checks.map((c) => ({ name: c.name, ...c.check() }));
    const failing = results.filter((r): r is { name: string; ok: false; reason: string } => !r.ok);
    if (failing.length === 0) {
      res.json(200, { status: 'ready', checks: results.map((r) => ({ name: r.name, ok: true })) });
    } else {
      res.json(503, {
        status: 'not_ready',
        reason: failing.map((f) => `${f.name}: ${f.reason}`).join('; '),
        checks: results,
      });
    }
  });
}
