import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashingEmbeddings } from '../../src/retrieval/hashingEmbeddings.js';
import {
  IndexArchiveError,
  packIndexVersion,
  readIndexArchive,
  unpackIndexVersion,
} from '../../src/retrieval/indexArchive.js';
import { buildIndex, type IndexManifest } from '../../src/retrieval/indexBuilder.js';
import {
  IndexVersions,
  compareVersionNames,
  sortVersionsNewestFirst,
  versionsToKeep,
} from '../../src/retrieval/indexVersions.js';
import { loadIndexVersion } from '../../src/retrieval/knowledgeIndex.js';
import { copySmallKnowledge, makeTempDir, removeDir } from '../helpers/knowledge.js';

/** Every file of a directory, by relative path. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string, rel: string) => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(abs, e.name), r);
      else out[r] = fs.readFileSync(path.join(abs, e.name)).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}

/** A hand-made archive in the same format (to test what the reader refuses). */
function craft(files: [string, Buffer][], magic = 'TLCDS-KBIX1\n'): Buffer {
  const parts: Buffer[] = [Buffer.from(magic, 'latin1')];
  for (const [name, data] of files) {
    const n = Buffer.from(name, 'utf8');
    const h = Buffer.alloc(2 + n.length + 8);
    h.writeUInt16BE(n.length, 0);
    n.copy(h, 2);
    h.writeBigUInt64BE(BigInt(data.length), 2 + n.length);
    parts.push(h, data);
  }
  const body = Buffer.concat(parts);
  return gzipSync(Buffer.concat([body, createHash('sha256').update(body).digest()]));
}

const temps: string[] = [];
let dataDir: string;
let manifest: IndexManifest;
let versionDir: string;

beforeAll(async () => {
  const knowledgeDir = copySmallKnowledge();
  dataDir = makeTempDir('tlcds-archive-');
  temps.push(knowledgeDir, dataDir);
  const embeddings = new HashingEmbeddings();
  manifest = await buildIndex({ knowledgeDir, dataDir, embeddings, embedderId: embeddings.modelId });
  versionDir = new IndexVersions(dataDir).dir(manifest.version);
});
afterAll(() => temps.forEach(removeDir));

describe('index archive', () => {
  it('packs a version directory and unpacks it byte for byte, loadable', async () => {
    const archive = packIndexVersion(versionDir);
    const files = readIndexArchive(archive);
    expect([...files.keys()].sort()).toEqual(Object.keys(snapshot(versionDir)).sort());
    expect([...files.keys()]).toContain('hnsw/hnswlib.index');

    const other = makeTempDir('tlcds-archive-to-');
    temps.push(other);
    const root = new IndexVersions(other).root;
    const dir = unpackIndexVersion(archive, root, manifest.version);
    expect(dir).toBe(path.join(root, manifest.version));
    expect(snapshot(dir)).toEqual(snapshot(versionDir));
    // Nothing else is left beside it (the temporary directory was renamed into place).
    expect(fs.readdirSync(root)).toEqual([manifest.version]);
    expect(new IndexVersions(other).list()).toEqual([manifest.version]);

    const index = await loadIndexVersion(dir, new HashingEmbeddings());
    expect(index.version).toBe(manifest.version);
    expect((await index.retriever.retrieve('quên mật khẩu VNeID')).hits[0]!.chunk.docId).toMatch(/vneid/);

    // Unpacking again replaces the directory atomically.
    fs.writeFileSync(path.join(dir, 'stray.txt'), 'x');
    unpackIndexVersion(archive, root, manifest.version);
    expect(snapshot(dir)).toEqual(snapshot(versionDir));
  });

  it('rejects a damaged archive and writes nothing', () => {
    const archive = packIndexVersion(versionDir);
    const root = path.join(makeTempDir('tlcds-archive-bad-'), 'index');
    temps.push(path.dirname(root));
    const expectRejected = (bad: Buffer, message: RegExp) => {
      expect(() => unpackIndexVersion(bad, root, manifest.version)).toThrow(IndexArchiveError);
      expect(() => unpackIndexVersion(bad, root, manifest.version)).toThrow(message);
      expect(fs.existsSync(root) ? fs.readdirSync(root) : []).toEqual([]);
    };

    // A flipped byte inside the gzip stream, a truncated download, garbage.
    const flipped = Buffer.from(archive);
    flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
    expectRejected(flipped, /damaged/);
    expectRejected(archive.subarray(0, archive.length - 100), /damaged/);
    expectRejected(Buffer.from('not an archive at all'), /damaged/);

    // Valid gzip whose content was altered: the digest catches it.
    const raw = gunzipSync(archive);
    raw[raw.length - 40]! ^= 0x01;
    expectRejected(gzipSync(raw), /digest/);
    expectRejected(gzipSync(Buffer.from('something else entirely, long enough to hold a digest')), /header/);

    // Another version than the one asked for, no manifest, unsafe names.
    const manifestJson = fs.readFileSync(path.join(versionDir, 'manifest.json'));
    expect(() => unpackIndexVersion(archive, root, 'v20000101-000000')).toThrow(/holds version/);
    expectRejected(craft([['chunks.json', Buffer.from('[]')]]), /no manifest/);
    for (const name of ['../evil', '/etc/passwd', 'hnsw/../../x', 'a//b', 'a\\b']) {
      expectRejected(
        craft([
          ['manifest.json', manifestJson],
          [name, Buffer.from('x')],
        ]),
        /invalid file name/,
      );
    }
    expectRejected(craft([['manifest.json', manifestJson]], 'OTHER-FORMAT\n'), /header/);
    expect(() => unpackIndexVersion(archive, root, '../x')).toThrow(/invalid index version name/);
  });

  it('refuses to pack a directory that is not a version', () => {
    const empty = makeTempDir('tlcds-archive-empty-');
    temps.push(empty);
    expect(() => packIndexVersion(empty)).toThrow(/not an index version/);
  });
});

describe('versionsToKeep', () => {
  it('keeps the newest three, the current one and the one before it', () => {
    const all = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'];
    expect([...versionsToKeep(all, 'v6')].sort()).toEqual(['v4', 'v5', 'v6']);
    expect([...versionsToKeep(all, 'v2')].sort()).toEqual(['v1', 'v2', 'v4', 'v5', 'v6']);
    expect([...versionsToKeep(all, undefined)].sort()).toEqual(['v4', 'v5', 'v6']);
    expect([...versionsToKeep(['v1'], 'v1')]).toEqual(['v1']);
  });
});

describe('version names', () => {
  it('orders builds of one second by their suffix, numerically', () => {
    const names = ['v20250101-120000-10', 'v20250101-120000', 'v20250101-120000-9', 'v20250101-120001'];
    expect(sortVersionsNewestFirst(names)).toEqual([
      'v20250101-120001',
      'v20250101-120000-10',
      'v20250101-120000-9',
      'v20250101-120000',
    ]);
    expect(compareVersionNames('v20250101-120000-2', 'v20250101-120000')).toBeGreaterThan(0);
  });

  it('never reuses or goes below a name of the same second, locally or published elsewhere', () => {
    const dir = makeTempDir('tlcds-names-');
    temps.push(dir);
    const versions = new IndexVersions(dir);
    const now = new Date('2025-01-01T12:00:00.500Z');
    expect(versions.newVersionName(now)).toBe('v20250101-120000');
    expect(versions.newVersionName(now, new Set(['v20250101-120000']))).toBe('v20250101-120000-2');
    // The base name was pruned but a later one of that second is still there: the next one follows it.
    fs.mkdirSync(path.join(versions.root, 'v20250101-120000-3'), { recursive: true });
    expect(versions.newVersionName(now)).toBe('v20250101-120000-4');
    expect(versions.newVersionName(now, new Set(['v20250101-120000-7']))).toBe('v20250101-120000-8');
  });
});
