import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedActivity {
  path: string;
  authorization?: string;
  body: {
    type: string;
    text?: string;
    replyToId?: string;
    suggestedActions?: { actions: { title: string }[] };
  } & Record<string, unknown>;
}

/**
 * A stand-in for the Bot Framework connector on 127.0.0.1: receives the bot's replies at
 * POST /v3/conversations/{id}/activities[/{replyToId}] (and updates, PUT …/activities/{id}) and
 * records them.
 */
export async function startFakeConnector() {
  const received: ReceivedActivity[] = [];
  const waiters: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      if (
        (req.method === 'POST' || req.method === 'PUT') &&
        /^\/v3\/conversations\/[^/]+\/activities/.test(req.url ?? '')
      ) {
        received.push({ path: req.url!, authorization: req.headers.authorization, body: JSON.parse(data) });
        waiters.splice(0).forEach((w) => w());
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `reply-${received.length}` }));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    /** Messages (not typing) received so far. */
    messages: () => received.filter((r) => r.body.type === 'message'),
    async waitForMessages(count: number, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.filter((r) => r.body.type === 'message').length < count) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${count} messages; got ${received.length}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let counter = 0;
/** A message activity as a channel would POST it to /api/messages. */
export function messageActivity(
  serviceUrl: string,
  text: string,
  conversationId = 'conv-1',
  userId = 'citizen-1',
) {
  counter += 1;
  return {
    type: 'message',
    id: `act-${counter}`,
    timestamp: new Date().toISOString(),
    channelId: 'emulator',
    serviceUrl,
    from: { id: userId, name: 'Công dân', role: 'user' },
    conversation: { id: conversationId },
    recipient: { id: 'bot', name: 'Trợ lý', role: 'bot' },
    text,
    locale: 'vi-VN',
  };
}
