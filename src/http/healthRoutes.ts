import type restify from 'restify';

export type ReadinessResult = { ok: true } | { ok: false; reason: string };

export interface ReadinessCheck {
  name: string;
  /** May be asynchronous (the store's write probe); a check that throws counts as failing. */
  check(): ReadinessResult | Promise<ReadinessResult>;
}

/** GET /healthz: the process is alive. GET /readyz: it can answer (index loaded, store writable…). */
export function registerHealthRoutes(server: restify.Server, checks: readonly ReadinessCheck[]): void {
  server.get('/healthz', async (_req, res) => {
    res.json(200, { status: 'ok' });
  });
  server.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          return { name: c.name, ...(await c.check()) };
        } catch (err) {
          return {
            name: c.name,
            ok: false as const,
            reason: err instanceof Error ? err.message : String(err),
          };
        }
      }),
    );
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
