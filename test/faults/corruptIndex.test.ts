import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { HashingEmbeddings } from '../../src/retrieval/hashingEmbeddings.js';
import { buildIndex } from '../../src/retrieval/indexBuilder.js';
import { IndexVersions } from '../../src/retrieval/indexVersions.js';
import { DirectLineClient } from '../helpers/directLineClient.js';
import { KNOWLEDGE_DIR, appsStoppedAfterEach, tempDataDir } from '../helpers/testApp.js';

/**
 * A missing or corrupt knowledge index, at the HTTP level: /readyz is 503 until an index is
 * loaded, the previous version is used when there is one, otherwise the index is rebuilt; and when
 * it can be neither loaded nor rebuilt the service stays up (503 with the reason) and retries
 * instead of exiting into a restart loop. (test/retrieval/indexVersions.test.ts covers the
 * KnowledgeBase itself.)
 */
const start = appsStoppedAfterEach();

/** A DATA_DIR template with two complete index versions, built once: [older, current]. */
let template: string;
let older: string;
let newer: string;

beforeAll(async () => {
  template = tempDataDir('tlcds-index-template-');
  const embeddings = new HashingEmbeddings();
  const build = () =>
    buildIndex({
      knowledgeDir: KNOWLEDGE_DIR,
      dataDir: template,
      embeddings,
      embedderId: embeddings.modelId,
    });
  older = (await build()).version;
  newer = (await build()).version;
  expect(new IndexVersions(template).current()).toBe(newer);
});
afterAll(() => fs.rmSync(template, { recursive: true, force: true }));

/** A fresh DATA_DIR with the template's versions. */
function dataDir(): { dir: string; versions: IndexVersions } {
  const dir = tempDataDir('tlcds-index-fault-');
  fs.cpSync(template, dir, { recursive: true });
  return { dir, versions: new IndexVersions(dir) };
}

const truncate = (file: string) => fs.writeFileSync(file, fs.readFileSync(file, 'utf8').slice(0, 1000));
const removeHnsw = (dir: string) => {
  const hnsw = path.join(dir, 'hnsw');
  const files = fs.readdirSync(hnsw);
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) fs.rmSync(path.join(hnsw, f));
};
const readyz = async (url: string) => {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { reason?: string } };
};

async function answers(url: string): Promise<void> {
  const dl = new DirectLineClient(url, 'after-index-fault');
  await dl.generate();
  await dl.start();
  await dl.post('chữ ký số là gì');
  await dl.waitFor((bot) => bot.some((b) => /Nguồn: /.test(b.text ?? '')), 5000);
}

describe('missing or corrupt knowledge index', () => {
  it.each([
    ['chunks.json', truncate],
    // Its vectors are read only when retrieval first needs them, so the file is checked at load.
    ['vectors.bin', (file: string) => fs.truncateSync(file, fs.statSync(file).size - 4096)],
  ])('uses the previous version when the current one has a truncated %s', async (name, cut) => {
    const { dir, versions } = dataDir();
    cut(path.join(versions.dir(newer), name));
    const r = await start({ DATA_DIR: dir }, { loadKnowledge: false });
    const before = await readyz(r.url);
    expect(before.status).toBe(503);
    expect(before.body.reason).toMatch(/knowledge/);
    await r.app.loadKnowledge();
    expect((await readyz(r.url)).status).toBe(200);
    expect(r.app.assistant.knowledge.status().version).toBe(older);
    expect(versions.current()).toBe(older); // CURRENT switched back: the next start needs no retry
    await answers(r.url);
  });

  it('rebuilds when the only version lost its hnsw files; /readyz is 503 while rebuilding', async () => {
    const { dir, versions } = dataDir();
    fs.rmSync(versions.dir(older), { recursive: true });
    removeHnsw(versions.dir(newer));
    const r = await start({ DATA_DIR: dir }, { loadKnowledge: false });
    const loading = r.app.loadKnowledge();
    expect((await readyz(r.url)).status).toBe(503);
    await loading;
    expect((await readyz(r.url)).status).toBe(200);
    const version = r.app.assistant.knowledge.status().version;
    expect(version).toBeDefined();
    expect(version).not.toBe(newer);
    expect(versions.current()).toBe(version);
    await answers(r.url);
  });

  it('copes with CURRENT naming a version that does not exist (with and without other versions)', async () => {
    const withVersions = dataDir();
    fs.writeFileSync(path.join(withVersions.versions.root, 'CURRENT'), 'v20990101-000000\n');
    const a = await start({ DATA_DIR: withVersions.dir }, { loadKnowledge: false });
    expect((await readyz(a.url)).status).toBe(503);
    await a.app.loadKnowledge();
    expect((await readyz(a.url)).status).toBe(200);
    expect(a.app.assistant.knowledge.status().version).toBe(newer);

    const bare = tempDataDir('tlcds-index-fault-');
    fs.mkdirSync(path.join(bare, 'index'));
    fs.writeFileSync(path.join(bare, 'index', 'CURRENT'), 'v20990101-000000\n');
    const b = await start({ DATA_DIR: bare }, { loadKnowledge: false });
    expect((await readyz(b.url)).status).toBe(503);
    await b.app.loadKnowledge();
    expect((await readyz(b.url)).status).toBe(200);
    expect(new IndexVersions(bare).current()).toBe(b.app.assistant.knowledge.status().version);
  });

  it('stays up, not ready, and retries when the index can be neither loaded nor rebuilt', async () => {
    const { dir, versions } = dataDir();
    fs.rmSync(versions.dir(older), { recursive: true });
    truncate(path.join(versions.dir(newer), 'chunks.json'));
    const knowledgeDir = path.join(tempDataDir('tlcds-kb-later-'), 'knowledge'); // not there yet
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      DATA_DIR: dir,
      KNOWLEDGE_DIR: knowledgeDir,
    });
    const app = createApp(config, createLogger({ level: 'silent', pretty: false }));
    try {
      // What src/index.ts awaits: it must not reject (the entry would exit(1) into a restart loop).
      const port = await app.start();
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const notReady = await readyz(url);
      expect(notReady.status).toBe(503);
      expect(notReady.body.reason).toMatch(/could not be loaded or built.*retrying/);

      // The knowledge directory comes back (a volume mounted late, a fixed deployment): it recovers.
      fs.cpSync(KNOWLEDGE_DIR, knowledgeDir, { recursive: true });
      const deadline = Date.now() + 10_000;
      while ((await readyz(url)).status !== 200) {
        if (Date.now() > deadline) throw new Error('did not recover');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(app.assistant.knowledge.status().ready).toBe(true);
    } finally {
      await app.stop();
    }
  });
});
