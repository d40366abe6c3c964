/**
 * Simulated citizens for POST /api/messages. Each citizen has its own conversation and sends the
 * eval questions one after another (never two at once, like a person waiting for the answer),
 * starting at its own place in the list; after a full round it starts a new conversation.
 *
 * A message counts as answered when the bot's reply to it (replyToId = its id) reached the fake
 * connector; /api/messages itself answers 200 only after the turn ran, replies included.
 *
 * - `openLoop`: messages at a fixed overall rate (evenly spaced, not in bursts), each given to an
 *   idle citizen; latency is POST → reply at the connector, and POST → 200.
 * - `closedLoop`: autocannon, every citizen sending its next question as soon as the previous
 *   one was answered: the service's saturation throughput.
 */
import http from 'node:http';
import autocannon from 'autocannon';
import type { FakeConnector } from './connector.js';

export interface LoadOptions {
  /** The service's base URL. */
  url: string;
  connector: FakeConnector;
  questions: readonly string[];
  citizens: number;
  /** Distinguishes the conversations of one run from another's. */
  tag: string;
}

/** A Bot Framework message activity as a channel posts it to /api/messages. */
export function messageActivity(
  serviceUrl: string,
  id: string,
  conversationId: string,
  userId: string,
  text: string,
) {
  return {
    type: 'message',
    id,
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

export interface OpenLoopResult {
  /** Messages sent within the run. */
  sent: number;
  /** Sent messages whose reply reached the connector. */
  answered: number;
  /** Non-200 responses, connection errors, and messages sent but never answered. */
  errors: number;
  /** Messages due while every citizen was still waiting for an answer, and not sent by the end. */
  dropped: number;
  /** From the first send to the last answer. */
  seconds: number;
  /** POST → first reply at the connector, ms, per answered message. */
  turnMs: number[];
  /** POST → 200 from /api/messages, ms. */
  responseMs: number[];
  /** How long messages waited for an idle citizen (all were busy), ms, when any did. */
  waitedMs: number[];
}

/** Sends `rate` messages per second for `durationMs`, spread over the citizens. */
export async function openLoop(
  o: LoadOptions & { rate: number; durationMs: number },
): Promise<OpenLoopResult> {
  // One kept-alive connection per citizen, opened before the clock starts: a busy Node server
  // accepts new connections only one per event-loop turn, so connections opened under load would
  // wait seconds to be accepted (connector clients and proxies keep theirs open too).
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.citizens, keepAliveMsecs: 1000 });
  await openConnections(agent, new URL('/healthz', o.url), o.citizens);
  const target = new URL('/api/messages', o.url);
  const citizens = Array.from({ length: o.citizens }, (_, i) => ({
    index: i,
    round: 0,
    step: 0,
    offset: Math.floor((i * o.questions.length) / o.citizens),
  }));
  const idle = [...citizens];
  const waiting: number[] = []; // intended send times of messages with no idle citizen yet
  const result: OpenLoopResult = {
    sent: 0,
    answered: 0,
    errors: 0,
    dropped: 0,
    seconds: 0,
    turnMs: [],
    responseMs: [],
    waitedMs: [],
  };
  let inFlight = 0;
  let lastAnswer = 0;

  const send = (c: (typeof citizens)[number], intended: number) => {
    const now = performance.now();
    if (now - intended > 1) result.waitedMs.push(now - intended);
    const conversation = `${o.tag}-c${c.index}-r${c.round}`;
    const id = `${conversation}-m${c.step}`;
    const text = o.questions[(c.offset + c.step) % o.questions.length]!;
    const body = JSON.stringify(
      messageActivity(o.connector.url, id, conversation, `${o.tag}-u${c.index}`, text),
    );
    c.step += 1;
    if (c.step === o.questions.length) {
      c.step = 0;
      c.round += 1;
    }
    result.sent += 1;
    inFlight += 1;
    const started = performance.now();
    const done = (ok: boolean) => {
      const ended = performance.now();
      inFlight -= 1;
      const replied = o.connector.replyAt(id);
      if (ok && replied !== undefined) {
        result.answered += 1;
        result.turnMs.push(replied - started);
        result.responseMs.push(ended - started);
        lastAnswer = ended;
      } else {
        result.errors += 1;
      }
      const next = waiting.shift();
      if (next !== undefined) send(c, next);
      else idle.push(c);
    };
    const req = http.request(
      target,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200));
      },
    );
    req.on('error', () => done(false));
    req.end(body);
  };

  const start = performance.now();
  const end = start + o.durationMs;
  let scheduled = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(o.rate * (o.durationMs / 1000), Math.floor(((now - start) * o.rate) / 1000) + 1);
      while (scheduled < due) {
        const intended = start + (scheduled * 1000) / o.rate;
        scheduled += 1;
        const c = idle.shift();
        if (c) send(c, intended);
        else waiting.push(intended);
      }
      if (now < end) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  // Messages still waiting for a citizen are not sent; those in flight finish, within a bound.
  result.dropped = waiting.length;
  waiting.length = 0;
  const deadline = performance.now() + 60_000;
  while (inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  result.errors += inFlight;
  result.seconds = ((lastAnswer || performance.now()) - start) / 1000;
  agent.destroy();
  o.connector.clear();
  return result;
}

/** Opens `count` connections in `agent`'s pool (concurrent GETs of `url`) and leaves them idle. */
async function openConnections(agent: http.Agent, url: URL, count: number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve, reject) => {
          http
            .get(url, { agent }, (res) => {
              res.resume();
              res.on('end', () => resolve());
            })
            .on('error', reject);
        }),
    ),
  );
}

export interface ClosedLoopResult {
  /** 2xx responses whose message got a reply at the connector. */
  answered: number;
  /** Non-2xx responses, connection errors and timeouts. */
  errors: number;
  seconds: number;
  /** Answered messages per second over the run. */
  perSecond: number;
  /** POST → 200, ms (autocannon's per-response times). */
  responseMs: number[];
}

/**
 * autocannon with one connection per citizen, for `durationMs` or until `amount` messages;
 * `onProgress` is called with the number of responses after each one.
 */
export async function closedLoop(
  o: LoadOptions & {
    durationMs?: number;
    amount?: number;
    /** Stops the run at this time even if `amount` was not reached. */
    maxMs?: number;
    onProgress?: (responses: number) => void;
    /** Keep the per-response times (off for long runs). */
    keepTimes?: boolean;
  },
): Promise<ClosedLoopResult> {
  let conversations = 0;
  const requests = o.questions.map((_, i) => ({
    method: 'POST' as const,
    path: '/api/messages',
    headers: { 'content-type': 'application/json' },
    setupRequest: (req: autocannon.Request, context: object) => {
      // The context is the connection's (one citizen); autocannon resets it after the last
      // question, so the next round is a new conversation.
      const ctx = context as { conversation?: string; offset?: number };
      if (!ctx.conversation) {
        conversations += 1;
        ctx.conversation = `${o.tag}-k${conversations}`;
        ctx.offset = (conversations * 37) % o.questions.length;
      }
      const text = o.questions[(ctx.offset! + i) % o.questions.length]!;
      const body = messageActivity(
        o.connector.url,
        `${ctx.conversation}-m${i}`,
        ctx.conversation,
        `${ctx.conversation}-u`,
        text,
      );
      return { ...req, body: JSON.stringify(body) };
    },
  }));
  const responseMs: number[] = [];
  let responses = 0;
  let timer: NodeJS.Timeout | undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.url,
        connections: o.citizens,
        ...(o.amount ? { amount: o.amount } : { duration: (o.durationMs ?? 10_000) / 1000 }),
        timeout: 30,
        requests,
      },
      (err, r) => (err ? reject(err as Error) : resolve(r)),
    );
    instance.on('response', (_client, _status, _bytes, ms) => {
      responses += 1;
      if (o.keepTimes !== false) responseMs.push(ms);
      o.onProgress?.(responses);
    });
    if (o.maxMs) timer = setTimeout(() => instance.stop(), o.maxMs);
  });
  clearTimeout(timer);
  // Every answered message had its reply recorded by the connector before its 200 was sent.
  const replied = o.connector.replied();
  o.connector.clear();
  const answered = Math.min(result['2xx'], replied);
  return {
    answered,
    errors: result.non2xx + result.errors + result.timeouts + (result['2xx'] - answered),
    seconds: result.duration,
    perSecond: answered / result.duration,
    responseMs,
  };
}
