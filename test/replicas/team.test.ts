import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOINED_TEXT, RESUMED_TEXT } from '../../src/team/takeover.js';
import { prebuiltDataDir } from '../faults/service.js';
import { DirectLineClient, until, type DlActivity } from '../helpers/directLineClient.js';
import { removeDir } from '../helpers/knowledge.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { onPostgres, startApp, type RunningApp } from '../helpers/testApp.js';

/**
 * The community team inbox on two replicas of the service sharing one PostgreSQL (issue 10): a question
 * forwarded by a citizen connected to B shows on A's inbox and live stream; an answer sent through A
 * reaches the citizen on B; two members claiming at once on A and B get one 200 and one 409; a takeover
 * started on A silences the bot for the citizen's next message sent through B.
 */

const ADMIN = 'replica-team-admin-token-0123456789abcdef';
const COMMUNE = 'phường Vị Thanh';

interface Json {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function api(
  r: RunningApp,
  method: string,
  p: string,
  body?: unknown,
  token: string = ADMIN,
): Promise<Json> {
  const res = await fetch(`${r.url}/api/team${p}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const botTexts = (all: DlActivity[]) =>
  all.filter((a) => a.from.role === 'bot' && a.type === 'message').map((a) => a.text ?? '');

/** A citizen on web chat, connected to `r`, who asks the commune team `question`. */
async function forward(r: RunningApp, userId: string, question: string): Promise<DirectLineClient> {
  const c = new DirectLineClient(r.url, userId);
  await c.generate();
  await c.start();
  await c.post('gặp tổ công nghệ số');
  await c.waitFor((bot) => bot.some((b) => /Bạn muốn hỏi Tổ công nghệ số/.test(b.text ?? '')));
  await c.post(question);
  await c.waitFor((bot) => bot.some((b) => /xã\/phường nào/.test(b.text ?? '')));
  await c.post(`${COMMUNE}, Hậu Giang`);
  await c.waitFor((bot) => bot.some((b) => /Mình đã chuyển câu hỏi của bạn/.test(b.text ?? '')));
  return c;
}

/** The dashboard's live stream on one replica (EventSource sends the token in the query). */
async function eventStream(r: RunningApp, token = ADMIN) {
  const controller = new AbortController();
  const res = await fetch(`${r.url}/api/team/events?token=${encodeURIComponent(token)}`, {
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  const stream = { text: '', close: () => controller.abort() };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        stream.text += decoder.decode(value, { stream: true });
      }
    } catch {
      // aborted
    }
  })();
  await until(() => stream.text.includes(': connected'), 5000, 'the event stream');
  return stream;
}

/** The `data` of each SSE event of a type received so far. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function events(text: string, type: string): any[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith(`event: ${type}\n`))
    .map((frame) => JSON.parse(frame.slice(frame.indexOf('data: ') + 6)));
}

describe.runIf(onPostgres)('the team inbox on two replicas sharing one PostgreSQL', () => {
  let database: TestDatabase;
  let a: RunningApp;
  let b: RunningApp;
  const dataDirs: string[] = [];
  let hook: { server: http.Server; url: string; received: Record<string, unknown>[] };
  let lan: { member: { id: string }; token: string };
  let minh: { member: { id: string }; token: string };

  beforeAll(async () => {
    database = await createTestDatabase();
    const dirA = await prebuiltDataDir('tlcds-team-replica-a-');
    const dirB = await prebuiltDataDir('tlcds-team-replica-b-');
    dataDirs.push(dirA, dirB);
    // Started together: both migrate the same database (one at a time, under the migrations lock).
    const shared = { DATABASE_URL: database.url, ADMIN_TOKEN: ADMIN };
    [a, b] = await Promise.all([
      startApp({ ...shared, DATA_DIR: dirA }),
      startApp({ ...shared, DATA_DIR: dirB }),
    ]);
    expect(a.port).not.toBe(b.port);

    const received: Record<string, unknown>[] = [];
    const server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        received.push(JSON.parse(data) as Record<string, unknown>);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    hook = { server, received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };

    // Accounts and the webhook made on one replica are known to the other.
    const created = await api(a, 'POST', '/members', { name: 'Chị Lan', communes: [COMMUNE] });
    expect(created.status).toBe(200);
    lan = created.body;
    minh = (await api(b, 'POST', '/members', { name: 'Anh Minh', communes: [COMMUNE] })).body;
    expect((await api(b, 'GET', '/me', undefined, lan.token)).body).toMatchObject({ name: 'Chị Lan' });
    expect((await api(a, 'GET', '/me', undefined, minh.token)).body).toMatchObject({ name: 'Anh Minh' });
    const set = await api(b, 'PUT', `/communes/${encodeURIComponent(COMMUNE)}/webhook`, { url: hook.url });
    expect(set.status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await a?.stop().catch(() => undefined);
    await b?.stop().catch(() => undefined);
    await database?.drop();
    await new Promise((resolve) => hook?.server.close(resolve));
    dataDirs.forEach(removeDir);
  });

  it("shows a question forwarded on B in A's inbox and live stream; A's answer reaches the citizen on B", async () => {
    const live = await eventStream(a);
    try {
      const citizen = await forward(b, 'citizen-replica-1', 'Đổi số điện thoại trên VNeID ở phường thế nào');

      // A's inbox lists it, and A's dashboard stream was told (the change was made on B).
      const list = await api(a, 'GET', '/questions');
      expect(list.status).toBe(200);
      const q = list.body.items.find((i: { text: string }) => /Đổi số điện thoại/.test(i.text));
      expect(q).toMatchObject({ status: 'open', channel: 'directline', commune: `${COMMUNE}, Hậu Giang` });
      await until(
        () => events(live.text, 'question').some((e) => e.id === q.id && e.status === 'open'),
        5000,
        "the new question on A's event stream",
      );
      // The commune's webhook was sent once, by the replica that logged the question.
      await until(() => hook.received.length > 0, 5000, 'the commune webhook');
      await new Promise((res) => setTimeout(res, 300));
      expect(hook.received).toHaveLength(1);
      expect(hook.received[0]).toMatchObject({ questionId: q.id });

      // The citizen's stream on B; the answer is sent through A.
      const { json } = await citizen.reconnect();
      expect(json.streamUrl).toContain(`:${b.port}/`);
      const socket = await citizen.openStream(json.streamUrl);
      try {
        const text = 'Bạn mang CCCD gắn chip ra Công an phường để cập nhật số điện thoại nhé.';
        const answered = await api(a, 'POST', `/questions/${q.id}/answer`, { text });
        expect(answered.status).toBe(200);
        expect(answered.body.delivered).toEqual([{ questionId: q.id, status: 'sent' }]);
        const expected = `Tổ công nghệ số trả lời: ${text}`;
        await until(
          () => socket.received.some((x) => x.text === expected),
          10_000,
          "the team's answer on the citizen's WebSocket on B",
        );
        // And by polling B.
        await citizen.waitFor((bot) => bot.some((m) => m.text === expected));
        expect(
          botTexts((await citizen.activities()).json.activities).filter((t) => t === expected),
        ).toHaveLength(1);
      } finally {
        socket.close();
      }
      // B sees it answered; answering again on B is refused.
      expect((await api(b, 'GET', `/questions/${q.id}`)).body.status).toBe('answered');
      expect((await api(b, 'POST', `/questions/${q.id}/answer`, { text: 'lại' })).status).toBe(409);
      await until(
        () => events(live.text, 'question').some((e) => e.id === q.id && e.status === 'answered'),
        5000,
        "the answered question on A's event stream",
      );
    } finally {
      live.close();
    }
  });

  it('lets exactly one of two members claiming at once on A and B win; the other gets 409', async () => {
    await forward(a, 'citizen-replica-2', 'Điểm hỗ trợ cài VNeID của phường mở cửa mấy giờ');
    const q = (await api(b, 'GET', '/questions?status=open')).body.items.find((i: { text: string }) =>
      /Điểm hỗ trợ cài VNeID/.test(i.text),
    );
    expect(q).toBeDefined();
    for (let round = 1; round <= 5; round++) {
      const [onA, onB] = await Promise.all([
        api(a, 'POST', `/questions/${q.id}/claim`, undefined, lan.token),
        api(b, 'POST', `/questions/${q.id}/claim`, undefined, minh.token),
      ]);
      expect([onA.status, onB.status].sort(), `round ${round}`).toEqual([200, 409]);
      const winner =
        onA.status === 200 ? { r: a, m: lan, name: 'Chị Lan' } : { r: b, m: minh, name: 'Anh Minh' };
      const now = (await api(a, 'GET', `/questions/${q.id}`)).body;
      expect(now).toMatchObject({
        status: 'claimed',
        assignee: { id: winner.m.member.id, name: winner.name },
      });
      // Escalated, it can be claimed again (next round).
      expect(
        (await api(winner.r, 'POST', `/questions/${q.id}/escalate`, { note: 'vòng sau' }, winner.m.token))
          .status,
      ).toBe(200);
    }
    const claims = (await api(a, 'GET', `/audit?target=${q.id}`)).body.items.filter(
      (e: { action: string }) => e.action === 'question.claim',
    );
    expect(claims).toHaveLength(5);

    // Two answers at once: one is sent, the other refused.
    const [x, y] = await Promise.all([
      api(a, 'POST', `/questions/${q.id}/answer`, { text: 'Từ 7 giờ 30 sáng thứ Bảy.' }, lan.token),
      api(b, 'POST', `/questions/${q.id}/answer`, { text: 'Sáng thứ Bảy, 7 giờ 30.' }, minh.token),
    ]);
    expect([x.status, y.status].sort()).toEqual([200, 409]);
  });

  it("keeps a takeover started on A for the citizen's next message sent through B", async () => {
    // The citizen starts on A and continues on B (another replica behind the load balancer).
    const onA = await forward(
      a,
      'citizen-replica-3',
      'Tôi muốn có người hướng dẫn trực tiếp cài VNeID giúp mẹ',
    );
    const onB = new DirectLineClient(b.url, 'citizen-replica-3');
    onB.token = onA.token;
    onB.conversationId = onA.conversationId;
    const q = (await api(a, 'GET', '/questions?status=open', undefined, lan.token)).body.items.find(
      (i: { text: string }) => /hướng dẫn trực tiếp/.test(i.text),
    );
    expect(q).toBeDefined();
    const live = await eventStream(a, lan.token);
    try {
      expect((await api(a, 'POST', `/questions/${q.id}/takeover`, undefined, lan.token)).body).toEqual({
        takenOver: true,
      });
      // Another member cannot take it over on B.
      expect((await api(b, 'POST', `/questions/${q.id}/takeover`, undefined, minh.token)).status).toBe(409);
      await onB.waitFor((bot) => bot.some((m) => m.text === JOINED_TEXT));
      expect((await api(b, 'GET', `/questions/${q.id}`)).body.takenOver).toBe(true);

      const before = botTexts((await onB.activities()).json.activities).length;
      expect((await onB.post('mẹ tôi dùng điện thoại Samsung đời cũ')).status).toBe(200);
      // The message goes to the team (A's dashboard stream and the transcript), the bot stays silent.
      await until(
        () => events(live.text, 'message').some((e) => e.questionId === q.id && /Samsung/.test(e.text)),
        5000,
        "the relayed message on A's event stream",
      );
      await b.app.directLine.idle();
      await new Promise((res) => setTimeout(res, 500));
      expect(botTexts((await onB.activities()).json.activities)).toHaveLength(before);
      const detail = (await api(a, 'GET', `/questions/${q.id}`)).body;
      expect(
        detail.transcript.some(
          (t: { from: string; text: string }) => t.from === 'user' && /Samsung/.test(t.text),
        ),
      ).toBe(true);

      // The member's reply through A reaches the citizen on B; handing back on B resumes the bot.
      const sent = await api(
        a,
        'POST',
        `/questions/${q.id}/messages`,
        { text: 'Chiều nay 3 giờ nhé.' },
        lan.token,
      );
      expect(sent.status).toBe(200);
      await onB.waitFor((bot) => bot.some((m) => m.text === 'Tổ công nghệ số trả lời: Chiều nay 3 giờ nhé.'));
      expect((await api(b, 'POST', `/questions/${q.id}/handback`, undefined, lan.token)).body).toEqual({
        takenOver: false,
      });
      await onA.waitFor((bot) => bot.some((m) => m.text === RESUMED_TEXT));
      const count = botTexts((await onA.activities()).json.activities).length;
      await onA.post('quên mật khẩu VNeID thì làm sao');
      await onB.waitFor((bot) => bot.length > count && /VNeID/i.test(bot.at(-1)!.text ?? ''));
      const resumed = (await onA.activities()).json.activities as DlActivity[];
      expect(botTexts(resumed).filter((t) => t === RESUMED_TEXT)).toHaveLength(1);
    } finally {
      live.close();
    }
  });
});
