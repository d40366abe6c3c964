/**
 * A fake Bot Framework connector on loopback for the /api/messages load: the activities the bench
 * posts carry its URL as serviceUrl, so the bot's replies come here
 * (POST /v3/conversations/{id}/activities/{replyToId}) and are answered 200 `{ id }` at once.
 * It keeps counts and, for each activity replied to, when its first message reply arrived; bodies
 * are not kept, so a long run costs no memory beyond the ids it is asked to track.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeConnector {
  url: string;
  /** Message activities received (typing and others excluded). */
  messages(): number;
  /** When the first message replying to `activityId` arrived (performance.now()), if it did. */
  replyAt(activityId: string): number | undefined;
  /** Activities with at least one message reply since the last `clear`. */
  replied(): number;
  /** Forgets the arrival times recorded so far (keeps the message count). */
  clear(): void;
  close(): Promise<void>;
}

const ROUTE = /^\/v3\/conversations\/[^/]+\/activities(?:\/([^/?]+))?/;

export async function startFakeConnector(): Promise<FakeConnector> {
  let messages = 0;
  let ids = 0;
  let first = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const m = req.method === 'POST' ? ROUTE.exec(req.url ?? '') : null;
      if (!m) {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        type?: string;
        replyToId?: string;
      };
      if (body.type === 'message') {
        messages += 1;
        const replyTo = body.replyToId ?? (m[1] ? decodeURIComponent(m[1]) : undefined);
        if (replyTo && !first.has(replyTo)) first.set(replyTo, at);
      }
      ids += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"id":"reply-${ids}"}`);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    messages: () => messages,
    replyAt: (id) => first.get(id),
    replied: () => first.size,
    clear: () => (first = new Map()),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
