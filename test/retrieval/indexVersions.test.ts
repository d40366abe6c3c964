import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HashingEmbeddings } from '../../src/retrieval/hashingEmbeddings.js';
import { buildIndex, type IndexManifest } from '../../src/retrieval/indexBuilder.js';
import { IndexVersions } from '../../src/retrieval/indexVersions.js';
import { KnowledgeBase, loadIndexVersion } from '../../src/retrieval/knowledgeIndex.js';
import type { IndexedChunk } from '../../src/retrieval/types.js';
import { copySmallKnowledge, makeTempDir, pollUntil, removeDir, silentLogger } from '../helpers/knowledge.js';

/** The offline embedding, counting how many texts it was asked to embed. */
class CountingEmbeddings extends HashingEmbeddings {
  embedded = 0;
  override async embedDocuments(texts: string[]): Promise<number[][]> {
    this.embedded += texts.length;
    return super.embedDocuments(texts);
  }
}

const temps: string[] = [];
const temp = (dir: string) => (temps.push(dir), dir);
const bases: KnowledgeBase[] = [];
afterEach(() => {
  for (const kb of bases.splice(0)) kb.stop();
});
afterAll(() => temps.forEach(removeDir));

let knowledgeDir: string;
beforeAll(() => {
  knowledgeDir = temp(copySmallKnowledge());
});

function build(dataDir: string, embeddings = new HashingEmbeddings(), dir = knowledgeDir) {
  return buildIndex({ knowledgeDir: dir, dataDir, embeddings, embedderId: embeddings.modelId });
}

function readChunks(dataDir: string, version: string): IndexedChunk[] {
  return JSON.parse(
    fs.readFileSync(path.join(new IndexVersions(dataDir).dir(version), 'chunks.json'), 'utf8'),
  ) as IndexedChunk[];
}

function knowledgeBase(dataDir: string, dir = knowledgeDir) {
  const embeddings = new HashingEmbeddings();
  const kb = new KnowledgeBase({
    knowledgeDir: dir,
    dataDir,
    embeddings,
    embedderId: embeddings.modelId,
    logger: silentLogger(),
  });
  bases.push(kb);
  return kb;
}

const vectorEntries = (m: IndexManifest) => m.chunkCount + m.faqQuestionCount;

describe('index versions', () => {
  it('writes a new version and switches CURRENT to it, keeping the previous one for rollback', async () => {
    const dataDir = temp(makeTempDir());
    const versions = new IndexVersions(dataDir);
    expect(versions.current()).toBeUndefined();

    const first = await build(dataDir);
    expect(versions.current()).toBe(first.version);
    expect(fs.existsSync(path.join(versions.dir(first.version), 'chunks.json'))).toBe(true);
    expect(first.chunkCount).toBeGreaterThan(0);
    expect(first.documents.map((d) => d.id).sort()).toEqual([
      'faq/cks-chu-ky-so-la-gi.md',
      'faq/vneid-quen-mat-khau.md',
      'guides/cks-chu-ky-so-la-gi.md',
      'guides/tt-chuyen-khoan-vietqr.md',
      'guides/vneid-quen-mat-khau.md',
    ]);

    const second = await build(dataDir);
    expect(second.version).not.toBe(first.version);
    expect(versions.current()).toBe(second.version);
    expect(versions.list()).toEqual([second.version, first.version]);
    expect(versions.previous()).toBe(first.version);

    // Rollback: switch back and a running knowledge base follows.
    const kb = knowledgeBase(dataDir);
    await kb.start();
    expect(kb.status()).toEqual({ ready: true, version: second.version });
    versions.switchTo(versions.previous()!);
    expect(versions.current()).toBe(first.version);
    expect(await kb.refresh()).toBe(true);
    expect(kb.status().version).toBe(first.version);
    expect(await kb.refresh()).toBe(false);
  });

  it('keeps the newest three versions and the current one', async () => {
    const dataDir = temp(makeTempDir());
    const versions = new IndexVersions(dataDir);
    const made: string[] = [];
    for (let i = 0; i < 4; i++) made.push((await build(dataDir)).version);
    expect(versions.list()).toEqual(made.slice(1).reverse());
    expect(versions.current()).toBe(made[3]);
  });

  it('gives the same chunk ids to the same files and reuses all their vectors on a second build', async () => {
    const dataDir = temp(makeTempDir());
    const embeddings = new CountingEmbeddings();
    const first = await build(dataDir, embeddings);
    expect(first.reusedVectors).toBe(0);
    expect(embeddings.embedded).toBe(vectorEntries(first));

    embeddings.embedded = 0;
    const second = await build(dataDir, embeddings);
    expect(second.reusedVectors).toBe(vectorEntries(second));
    expect(embeddings.embedded).toBe(0);
    const ids = (v: string) => readChunks(dataDir, v).map((c) => `${c.id} ${c.embedHash}`);
    expect(ids(second.version)).toEqual(ids(first.version));
  });

  it('re-embeds only the chunks of an edited file', async () => {
    const dir = temp(copySmallKnowledge());
    const dataDir = temp(makeTempDir());
    const embeddings = new CountingEmbeddings();
    const before = await build(dataDir, embeddings, dir);

    const file = path.join(dir, 'guides/tt-chuyen-khoan-vietqr.md');
    const text = fs.readFileSync(file, 'utf8');
    const lastHeading = text.lastIndexOf('\n## ');
    expect(lastHeading).toBeGreaterThan(0);
    // Edit the text of the last section only.
    fs.writeFileSync(
      file,
      `${text.trimEnd()}\n\nGhi chú mới: hỏi Tổ công nghệ số cộng đồng nếu quét mã không được.\n`,
    );

    embeddings.embedded = 0;
    const after = await build(dataDir, embeddings, dir);
    const old = new Map(readChunks(dataDir, before.version).map((c) => [c.id, c]));
    const changed = readChunks(dataDir, after.version).filter(
      (c) => old.get(c.id)?.embedHash !== c.embedHash,
    );

    expect(changed.length).toBeGreaterThan(0);
    expect(new Set(changed.map((c) => c.docId))).toEqual(new Set(['guides/tt-chuyen-khoan-vietqr.md']));
    // Other sections of the edited guide keep their ids and vectors.
    const sameDocUnchanged = readChunks(dataDir, after.version).filter(
      (c) => c.docId === 'guides/tt-chuyen-khoan-vietqr.md' && !changed.includes(c),
    );
    expect(sameDocUnchanged.length).toBeGreaterThan(0);
    expect(embeddings.embedded).toBe(changed.length);
    expect(after.reusedVectors).toBe(vectorEntries(after) - changed.length);
  });

  it('reports a file it cannot parse and builds the rest', async () => {
    const dir = temp(copySmallKnowledge());
    fs.mkdirSync(path.join(dir, 'docs'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'docs/ke-hoach-hong.pdf'), '%PDF-1.4\nđây không phải là một tệp PDF\n');
    const dataDir = temp(makeTempDir());
    const manifest = await build(dataDir, new HashingEmbeddings(), dir);

    expect(manifest.skipped).toHaveLength(1);
    expect(manifest.skipped[0]!.file).toBe('docs/ke-hoach-hong.pdf');
    expect(manifest.skipped[0]!.error.length).toBeGreaterThan(0);
    expect(manifest.documents).toHaveLength(5);
    const embeddings = new HashingEmbeddings();
    const index = await loadIndexVersion(new IndexVersions(dataDir).dir(manifest.version), embeddings);
    const result = await index.retriever.retrieve('quên mật khẩu VNeID');
    expect(result.hits[0]!.chunk.docId).toMatch(/vneid-quen-mat-khau/);
  });
});

describe('KnowledgeBase', () => {
  it('is not ready, with a reason, before start, and refuses to retrieve', async () => {
    const kb = knowledgeBase(temp(makeTempDir()));
    const status = kb.status();
    expect(status.ready).toBe(false);
    expect(status.reason).toMatch(/not loaded/);
    await expect(kb.retrieve('chữ ký số')).rejects.toThrow(/not loaded/);
  });

  it('builds the index on first start and answers from it', async () => {
    const dataDir = temp(makeTempDir());
    const kb = knowledgeBase(dataDir);
    await kb.start();
    const status = kb.status();
    expect(status.ready).toBe(true);
    expect(status.version).toBe(new IndexVersions(dataDir).current());
    const result = await kb.retrieve('chuyen khoan vietqr');
    expect(result.hits[0]!.chunk.docId).toBe('guides/tt-chuyen-khoan-vietqr.md');
  });

  it('picks up a version published by another build without restart', async () => {
    const dataDir = temp(makeTempDir());
    const kb = knowledgeBase(dataDir);
    await kb.start();
    const before = kb.status().version;
    kb.watch(20);

    const published = await build(dataDir);
    expect(published.version).not.toBe(before);
    const switched = await pollUntil(() => kb.status().version === published.version, 10_000);
    expect(switched).toBe(true);
    expect((await kb.retrieve('chữ ký số là gì')).hits.length).toBeGreaterThan(0);
  });

  it('falls back to the previous version when the current one is damaged', async () => {
    const dataDir = temp(makeTempDir());
    const versions = new IndexVersions(dataDir);
    const good = await build(dataDir);
    const damaged = await build(dataDir);
    fs.rmSync(path.join(versions.dir(damaged.version), 'chunks.json'));

    const kb = knowledgeBase(dataDir);
    await kb.start();
    expect(kb.status()).toEqual({ ready: true, version: good.version });
    expect(versions.current()).toBe(good.version);
    expect((await kb.retrieve('quên mật khẩu VNeID')).hits.length).toBeGreaterThan(0);
  });

  it('rebuilds when no version is usable', async () => {
    const dataDir = temp(makeTempDir());
    const versions = new IndexVersions(dataDir);
    const broken = [(await build(dataDir)).version, (await build(dataDir)).version];
    for (const v of broken) fs.rmSync(path.join(versions.dir(v), 'chunks.json'));

    const kb = knowledgeBase(dataDir);
    await kb.start();
    const status = kb.status();
    expect(status.ready).toBe(true);
    expect(broken).not.toContain(status.version);
    expect(versions.current()).toBe(status.version);
    expect((await kb.retrieve('chữ ký số')).hits.length).toBeGreaterThan(0);
  });

  it('rebuilds when the index was made with another embedder', async () => {
    const dataDir = temp(makeTempDir());
    const other = new HashingEmbeddings({ dimensions: 256 });
    const old = await build(dataDir, other);
    const kb = knowledgeBase(dataDir);
    await kb.start();
    expect(kb.status().version).not.toBe(old.version);
    expect(kb.current?.manifest.embedder).toBe(new HashingEmbeddings().modelId);
  });
});
