import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectLineClient } from '../helpers/directLineClient.js';
import { startApp, type RunningApp } from '../helpers/testApp.js';

/**
 * Property-based fuzzing of every JSON endpoint of the running app: malformed JSON, wrong types,
 * missing fields, huge strings, control characters, NFD text, emoji, ~1 MB bodies and wrong
 * content types. Every answer must be a 2xx (the input happened to be valid) or a 4xx with a JSON
 * error body `{ error: { code, message } }` — never a 5xx — and the service stays ready.
 */

const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef';
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_611);

let r: RunningApp;
let dl: DirectLineClient;

beforeAll(async () => {
  // Rate limits off (0): the fuzzed inputs must reach the handlers, not stop at a 429.
  r = await startApp({
    ADMIN_TOKEN,
    CHAT_MESSAGES_PER_MINUTE: '1000',
    RATE_LIMIT_IP_PER_MINUTE: '0',
    RATE_LIMIT_DL_USER_PER_MINUTE: '0',
    RATE_LIMIT_BOT_USER_PER_MINUTE: '0',
    RATE_LIMIT_TEAM_PER_MINUTE: '0',
  });
  dl = new DirectLineClient(r.url, 'fuzz-user');
  await dl.generate();
  await dl.start();
}, 60_000);

afterAll(async () => {
  await r?.stop();
});

// ---- text ----------------------------------------------------------------------------------

const controlChars = fc
  .array(fc.integer({ min: 0, max: 0x1f }), { minLength: 1, maxLength: 20 })
  .map((cs) => String.fromCharCode(...cs, 0x7f, 0x85, 0x2028, 0xfeff));
const nfd = fc
  .constantFrom('chữ ký số', 'Cổng Dịch vụ công', 'VNeID mức 2', 'thanh toán không dùng tiền mặt')
  .map((s) => s.normalize('NFD'));
const emoji = fc.constantFrom('👍🏽', '👨‍👩‍👧‍👦', '🇻🇳', '🙏 xin chào 😀', '\u{1F600}'.repeat(500));
const loneSurrogates = fc.constantFrom('\ud800', 'a\udfffb', '\udc00\ud800');
const huge = fc.constantFrom('a'.repeat(10_000), 'ữ'.repeat(70_000), 'x'.repeat(200_000));
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: controlChars },
  { weight: 2, arbitrary: nfd },
  { weight: 2, arbitrary: emoji },
  { weight: 1, arbitrary: loneSurrogates },
  { weight: 1, arbitrary: huge },
);

/** Any JSON value, with the strings above. */
const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    text,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 10 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** An object with some of `keys` (each any JSON value or a plausible one) and maybe junk keys. */
const objectWith = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc
    .tuple(
      fc.record(
        Object.fromEntries(
          Object.entries(fields).map(([k, plausible]) => [k, fc.oneof(plausible, jsonValue)]),
        ),
        { requiredKeys: [] },
      ),
      fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 3 }),
    )
    .map(([known, junk]) => ({ ...junk, ...known }));

// ---- bodies and content types --------------------------------------------------------------

interface Body {
  contentType?: string;
  body?: string | Uint8Array;
}

const ONE_MB = `{"text":"${'a'.repeat(1024 * 1024)}"}`;
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'application/xml',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'image/png',
  undefined,
);
const invalidJson = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.constantFrom('{', '{"type":', '[1,2', '{"a":1}}', 'nul', "{'a':1}", '{"a":"\u0000"}', '\ufeff{}', ''),
  jsonValue.map((v) => JSON.stringify(v ?? null).slice(0, -1)),
);

const bodyOf = (shape: fc.Arbitrary<unknown>): fc.Arbitrary<Body> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: shape.map((v) => ({ contentType: 'application/json', body: JSON.stringify(v) })),
    },
    {
      weight: 2,
      arbitrary: jsonValue.map((v) => ({ contentType: 'application/json', body: JSON.stringify(v) })),
    },
    { weight: 2, arbitrary: invalidJson.map((b) => ({ contentType: 'application/json', body: b })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          contentType,
          fc.oneof(
            shape.map((v) => JSON.stringify(v)),
            invalidJson,
          ),
        )
        .map(([ct, b]) => ({ contentType: ct, body: b })),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ contentType: 'application/json', body: b })),
    },
    { weight: 1, arbitrary: fc.constant({ contentType: 'application/json', body: ONE_MB }) },
    { weight: 1, arbitrary: fc.constant({}) },
  );

// ---- requests and the check ----------------------------------------------------------------

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Body;
}

async function send({ method, path, headers = {}, body }: Sent) {
  const h: Record<string, string> = { ...headers };
  if (body?.contentType) h['content-type'] = body.contentType;
  const res = await fetch(`${r.url}${path}`, {
    method,
    headers: h,
    body: method === 'GET' ? undefined : body?.body,
  });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

const short = (v: unknown) => {
  const s = typeof v === 'string' ? v : v instanceof Uint8Array ? `<${v.length} bytes>` : JSON.stringify(v);
  return s && s.length > 200 ? `${s.slice(0, 200)}…(${s.length})` : s;
};

/** Sends and throws when the answer is a 5xx, or a non-2xx without the JSON error shape. */
async function check(req: Sent): Promise<number> {
  const res = await send(req);
  const what = () =>
    `${req.method} ${short(req.path)} [${req.body?.contentType}] ${short(req.body?.body)} → ${res.status} ${res.contentType} ${short(res.text)}`;
  if (res.status >= 500) throw new Error(`5xx: ${what()}`);
  if (res.status >= 300) {
    let json: { error?: { code?: unknown; message?: unknown } } | undefined;
    try {
      json = JSON.parse(res.text) as typeof json;
    } catch {
      throw new Error(`non-JSON error: ${what()}`);
    }
    if (!/^application\/json/.test(res.contentType)) throw new Error(`error not served as JSON: ${what()}`);
    if (typeof json?.error?.code !== 'string' || typeof json.error.message !== 'string')
      throw new Error(`error body without {error:{code,message}}: ${what()}`);
  }
  return res.status;
}

const runs = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true });

const account = objectWith({ id: text, name: text, role: fc.constantFrom('user', 'bot') });
const activityShape = objectWith({
  type: fc.constantFrom('message', 'event', 'typing', 'conversationUpdate', 'invoke', 'trace', ''),
  text,
  name: text,
  value: jsonValue,
  locale: fc.constantFrom('vi-VN', 'en', ''),
  channelId: fc.constantFrom('emulator', 'msteams', 'directline', ''),
  serviceUrl: fc.constantFrom('http://127.0.0.1:9', 'not a url', '', 'ftp://x'),
  conversation: objectWith({ id: text }),
  from: account,
  recipient: account,
  channelData: objectWith({ clientActivityID: text }),
  membersAdded: fc.array(account, { maxLength: 2 }),
  timestamp: fc.oneof(
    text,
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  ),
  id: text,
});

const teamRoutes: { method: string; path: (id: string) => string; shape: fc.Arbitrary<unknown> }[] = [
  { method: 'GET', path: () => '/api/team/me', shape: jsonValue },
  { method: 'GET', path: () => '/api/team/questions', shape: jsonValue },
  { method: 'GET', path: () => '/api/team/questions.csv', shape: jsonValue },
  { method: 'GET', path: (id) => `/api/team/questions/${id}`, shape: jsonValue },
  { method: 'POST', path: (id) => `/api/team/questions/${id}/claim`, shape: jsonValue },
  { method: 'POST', path: (id) => `/api/team/questions/${id}/answer`, shape: objectWith({ text }) },
  { method: 'POST', path: (id) => `/api/team/questions/${id}/escalate`, shape: objectWith({ note: text }) },
  { method: 'POST', path: (id) => `/api/team/questions/${id}/close`, shape: jsonValue },
  { method: 'POST', path: (id) => `/api/team/questions/${id}/takeover`, shape: jsonValue },
  { method: 'POST', path: (id) => `/api/team/questions/${id}/messages`, shape: objectWith({ text }) },
  { method: 'POST', path: (id) => `/api/team/questions/${id}/handback`, shape: jsonValue },
  {
    method: 'POST',
    path: (id) => `/api/team/questions/${id}/promote`,
    shape: objectWith({ answer: text, question: text, title: text, topic: text }),
  },
  { method: 'GET', path: () => '/api/team/trends', shape: jsonValue },
  { method: 'GET', path: () => '/api/team/feedback', shape: jsonValue },
  { method: 'GET', path: () => '/api/team/members', shape: jsonValue },
  {
    method: 'POST',
    path: () => '/api/team/members',
    shape: objectWith({
      name: text,
      role: fc.constantFrom('member', 'admin', 'root'),
      communes: fc.array(fc.oneof(text, jsonValue), { maxLength: 3 }),
    }),
  },
  { method: 'POST', path: (id) => `/api/team/members/${id}/disable`, shape: jsonValue },
  {
    method: 'PUT',
    path: (id) => `/api/team/communes/${id}/webhook`,
    shape: objectWith({ url: fc.constantFrom('https://example.invalid/hook', 'ftp://x', '', null) }),
  },
  { method: 'GET', path: () => '/api/team/webhooks', shape: jsonValue },
  { method: 'GET', path: () => '/api/team/audit', shape: jsonValue },
];

/** Lone surrogates replaced, so the text can be URI-encoded. */
const wellFormed = (s: string) => s.replace(/[\ud800-\udfff]/gu, '\ufffd');

const pathId = fc.oneof(
  fc.constantFrom('1', 'q-1', '0', '-1', '%00', '..%2F..%2Fetc', '%E0%A4%A'),
  text.filter((s) => s.length > 0 && s.length < 300).map((s) => encodeURIComponent(wellFormed(s))),
);

describe('fuzzing the JSON endpoints (fast-check)', () => {
  it('POST /api/messages never answers a 5xx or a non-JSON error', async () => {
    await fc.assert(
      fc.asyncProperty(bodyOf(activityShape), async (body) => {
        await check({ method: 'POST', path: '/api/messages', body });
      }),
      runs(500),
    );
  });

  it('POST /v3/directline/tokens/generate', async () => {
    await fc.assert(
      fc.asyncProperty(bodyOf(objectWith({ user: objectWith({ id: text, name: text }) })), async (body) => {
        await check({ method: 'POST', path: '/v3/directline/tokens/generate', body });
      }),
      runs(300),
    );
  });

  it('POST /v3/directline/conversations, with and without a token', async () => {
    const auth = fc.constantFrom<Record<string, string>>(
      {},
      { authorization: 'Bearer nope' },
      { authorization: 'Bearer ' },
      { authorization: 'Basic abc' },
    );
    await fc.assert(
      fc.asyncProperty(
        bodyOf(objectWith({ user: account, locale: text })),
        fc.oneof(auth, fc.constant(null)),
        async (body, headers) => {
          await check({
            method: 'POST',
            path: '/v3/directline/conversations',
            headers: headers ?? { authorization: `Bearer ${dl.token}` },
            body,
          });
        },
      ),
      runs(300),
    );
  });

  it('POST /v3/directline/conversations/:id/activities with a valid token', async () => {
    await fc.assert(
      fc.asyncProperty(
        bodyOf(activityShape),
        fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, pathId),
        async (body, id) => {
          await check({
            method: 'POST',
            path: `/v3/directline/conversations/${id ?? dl.conversationId}/activities`,
            headers: { authorization: `Bearer ${dl.token}` },
            body,
          });
        },
      ),
      runs(800),
    );
  });

  it('/api/team/* with the admin token, a wrong token and none', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 0, max: teamRoutes.length - 1 })
          .chain((i) => fc.tuple(fc.constant(teamRoutes[i]!), bodyOf(teamRoutes[i]!.shape))),
        pathId,
        fc.constantFrom<Record<string, string>>(
          { authorization: `Bearer ${ADMIN_TOKEN}` },
          { authorization: `Bearer ${ADMIN_TOKEN}` },
          { authorization: `Bearer ${ADMIN_TOKEN}` },
          { authorization: 'Bearer wrong' },
          {},
        ),
        async ([route, body], id, headers) => {
          await check({ method: route.method, path: route.path(id), headers, body });
        },
      ),
      runs(1000),
    );
  });

  it('POST /api/zalo (channel off: 404)', async () => {
    await fc.assert(
      fc.asyncProperty(
        bodyOf(objectWith({ event_name: text, message: objectWith({ text }) })),
        async (body) => {
          const status = await check({ method: 'POST', path: '/api/zalo', body });
          expect([404, 413, 400, 415]).toContain(status);
        },
      ),
      runs(150),
    );
  });

  it('stays ready afterwards', async () => {
    const res = await fetch(`${r.url}/readyz`);
    expect(res.status).toBe(200);
    // and a normal conversation still works
    const posted = await dl.post('chữ ký số là gì');
    expect(posted.status).toBe(200);
    await dl.waitFor((bot) => bot.some((b) => /Nguồn: /.test(b.text ?? '')), 15_000);
  });
});
