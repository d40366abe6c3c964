/**
 * Citizens on the web chat's channel: our Direct Line 3.0 API as Web Chat uses it. Each citizen
 * gets a token (POST /v3/directline/tokens/generate), starts the conversation, opens the WebSocket
 * stream and then asks the eval questions one after another; a turn is POST …/activities → the
 * bot's message replying to it (replyToId = the echo's id) arriving on the stream.
 *
 * Token generation is limited to 20 conversations per minute per IP (the channel's default), so
 * the bench uses at most that many citizens, each with one conversation.
 */
import WebSocket from 'ws';

export interface DirectLineResult {
  sent: number;
  answered: number;
  errors: number;
  seconds: number;
  /** POST activity → bot reply on the stream, ms. */
  turnMs: number[];
  /** The first error, if any. */
  firstError?: string;
}

interface Frame {
  activities?: { type: string; replyToId?: string; from?: { role?: string } }[];
}

export async function directLineLoad(o: {
  url: string;
  questions: readonly string[];
  citizens: number;
  durationMs: number;
  tag: string;
}): Promise<DirectLineResult> {
  const result: DirectLineResult = { sent: 0, answered: 0, errors: 0, seconds: 0, turnMs: [] };
  const sessions = await Promise.all(
    Array.from({ length: o.citizens }, (_, i) => openSession(o.url, `${o.tag}-${i}`)),
  );
  const start = performance.now();
  const end = start + o.durationMs;
  await Promise.all(
    sessions.map(async (s, i) => {
      let step = Math.floor((i * o.questions.length) / o.citizens);
      while (performance.now() < end) {
        const text = o.questions[step % o.questions.length]!;
        step += 1;
        result.sent += 1;
        const started = performance.now();
        try {
          const res = await fetch(`${o.url}/v3/directline/conversations/${s.conversationId}/activities`, {
            method: 'POST',
            headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              type: 'message',
              text,
              from: { id: s.userId, role: 'user' },
              locale: 'vi-VN',
              channelData: { clientActivityID: `${s.userId}-${step}` },
            }),
          });
          if (res.status !== 200) throw new Error(`POST activities: ${res.status}`);
          const { id } = (await res.json()) as { id: string };
          const at = await s.reply(id, 30_000);
          result.turnMs.push(at - started);
          result.answered += 1;
        } catch (err) {
          result.errors += 1;
          result.firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  result.seconds = (performance.now() - start) / 1000;
  for (const s of sessions) s.close();
  return result;
}

async function openSession(url: string, userId: string) {
  const gen = await fetch(`${url}/v3/directline/tokens/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: { id: userId } }),
  });
  if (gen.status !== 200) throw new Error(`tokens/generate: ${gen.status}`);
  const { token, conversationId } = (await gen.json()) as { token: string; conversationId: string };
  const started = await fetch(`${url}/v3/directline/conversations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user: { id: userId }, locale: 'vi-VN' }),
  });
  if (started.status !== 201 && started.status !== 200)
    throw new Error(`POST conversations: ${started.status}`);
  const { streamUrl } = (await started.json()) as { streamUrl: string };

  // Replies by the activity they answer; a reply may arrive before the POST's response does.
  const arrived = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  let welcomed: () => void = () => undefined;
  const welcome = new Promise<void>((resolve) => (welcomed = resolve));
  const ws = new WebSocket(streamUrl);
  ws.on('message', (data: Buffer) => {
    const at = performance.now();
    const text = data.toString();
    if (!text) return;
    for (const a of (JSON.parse(text) as Frame).activities ?? []) {
      if (a.from?.role !== 'bot' || a.type !== 'message') continue;
      if (!a.replyToId) {
        welcomed();
        continue;
      }
      const waiter = waiters.get(a.replyToId);
      if (waiter) {
        waiters.delete(a.replyToId);
        waiter(at);
      } else if (!arrived.has(a.replyToId)) arrived.set(a.replyToId, at);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  await Promise.race([welcome, new Promise((r) => setTimeout(r, 5000))]);
  return {
    userId,
    token,
    conversationId,
    reply(activityId: string, timeoutMs: number): Promise<number> {
      const at = arrived.get(activityId);
      if (at !== undefined) {
        arrived.delete(activityId);
        return Promise.resolve(at);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(activityId);
          reject(new Error('no reply'));
        }, timeoutMs);
        waiters.set(activityId, (t) => {
          clearTimeout(timer);
          resolve(t);
        });
      });
    },
    close: () => ws.close(),
  };
}
