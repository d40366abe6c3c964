import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/http/server.js';
import { ConsoleError } from '../../src/knowledgeConsole/errors.js';
import { ReindexJob } from '../../src/knowledgeConsole/reindexJob.js';
import { sniffType, storeUpload } from '../../src/knowledgeConsole/upload.js';
import { evalSetDirs, loadEvalSet } from '../../src/quality/evalSet.js';
import { listKnowledgeFiles, type IndexManifest } from '../../src/retrieval/indexBuilder.js';
import { makeTempDir, removeDir, silentLogger } from '../helpers/knowledge.js';

const DOCS = path.resolve('test/fixtures/ingest');
const dirs: string[] = [];
const temp = () => {
  const d = makeTempDir('tlcds-kb-unit-');
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach(removeDir));

const upload = (knowledgeDir: string, file: string, extra: Record<string, unknown> = {}) =>
  storeUpload({
    knowledgeDir,
    maxBytes: 1024 * 1024,
    defaultOwner: 'Quản trị',
    input: {
      filename: path.basename(file),
      contentBase64: fs.readFileSync(path.join(DOCS, file)).toString('base64'),
      ...extra,
    },
  });

describe('uploads', () => {
  it('sniffs the type from the content', () => {
    expect(sniffType(fs.readFileSync(path.join(DOCS, 'docs/mau.pdf')))).toBe('pdf');
    expect(sniffType(fs.readFileSync(path.join(DOCS, 'docs/huong-dan-ky-so.docx')))).toBe('docx');
    expect(sniffType(fs.readFileSync(path.join(DOCS, 'web/thanh-toan-hoc-phi.html')))).toBe('html');
    expect(sniffType(fs.readFileSync(path.join(DOCS, 'notes/ghi-chu.txt')))).toBe('text');
    expect(sniffType(fs.readFileSync(path.join(DOCS, 'docs/hong.pdf')))).not.toBe('pdf');
    expect(sniffType(Buffer.from([0x50, 0x4b, 3, 4, 1, 2]))).toBe('zip');
    expect(sniffType(Buffer.from([0xc3, 0x28]))).toBe('binary');
  });

  it('converts PDF, DOCX and HTML to Markdown with front matter and keeps the original', async () => {
    const k = temp();
    const pdf = await upload(k, 'docs/mau.pdf', { kind: 'plan', title: 'Kế hoạch mẫu' });
    expect(pdf).toMatchObject({ id: 'plans/mau.md', original: 'originals/mau.pdf', type: 'pdf' });
    const md = fs.readFileSync(path.join(k, 'plans/mau.md'), 'utf8');
    expect(md).toMatch(
      /^---\ntitle: Kế hoạch mẫu\ntopic: ke-hoach\nupdated: \d{4}-\d\d-\d\d\nowner: Quản trị\noriginal: originals\/mau\.pdf\n/,
    );
    expect(fs.readFileSync(path.join(k, 'originals/mau.pdf'))).toEqual(
      fs.readFileSync(path.join(DOCS, 'docs/mau.pdf')),
    );

    const docx = await upload(k, 'docs/huong-dan-ky-so.docx', { owner: 'Sở KH&CN' });
    expect(docx).toMatchObject({
      id: 'guides/huong-dan-ky-so.md',
      original: 'originals/huong-dan-ky-so.docx',
    });
    expect(fs.readFileSync(path.join(k, docx.id), 'utf8')).toContain('owner: Sở KH&CN');
    const html = await upload(k, 'web/thanh-toan-hoc-phi.html');
    expect(html.original).toBe('originals/thanh-toan-hoc-phi.html');
    // The same name again gets a free slug, never overwriting.
    const again = await upload(k, 'web/thanh-toan-hoc-phi.html');
    expect(again).toMatchObject({
      id: 'guides/thanh-toan-hoc-phi-2.md',
      original: 'originals/thanh-toan-hoc-phi-2.html',
    });
    const txt = await upload(k, 'notes/ghi-chu.txt', { kind: 'faq' });
    expect(txt.id).toBe('faq/ghi-chu.md');
    expect(txt.original).toBeUndefined();
    // What was written is what the index reads; originals are not indexed.
    expect(listKnowledgeFiles(k)).toEqual([
      'faq/ghi-chu.md',
      'guides/huong-dan-ky-so.md',
      'guides/thanh-toan-hoc-phi-2.md',
      'guides/thanh-toan-hoc-phi.md',
      'plans/mau.md',
    ]);
  });

  it('refuses a file whose content does not match its name, an empty text, an oversized file', async () => {
    const k = temp();
    await expect(upload(k, 'docs/hong.pdf')).rejects.toMatchObject({ status: 415 });
    const empty = storeUpload({
      knowledgeDir: k,
      maxBytes: 100,
      defaultOwner: 'x',
      input: {
        filename: 'trong.md',
        contentBase64: Buffer.from('---\ntitle: x\n---\n   \n').toString('base64'),
      },
    });
    await expect(empty).rejects.toMatchObject({ status: 422 });
    const big = storeUpload({
      knowledgeDir: k,
      maxBytes: 100,
      defaultOwner: 'x',
      input: { filename: 'to.md', contentBase64: Buffer.alloc(101, 'a').toString('base64') },
    });
    await expect(big).rejects.toBeInstanceOf(ConsoleError);
    await expect(big).rejects.toMatchObject({ status: 413 });
    expect(fs.readdirSync(k)).toEqual([]);
  });
});

describe('knowledge folders', () => {
  it('never indexes eval/, retired/ or originals/; the eval set adds knowledge/eval to the fixtures', () => {
    const k = temp();
    for (const f of [
      'guides/a.md',
      'eval/README.md',
      'eval/x.md',
      'retired/guides/b.md',
      'originals/c.html',
    ]) {
      fs.mkdirSync(path.dirname(path.join(k, f)), { recursive: true });
      fs.writeFileSync(path.join(k, f), '# t\n\ntext\n');
    }
    expect(listKnowledgeFiles(k)).toEqual(['guides/a.md']);
    const fixtures = loadEvalSet(evalSetDirs(k));
    fs.writeFileSync(
      path.join(k, 'eval/staff.jsonl'),
      '{"q":"câu hỏi","scope":"in","expected":["guides/a.md"],"style":"staff"}\nnot json\n{"q":"x","scope":"in"}\n',
    );
    const problems: string[] = [];
    const all = loadEvalSet(evalSetDirs(k), (_f, line, p) => problems.push(`${line}: ${p}`));
    expect(all.length).toBe(fixtures.length + 1);
    expect(all.at(-1)).toMatchObject({ q: 'câu hỏi', expected: ['guides/a.md'] });
    expect(problems).toEqual([
      expect.stringMatching(/^2: invalid JSON/),
      expect.stringMatching(/^3: an in-scope/),
    ]);
    // Without the fixtures (a production server), only knowledge/eval.
    expect(evalSetDirs(k, path.join(k, 'no-such-dir'))).toEqual([path.join(k, 'eval')]);
  });
});

describe('ReindexJob', () => {
  it('runs one build at a time and coalesces requests made while one runs', async () => {
    let builds = 0;
    let release: (() => void) | undefined;
    const knowledge = {
      current: undefined,
      rebuild: async () => {
        builds++;
        await new Promise<void>((r) => (release = r));
        return { version: `v${builds}` } as IndexManifest;
      },
    };
    const job = new ReindexJob({ knowledge, logger: silentLogger() });
    const seen: string[][] = [];
    job.onIndexed((e) => seen.push(e.changes.map((c) => c.target ?? '')));
    const first = job.request({ action: 'kb.edit', target: 'a' });
    expect(job.snapshot().state).toBe('queued');
    await new Promise((r) => setImmediate(r));
    expect(job.snapshot().state).toBe('running');
    const second = job.request({ action: 'kb.edit', target: 'b' });
    const third = job.request({ action: 'kb.upload', target: 'c' });
    expect(job.snapshot()).toMatchObject({ state: 'running', pending: 2 });
    release!();
    expect(await first).toBe('v1');
    await new Promise((r) => setImmediate(r));
    release!();
    expect(await Promise.all([second, third])).toEqual(['v2', 'v2']);
    await job.idle();
    expect(builds).toBe(2);
    expect(seen).toEqual([['a'], ['b', 'c']]);
    expect(job.snapshot()).toMatchObject({ state: 'idle', lastVersion: 'v2', pending: 0 });
  });
});

describe('request body limits', () => {
  it('lets only the listed route read a larger body; every other route keeps the global limit', async () => {
    const server = createHttpServer({
      logger: silentLogger(),
      maxBodyBytes: 1024,
      bodyLimits: [{ method: 'POST', path: '/big', maxBytes: 10_000 }],
    });
    const echo = async (req: { body?: { s?: string } }, res: { json(code: number, b: unknown): void }) => {
      res.json(200, { length: req.body?.s?.length ?? 0 });
    };
    server.post('/big', echo);
    server.post('/small', echo);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const post = async (p: string, n: number) => {
      const res = await fetch(`${url}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ s: 'a'.repeat(n) }),
      });
      return {
        status: res.status,
        body: (await res.json()) as { length?: number; error?: { code: string } },
      };
    };
    try {
      expect(await post('/big', 5000)).toEqual({ status: 200, body: { length: 5000 } });
      expect((await post('/small', 5000)).status).toBe(413);
      const tooBig = await post('/big', 20_000);
      expect(tooBig.status).toBe(413);
      expect(tooBig.body.error?.code).toBe('PayloadTooLarge');
      expect(await post('/small', 500)).toEqual({ status: 200, body: { length: 500 } });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
