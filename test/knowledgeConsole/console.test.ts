import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectLineClient } from '../helpers/directLineClient.js';
import { REAL_KNOWLEDGE_DIR, removeDir } from '../helpers/knowledge.js';
import { startApp, tempDataDir, type RunningApp } from '../helpers/testApp.js';

/**
 * The knowledge console over real HTTP (issue 8): upload a guide, see its chunks, hit-test a question
 * that now finds it and get that answer through web chat; roll back and the answer goes away; a
 * non-admin token is refused; a malformed or oversized upload gets a clear error and changes nothing.
 */

const ADMIN = 'kb-admin-token-for-tests-0123456789';
const MAX_UPLOAD = 20_000;
const QUESTION = 'nuôi ong mật cần khai báo gì với xã';
const QUESTION_NO_DIACRITICS = 'nuoi ong mat can khai bao gi voi xa';
// Test data only (a made-up commune procedure): its subject is absent from the real knowledge base.
const GUIDE = `# Khai báo đàn ong mật với xã (tài liệu thử nghiệm)

## Khi nào cần khai báo đàn ong mật
Hộ nuôi ong mật báo cho cán bộ nông nghiệp của Ủy ban nhân dân cấp xã khi đặt thêm thùng ong mật mới.

## Các bước khai báo đàn ong mật
1. Ghi số thùng ong mật và nơi đặt thùng ong.
2. Mang sổ theo dõi đàn ong mật đến Bộ phận một cửa của xã.
3. Cán bộ ghi vào danh sách hộ nuôi ong mật của xã.
`;

let r: RunningApp;
let knowledgeDir: string;
let dataDir: string;
let memberToken: string;
let initialVersion: string;
let uploadedVersion: string;
let uploadedId: string;

interface Json {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function api(method: string, p: string, body?: unknown, token: string | null = ADMIN): Promise<Json> {
  const res = await fetch(`${r.url}/api/team${p}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Waits until the background re-index is idle and has produced a version other than `not`. */
async function indexed(not: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = (await api('GET', '/kb/versions')).body;
    if (v.job.state === 'idle' && v.current !== not) {
      expect(v.job.lastError).toBeUndefined();
      return v.current as string;
    }
    if (Date.now() > deadline) throw new Error(`re-index did not finish: ${JSON.stringify(v.job)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** What the bot answers a new web chat citizen. */
async function webChat(question: string): Promise<string> {
  const c = new DirectLineClient(r.url, `citizen-kb-${Math.random().toString(36).slice(2)}`);
  await c.generate();
  await c.start();
  await c.post(question);
  const all = await c.waitFor((bot) =>
    bot.some((b) => /ong mật|chưa có thông tin chính xác/i.test(b.text ?? '')),
  );
  return all
    .filter((a) => a.from.role === 'bot' && a.type === 'message')
    .map((a) => a.text ?? '')
    .join('\n');
}

/** Every file under the knowledge dir with its content, to prove a refused request wrote nothing. */
function snapshot(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else files.set(path.relative(knowledgeDir, abs), fs.readFileSync(abs, 'utf8'));
    }
  };
  walk(knowledgeDir);
  return files;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

beforeAll(async () => {
  knowledgeDir = tempDataDir('tlcds-kb-knowledge-');
  fs.cpSync(REAL_KNOWLEDGE_DIR, knowledgeDir, { recursive: true });
  dataDir = tempDataDir('tlcds-kb-');
  r = await startApp({
    ADMIN_TOKEN: ADMIN,
    KNOWLEDGE_DIR: knowledgeDir,
    DATA_DIR: dataDir,
    KB_UPLOAD_MAX_BYTES: String(MAX_UPLOAD),
  });
  initialVersion = r.app.assistant.knowledge.status().version!;
  const member = await api('POST', '/members', { name: 'Thành viên xã', role: 'member', communes: ['xã A'] });
  memberToken = member.body.token;
});

afterAll(async () => {
  await r?.stop();
  removeDir(knowledgeDir);
  removeDir(dataDir);
});

describe('knowledge console API', () => {
  it('is for admins only: no token → 401, a member token → 403', async () => {
    expect((await api('GET', '/kb/documents', undefined, null)).status).toBe(401);
    const refused = await api('GET', '/kb/documents', undefined, memberToken);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('Forbidden');
    expect(
      (await api('POST', '/kb/upload', { filename: 'x.md', contentBase64: b64('# x') }, memberToken)).status,
    ).toBe(403);
    expect((await api('POST', '/kb/rollback', {}, memberToken)).status).toBe(403);
  });

  it('lists documents with kind, owner, chunks and index state, and shows a document with its chunks', async () => {
    const list = (await api('GET', '/kb/documents')).body;
    expect(list.version).toBe(initialVersion);
    const guide = list.documents.find((d: { id: string }) => d.id === 'guides/vneid-quen-mat-khau.md');
    expect(guide).toMatchObject({ kind: 'guide', indexed: true, editable: true, format: 'md' });
    expect(guide.chunks).toBeGreaterThan(0);
    expect(guide.owner).toBeTruthy();
    expect(guide.indexedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(
      list.documents.some((d: { kind: string; editable: boolean }) => d.kind === 'flow' && !d.editable),
    ).toBe(true);
    expect(list.documents.some((d: { kind: string }) => d.kind === 'plan')).toBe(true);
    expect(list.documents.some((d: { kind: string }) => d.kind === 'faq')).toBe(true);

    const shown = (await api('GET', '/kb/document?id=guides/vneid-quen-mat-khau.md')).body;
    expect(shown.chunks.length).toBe(guide.chunks);
    expect(shown.chunks[0]).toHaveProperty('headingPath');
    expect(shown.chunks[0].folded).not.toMatch(/[ăâđêôơư]/);
    expect(shown.content).toMatch(/^---\n/);
    expect((await api('GET', '/kb/document?id=guides/khong-co.md')).status).toBe(404);
    expect((await api('GET', '/kb/document?id=../package.json')).status).toBe(400);
    expect((await api('GET', `/kb/document?id=${encodeURIComponent('/etc/passwd')}`)).status).toBe(400);
  });

  it('before the upload, the bot does not answer the question', async () => {
    const hit = (await api('POST', '/kb/hit', { q: QUESTION })).body;
    expect(hit.answer.answered).toBe(false);
    expect(await webChat(QUESTION)).toMatch(/chưa có thông tin chính xác/);
  });

  it('uploads a guide: stored with front matter, re-indexed into a new version, chunks visible', async () => {
    const res = await api('POST', '/kb/upload', {
      filename: 'Khai báo ong mật.md',
      contentBase64: b64(GUIDE),
      kind: 'guide',
      topic: 'co-ban',
      owner: 'Sở Khoa học và Công nghệ (thử nghiệm)',
    });
    expect(res.status).toBe(201);
    uploadedId = res.body.document.id;
    expect(uploadedId).toBe('guides/khai-bao-ong-mat.md');
    expect(['queued', 'running']).toContain(res.body.job.state);
    const written = fs.readFileSync(path.join(knowledgeDir, uploadedId), 'utf8');
    expect(written).toMatch(
      /^---\ntitle: Khai báo đàn ong mật với xã \(tài liệu thử nghiệm\)\ntopic: co-ban\nupdated: \d{4}-\d\d-\d\d\nowner: /,
    );

    uploadedVersion = await indexed(initialVersion);
    const doc = (await api('GET', `/kb/document?id=${encodeURIComponent(uploadedId)}`)).body;
    expect(doc.document).toMatchObject({
      id: uploadedId,
      kind: 'guide',
      indexed: true,
      owner: 'Sở Khoa học và Công nghệ (thử nghiệm)',
    });
    expect(doc.chunksFrom).toBe('index');
    expect(doc.chunks.map((c: { headingPath: string[] }) => c.headingPath[0])).toEqual([
      'Khi nào cần khai báo đàn ong mật',
      'Các bước khai báo đàn ong mật',
    ]);
    expect(doc.chunks[1].text).toContain('Bộ phận một cửa');
    expect(doc.chunks[1].folded).toContain('ong mat');
  });

  it('hit testing finds it (with or without diacritics), and web chat answers from it', async () => {
    for (const q of [QUESTION, QUESTION_NO_DIACRITICS]) {
      const hit = (await api('POST', '/kb/hit', { q })).body;
      expect(hit.version).toBe(uploadedVersion);
      expect(hit.normalized).toBe(q);
      expect(hit.folded).toBe(QUESTION_NO_DIACRITICS);
      expect(Array.isArray(hit.expansions)).toBe(true);
      expect(hit.legs.lexical[0]).toMatchObject({ rank: 1, docId: uploadedId });
      expect(hit.legs.vector.length).toBeGreaterThan(0);
      expect(hit.fused[0].docId).toBe(uploadedId);
      expect(hit.fused[0].ranks.lexical).toBe(1);
      expect(hit.fused[0].snippet.length).toBeLessThanOrEqual(240);
      expect(hit.confidence).toBeGreaterThanOrEqual(hit.threshold);
      expect(hit.answer.answered).toBe(true);
      expect(hit.answer.sources[0].file).toBe(uploadedId);
    }
    const abbreviated = (await api('POST', '/kb/hit', { q: 'nop ho so dvc', k: 3 })).body;
    expect(abbreviated.expansions.some((e: { matched: string }) => e.matched === 'dvc')).toBe(true);
    expect(abbreviated.fused.length).toBe(3);
    expect((await api('POST', '/kb/hit', { q: '  ' })).status).toBe(400);
    expect((await api('POST', '/kb/hit', { q: 'x'.repeat(2001) })).status).toBe(400);

    const reply = await webChat(QUESTION);
    expect(reply).toContain('Bộ phận một cửa');
    expect(reply).toMatch(/Nguồn:.*Khai báo đàn ong mật với xã/s);
  });

  it('rolls back to the previous version: loaded at once, and the answer goes away', async () => {
    const versions = (await api('GET', '/kb/versions')).body;
    expect(versions).toMatchObject({ current: uploadedVersion, previous: initialVersion });
    expect(versions.versions.map((v: { version: string }) => v.version)).toEqual([
      uploadedVersion,
      initialVersion,
    ]);
    expect(versions.versions[0]).toMatchObject({ current: true, documentCount: expect.any(Number) });

    const res = await api('POST', '/kb/rollback', {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ current: initialVersion, rolledBackFrom: uploadedVersion });
    expect(r.app.assistant.knowledge.status().version).toBe(initialVersion);
    expect((await api('POST', '/kb/hit', { q: QUESTION })).body.answer.answered).toBe(false);
    expect(await webChat(QUESTION)).toMatch(/chưa có thông tin chính xác/);
    // The file is still there but not in the current version.
    const listed = (await api('GET', '/kb/documents')).body.documents.find(
      (d: { id: string }) => d.id === uploadedId,
    );
    expect(listed).toMatchObject({ indexed: false, chunks: 0 });
    // Nothing older to go back to.
    const none = await api('POST', '/kb/rollback', {});
    expect(none.status).toBe(409);
    expect(none.body.error.message).toMatch(/no previous/);
    expect((await api('POST', '/kb/rollback', { version: 'v-nope' })).status).toBe(404);
    // Forward again to the version with the guide.
    expect((await api('POST', '/kb/rollback', { version: uploadedVersion })).body.current).toBe(
      uploadedVersion,
    );
  });

  it('refuses a malformed, mistyped, empty or oversized upload with a clear error, changing nothing', async () => {
    const before = snapshot();
    const versionsBefore = (await api('GET', '/kb/versions')).body.versions.length;
    const cases: [unknown, number, RegExp][] = [
      [{ contentBase64: b64(GUIDE) }, 400, /filename/],
      [{ filename: 'a.md' }, 400, /contentBase64/],
      [{ filename: 'a.md', contentBase64: '@@not base64@@' }, 400, /base64/],
      [{ filename: 'a.md', contentBase64: b64(GUIDE), kind: 'flow' }, 400, /kind/],
      [{ filename: 'a.exe', contentBase64: b64('MZ') }, 415, /unsupported file type/],
      [{ filename: 'plan.pdf', contentBase64: b64(GUIDE) }, 415, /content is plain text.*plan\.pdf/],
      [{ filename: 'a.docx', contentBase64: b64('%PDF-1.4\n') }, 415, /PDF/],
      [
        { filename: 'a.md', contentBase64: b64(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2])) },
        415,
        /binary/,
      ],
      [{ filename: 'scan.pdf', contentBase64: b64('%PDF-1.4\nnot really a pdf') }, 422, /could not be read/],
      [{ filename: 'big.md', contentBase64: b64('a'.repeat(MAX_UPLOAD + 1)) }, 413, /larger than the limit/],
      ['{"filename": "broken.md", ', 400, /./],
    ];
    for (const [body, status, message] of cases) {
      const res = await api('POST', '/kb/upload', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(res.body.error.message).toMatch(message);
    }
    // Past the upload route's own body limit: refused by the body reader.
    const huge = await api('POST', '/kb/upload', {
      filename: 'huge.md',
      contentBase64: b64('a'.repeat(200_000)),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PayloadTooLarge');
    expect(snapshot()).toEqual(before);
    const after = (await api('GET', '/kb/versions')).body;
    expect(after.versions.length).toBe(versionsBefore);
    expect(after.job.state).toBe('idle');
  });

  it('edits Markdown in the browser: bad front matter is refused, a good edit and a new FAQ entry are saved', async () => {
    const id = 'guides/vneid-quen-mat-khau.md';
    const original = fs.readFileSync(path.join(knowledgeDir, id), 'utf8');
    for (const content of [
      'no front matter at all',
      '---\ntitle: "unclosed\n---\nText',
      '---\ntitle: Tên\ntopic: vneid\nupdated: 2026-11-23\n---\nText without owner',
      '---\ntitle: Tên\ntopic: vneid\nupdated: 2026-11-23\nowner: " "\n---\nText',
    ]) {
      const res = await api('PUT', `/kb/document?id=${id}`, { content });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/front matter|owner/);
    }
    expect(fs.readFileSync(path.join(knowledgeDir, id), 'utf8')).toBe(original);
    expect((await api('PUT', '/kb/document?id=flows/dvc-nop-ho-so.yaml', { content: 'x' })).status).toBe(400);
    expect((await api('PUT', '/kb/document?id=../x.md', { content: original })).status).toBe(400);

    const edited = await api('PUT', `/kb/document?id=${id}`, { content: `${original}\nThêm một dòng.\n` });
    expect(edited.status).toBe(200);
    expect(edited.body.document).toMatchObject({ id, indexed: false });
    expect(fs.readFileSync(path.join(knowledgeDir, id), 'utf8')).toContain('Thêm một dòng.');

    const faq =
      '---\ntitle: "Thùng ong mật đặt ở đâu?"\ntopic: co-ban\nupdated: 2026-11-23\nowner: Thử nghiệm\nquestions:\n  - "dat thung ong o dau"\n---\nĐặt thùng ong xa nhà hàng xóm.\n';
    const created = await api('PUT', '/kb/document?id=faq/thu-thung-ong.md', { content: faq });
    expect(created.status).toBe(201);
    const version = await indexed(uploadedVersion);
    const shown = (await api('GET', '/kb/document?id=faq/thu-thung-ong.md')).body;
    expect(shown.document).toMatchObject({ kind: 'faq', indexed: true, chunks: 1 });
    expect(shown.content).toBe(faq);
    uploadedVersion = version;
  });

  it('edits synonyms (validated), records an expected document, retires a document', async () => {
    const syn = (await api('GET', '/kb/synonyms')).body;
    expect(syn.groups).toBeGreaterThan(5);
    const file = path.join(knowledgeDir, 'synonyms.yaml');
    const before = fs.readFileSync(file, 'utf8');
    for (const content of ['groups: [[a, b]', 'title: no groups', 'groups: "x"']) {
      const bad = await api('PUT', '/kb/synonyms', { content });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/synonyms\.yaml is not valid/);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    const saved = await api('PUT', '/kb/synonyms', {
      content: `${before}\n  - ["ong mật", "ong lấy mật"]\n`,
    });
    expect(saved.status).toBe(200);
    expect(saved.body.groups).toBe(syn.groups + 1);

    const expected = await api('POST', '/kb/expected', {
      q: 'nuôi ong lấy mật gọi 0912345678 báo ai',
      docId: uploadedId,
    });
    expect(expected.status).toBe(201);
    expect(expected.body.added).toMatchObject({ scope: 'in', expected: [uploadedId], style: 'staff' });
    expect(expected.body.added.q).not.toContain('0912345678');
    const lines = fs.readFileSync(path.join(knowledgeDir, 'eval/staff.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).expected).toEqual([uploadedId]);
    expect((await api('POST', '/kb/expected', { q: 'x', docId: 'guides/khong-co.md' })).status).toBe(400);

    const retired = await api('POST', `/kb/retire?id=faq/thu-thung-ong.md`, { reason: 'thử nghiệm xong' });
    expect(retired.status).toBe(200);
    expect(retired.body.retiredTo).toBe('retired/faq/thu-thung-ong.md');
    expect(fs.existsSync(path.join(knowledgeDir, 'faq/thu-thung-ong.md'))).toBe(false);
    const version = await indexed(uploadedVersion);
    const list = (await api('GET', '/kb/documents')).body;
    expect(list.version).toBe(version);
    expect(list.documents.some((d: { id: string }) => d.id === 'faq/thu-thung-ong.md')).toBe(false);
    expect(list.retired[0]).toMatchObject({
      id: 'retired/faq/thu-thung-ong.md',
      title: 'Thùng ong mật đặt ở đâu?',
    });
    // The synonym edit applies in this version.
    const hit = (await api('POST', '/kb/hit', { q: 'ong lấy mật' })).body;
    expect(hit.expansions).toEqual([{ matched: 'ong lấy mật', added: ['ong mật'] }]);
  });

  it('keeps eval figures per index version and audits every change with its index version', async () => {
    await r.app.knowledgeConsole.idle();
    const runs = (await api('GET', '/kb/eval')).body.runs;
    expect(runs.length).toBeGreaterThan(0);
    expect(runs[0]).toMatchObject({ version: expect.stringMatching(/^v/), questions: expect.any(Number) });
    expect(runs[0].recallAt5).toBeGreaterThan(0.8);
    const versions = (await api('GET', '/kb/versions')).body;
    expect(versions.versions[0].eval.recallAt5).toBe(runs[0].recallAt5);

    const entries = (await api('GET', '/kb/audit')).body.entries as {
      action: string;
      actorId: string;
      target: string | null;
      detail: { indexVersion: string; version?: string; changes?: unknown[] };
    }[];
    const actions = new Set(entries.map((e) => e.action));
    for (const a of [
      'kb.upload',
      'kb.indexed',
      'kb.rollback',
      'kb.edit',
      'kb.create',
      'kb.synonyms',
      'kb.expected',
      'kb.retire',
    ]) {
      expect(actions, a).toContain(a);
    }
    expect(entries.every((e) => e.action.startsWith('kb.') && e.detail.indexVersion)).toBe(true);
    const upload = entries.find((e) => e.action === 'kb.upload')!;
    expect(upload).toMatchObject({ actorId: 'admin-token', target: uploadedId });
    expect(upload.detail.indexVersion).toBe(initialVersion);
    const indexedEntry = entries.findLast((e) => e.action === 'kb.indexed')!;
    expect(indexedEntry.detail.changes).toEqual([
      expect.objectContaining({ action: 'kb.upload', target: uploadedId }),
    ]);
    // Also in the team audit log.
    const team = (await api('GET', '/audit')).body.items as { action: string }[];
    expect(team.some((e) => e.action === 'kb.rollback')).toBe(true);
  });
});
