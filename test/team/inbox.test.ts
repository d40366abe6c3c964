import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOINED_TEXT, RESUMED_TEXT } from '../../src/team/takeover.js';
import { DirectLineClient, until, type DlActivity } from '../helpers/directLineClient.js';
import { REAL_KNOWLEDGE_DIR, removeDir } from '../helpers/knowledge.js';
import { startApp, tempDataDir, type RunningApp } from '../helpers/testApp.js';

const ADMIN = 'admin-bootstrap-token-for-tests-0123456789';
const VI_THANH = 'phường Vị Thanh';
const LONG_MY = 'xã Long Mỹ';

let r: RunningApp;
let knowledgeDir: string;
let dataDir: string;
let hook: { server: http.Server; url: string; received: Record<string, unknown>[] };

interface Json {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
  text: string;
}

async function api(token: string | undefined, method: string, p: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${r.url}/api/team${p}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, headers: res.headers, text };
}

const botTexts = (all: DlActivity[]) =>
  all.filter((a) => a.from.role === 'bot' && a.type === 'message').map((a) => a.text ?? '');

/** A citizen on web chat who asks the commune team `question` (via "gặp tổ công nghệ số"). */
async function forward(userId: string, question: string, commune: string): Promise<DirectLineClient> {
  const c = new DirectLineClient(r.url, userId);
  await c.generate();
  await c.start();
  await c.post('gặp tổ công nghệ số');
  await c.waitFor((bot) => bot.some((b) => /Bạn muốn hỏi Tổ công nghệ số/.test(b.text ?? '')));
  await c.post(question);
  await c.waitFor((bot) => bot.some((b) => /xã\/phường nào/.test(b.text ?? '')));
  await c.post(commune);
  await c.waitFor((bot) => bot.some((b) => /Mình đã chuyển câu hỏi của bạn/.test(b.text ?? '')));
  return c;
}

async function addMember(name: string, communes: string[], role = 'member') {
  const res = await api(ADMIN, 'POST', '/members', { name, role, communes });
  expect(res.status).toBe(200);
  return res.body as { member: { id: string }; token: string };
}

beforeAll(async () => {
  knowledgeDir = tempDataDir('tlcds-team-knowledge-');
  fs.cpSync(REAL_KNOWLEDGE_DIR, knowledgeDir, { recursive: true });
  dataDir = tempDataDir('tlcds-team-');
  r = await startApp({ ADMIN_TOKEN: ADMIN, KNOWLEDGE_DIR: knowledgeDir, DATA_DIR: dataDir });
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
});

afterAll(async () => {
  await r?.stop();
  await new Promise((resolve) => hook?.server.close(resolve));
  removeDir(knowledgeDir);
  removeDir(dataDir);
});

describe('team inbox', () => {
  let viThanh: { member: { id: string }; token: string };
  let longMy: { member: { id: string }; token: string };
  let firstId = '';

  it('takes a web chat question to the team (redacted, webhook) and the answer back to the citizen', async () => {
    viThanh = await addMember('Chị Lan', [VI_THANH]);
    longMy = await addMember('Anh Minh', [LONG_MY]);
    const setHook = await api(ADMIN, 'PUT', `/communes/${encodeURIComponent(VI_THANH)}/webhook`, {
      url: hook.url,
    });
    expect(setHook.status).toBe(200);
    expect((await api(viThanh.token, 'PUT', '/communes/x/webhook', { url: hook.url })).status).toBe(403);
    expect((await api(ADMIN, 'PUT', '/communes/x/webhook', { url: 'file:///etc/passwd' })).status).toBe(400);

    const citizen = await forward(
      'citizen-team-1',
      'Đổi số điện thoại trên VNeID thế nào, số cũ 0912345678, CCCD 079203001234',
      `${VI_THANH}, Hậu Giang`,
    );

    const me = await api(viThanh.token, 'GET', '/me');
    expect(me.body).toMatchObject({ name: 'Chị Lan', role: 'member', communes: [VI_THANH] });

    const list = await api(viThanh.token, 'GET', '/questions');
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const q = list.body.items[0];
    firstId = q.id;
    expect(q).toMatchObject({ status: 'open', channel: 'directline', groupSize: 1, takenOver: false });
    expect(list.body.counts.open).toBe(1);
    // Redaction: neither the API nor the stored row holds the phone or CCCD number.
    expect(JSON.stringify(list.body)).not.toMatch(/0912345678|079203001234/);
    const row = await r.app.assistant.sql.get('SELECT * FROM questions WHERE id = ?', [q.id]);
    expect(JSON.stringify(row)).not.toMatch(/0912345678|079203001234/);
    expect(q.text).toMatch(/^Đổi số điện thoại trên VNeID/);

    // The commune's webhook was told.
    await until(() => hook.received.length > 0, 5000, 'the commune webhook');
    expect(hook.received[0]).toMatchObject({ questionId: q.id, commune: `${VI_THANH}, Hậu Giang` });
    expect(String(hook.received[0]!.url)).toContain(q.id);
    expect(String(hook.received[0]!.text)).not.toMatch(/0912345678/);

    // Roles: another commune's member sees nothing and may not act; no token → 401.
    expect((await api(longMy.token, 'GET', '/questions')).body.items).toHaveLength(0);
    expect((await api(longMy.token, 'GET', `/questions/${q.id}`)).status).toBe(403);
    expect((await api(longMy.token, 'POST', `/questions/${q.id}/answer`, { text: 'x' })).status).toBe(403);
    expect((await api(longMy.token, 'GET', '/members')).status).toBe(403);
    const none = await api(undefined, 'GET', '/questions');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('Unauthorized');
    expect((await api('not-a-token', 'GET', '/me')).status).toBe(401);

    const claimed = await api(viThanh.token, 'POST', `/questions/${q.id}/claim`);
    expect(claimed.body).toMatchObject({ status: 'claimed', assignee: { name: 'Chị Lan' } });
    const answered = await api(viThanh.token, 'POST', `/questions/${q.id}/answer`, {
      text: 'Bạn mang CCCD gắn chip ra Công an xã để cập nhật số điện thoại nhé.',
    });
    expect(answered.status).toBe(200);
    expect(answered.body.delivered).toEqual([{ questionId: q.id, status: 'sent' }]);
    expect(answered.body.question.status).toBe('answered');
    await citizen.waitFor((bot) =>
      bot.some(
        (b) =>
          b.text ===
          'Tổ công nghệ số trả lời: Bạn mang CCCD gắn chip ra Công an xã để cập nhật số điện thoại nhé.',
      ),
    );
    expect((await api(viThanh.token, 'POST', `/questions/${q.id}/answer`, { text: 'lại' })).status).toBe(409);

    const detail = await api(viThanh.token, 'GET', `/questions/${q.id}`);
    expect(detail.body.answer).toMatchObject({ by: 'Chị Lan' });
    expect(detail.body.transcript.some((t: { from: string }) => t.from === 'team')).toBe(true);
    expect(detail.body.group.map((g: { id: string }) => g.id)).toEqual([q.id]);

    // Audit: every change, with who and when.
    const audit = await api(ADMIN, 'GET', `/audit?target=${q.id}`);
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['question.claim', 'question.answer']));
    expect(audit.body.items.find((e: { action: string }) => e.action === 'question.claim')).toMatchObject({
      actorId: viThanh.member.id,
      actorName: 'Chị Lan',
    });
    const all = (await api(ADMIN, 'GET', '/audit')).body.items.map((e: { action: string }) => e.action);
    expect(all).toEqual(expect.arrayContaining(['member.add', 'webhook.set']));

    // CSV export.
    const csv = await api(viThanh.token, 'GET', '/questions.csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text).toContain(q.id);
    expect(csv.text).toContain('Công an xã để cập nhật');
    expect(csv.text.split('\r\n')[0]).toContain('"status"');
  });

  it('groups near-identical questions and answers the whole group at once', async () => {
    const a = await forward(
      'citizen-team-2',
      'Điểm hỗ trợ cài VNeID của xã Long Mỹ mở cửa mấy giờ?',
      `${LONG_MY}, Hậu Giang`,
    );
    const b = await forward(
      'citizen-team-3',
      'diem ho tro cai vneid cua xa long my mo cua may gio vay',
      `${LONG_MY}, Hậu Giang`,
    );
    const list = await api(longMy.token, 'GET', '/questions?grouped=1&status=open');
    expect(list.body.items).toHaveLength(2);
    expect(list.body.groups).toHaveLength(1);
    expect(list.body.groups[0].count).toBe(2);
    expect(list.body.items.every((q: { groupSize: number }) => q.groupSize === 2)).toBe(true);

    const first = list.body.groups[0].representative.id as string;
    const answer = 'Điểm hỗ trợ mở cửa từ 7 giờ 30 đến 11 giờ sáng thứ Bảy tại nhà văn hóa ấp 3.';
    const res = await api(longMy.token, 'POST', `/questions/${first}/answer`, { text: answer });
    expect(res.status).toBe(200);
    expect(res.body.delivered).toHaveLength(2);
    for (const c of [a, b]) {
      await c.waitFor((bot) => bot.some((m) => m.text === `Tổ công nghệ số trả lời: ${answer}`));
    }
    const after = await api(longMy.token, 'GET', '/questions?status=answered');
    expect(after.body.items).toHaveLength(2);
  });

  it('lets a member take the conversation over: the bot is silent, then resumes', async () => {
    const citizen = await forward(
      'citizen-team-4',
      'Tôi muốn có người hướng dẫn trực tiếp cài VNeID giúp mẹ tôi',
      `${VI_THANH}, Hậu Giang`,
    );
    const items = (await api(viThanh.token, 'GET', '/questions?status=open')).body.items;
    const q = items[0];
    expect(q.text).toMatch(/hướng dẫn trực tiếp/);

    // The dashboard's live stream (EventSource sends the token in the query).
    const controller = new AbortController();
    const sse = await fetch(`${r.url}/api/team/events?token=${viThanh.token}`, { signal: controller.signal });
    expect(sse.headers.get('content-type')).toMatch(/text\/event-stream/);
    let stream = '';
    const reader = sse.body!.getReader();
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          stream += new TextDecoder().decode(value);
        }
      } catch {
        // aborted
      }
    })();
    expect((await fetch(`${r.url}/api/team/events`)).status).toBe(401);

    const taken = await api(viThanh.token, 'POST', `/questions/${q.id}/takeover`);
    expect(taken.body).toEqual({ takenOver: true });
    await citizen.waitFor((bot) => bot.some((b) => b.text === JOINED_TEXT));
    expect((await api(viThanh.token, 'GET', `/questions/${q.id}`)).body.takenOver).toBe(true);

    const before = botTexts((await citizen.activities()).json.activities).length;
    await citizen.post('mẹ tôi dùng điện thoại Samsung, số 0987654321');
    await until(() => stream.includes('event: message'), 5000, 'the relayed message on the event stream');
    expect(stream).toContain('mẹ tôi dùng điện thoại Samsung');
    expect(stream).not.toContain('0987654321');
    await r.app.directLine.idle();
    await new Promise((res) => setTimeout(res, 300));
    expect(botTexts((await citizen.activities()).json.activities)).toHaveLength(before);
    const detail = await api(viThanh.token, 'GET', `/questions/${q.id}`);
    expect(
      detail.body.transcript.some(
        (t: { from: string; text: string }) => t.from === 'user' && t.text.includes('Samsung'),
      ),
    ).toBe(true);

    const sent = await api(viThanh.token, 'POST', `/questions/${q.id}/messages`, {
      text: 'Chiều nay 3 giờ bạn đưa mẹ ra nhà văn hóa nhé.',
    });
    expect(sent.status).toBe(200);
    await citizen.waitFor((bot) =>
      bot.some((b) => b.text === 'Tổ công nghệ số trả lời: Chiều nay 3 giờ bạn đưa mẹ ra nhà văn hóa nhé.'),
    );

    const back = await api(viThanh.token, 'POST', `/questions/${q.id}/handback`);
    expect(back.body).toEqual({ takenOver: false });
    await citizen.waitFor((bot) => bot.some((b) => b.text === RESUMED_TEXT));
    const count = botTexts((await citizen.activities()).json.activities).length;
    await citizen.post('quên mật khẩu VNeID thì làm sao');
    await citizen.waitFor((bot) => bot.length > count && /VNeID/i.test(bot.at(-1)!.text ?? ''));
    expect(stream).toContain('event: question');
    controller.abort();
  });

  it('promotes an answered question to the FAQ; the next citizen gets that answer with the FAQ as source', async () => {
    const answered = (await api(ADMIN, 'GET', '/questions?status=answered&commune=xã Long Mỹ')).body.items;
    const q = answered[0];
    expect((await api(longMy.token, 'POST', `/questions/${q.id}/promote`, {})).status).toBe(403);
    const res = await api(ADMIN, 'POST', `/questions/${q.id}/promote`, {
      question: 'Điểm hỗ trợ cài VNeID của xã Long Mỹ mở cửa mấy giờ?',
      answer: 'Điểm hỗ trợ cài VNeID mở cửa từ 7 giờ 30 đến 11 giờ sáng thứ Bảy tại nhà văn hóa ấp 3.',
      paraphrases: ['giờ mở cửa điểm hỗ trợ VNeID Long Mỹ'],
    });
    expect(res.status).toBe(200);
    expect(res.body.file).toMatch(/^faq\/to-.*\.md$/);
    expect(res.body.indexVersion).toBeTruthy();
    const written = fs.readFileSync(path.join(knowledgeDir, res.body.file), 'utf8');
    expect(written).toContain('owner: Tổ công nghệ số xã Long Mỹ, Hậu Giang (đã duyệt bởi');
    expect(written).toContain('diem ho tro cai vneid cua xa long my mo cua may gio vay');
    expect(r.app.assistant.knowledge.status().version).toBe(res.body.indexVersion);

    const next = new DirectLineClient(r.url, 'citizen-team-5');
    await next.generate();
    await next.start();
    await next.post('diem ho tro cai VNeID o xa Long My mo cua luc may gio');
    const all = await next.waitFor((bot) => bot.some((b) => /nhà văn hóa ấp 3/.test(b.text ?? '')));
    const reply = botTexts(all).find((t) => /nhà văn hóa ấp 3/.test(t))!;
    expect(reply).toMatch(/Nguồn:.*Điểm hỗ trợ cài VNeID của xã Long Mỹ/s);
    const audit = (await api(ADMIN, 'GET', `/audit?target=${q.id}`)).body.items;
    expect(audit.some((e: { action: string }) => e.action === 'question.promote')).toBe(true);
  });

  it('closes, escalates, triages feedback, reports trends, and keeps transcripts only for RETENTION_DAYS', async () => {
    const closed = await api(viThanh.token, 'POST', `/questions/${firstId}/close`);
    expect(closed.body.status).toBe('closed');
    expect((await api(viThanh.token, 'POST', `/questions/${firstId}/close`)).status).toBe(409);
    await r.app.team.retention.sweep(Date.now() + 400 * 86_400_000);
    const row = await r.app.assistant.sql.get<{ transcript: string | null }>(
      'SELECT transcript FROM questions WHERE id = ?',
      [firstId],
    );
    expect(row?.transcript).toBeNull();

    const trends = await api(ADMIN, 'GET', '/trends');
    expect(trends.status).toBe(200);
    expect(trends.body.mostAskedThisWeek[0].count).toBeGreaterThanOrEqual(2);
    expect(trends.body).toHaveProperty('feedback.up');
    expect((await api(ADMIN, 'GET', '/feedback?helpful=false')).body).toEqual({ items: [] });
    expect((await api(viThanh.token, 'GET', '/feedback')).status).toBe(403);
  });

  it('adds a member with `npm run team -- add`, and a disabled token is refused', async () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/team.ts', 'add', '--name', 'Cô Hoa', '--communes', 'xã Hỏa Lựu', '--json'],
      {
        // The same store as the service: DATA_DIR, or its PostgreSQL database (TEST_BACKEND=postgres).
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          DATABASE_URL: r.config.database?.url ?? '',
          LOG_LEVEL: 'silent',
        },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const { member, token } = JSON.parse(result.stdout) as { member: { id: string }; token: string };
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await api(token, 'GET', '/me');
    expect(me.body).toMatchObject({ id: member.id, name: 'Cô Hoa', communes: ['xã Hỏa Lựu'] });
    // Only the hash is stored.
    expect(JSON.stringify(await r.app.assistant.sql.all('SELECT * FROM team_members'))).not.toContain(token);

    const disabled = await api(ADMIN, 'POST', `/members/${member.id}/disable`);
    expect(disabled.body.disabled).toBe(true);
    expect((await api(token, 'GET', '/me')).status).toBe(401);
  });
});
