import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { VERSION_NAME } from './indexVersions.js';

/**
 * One index version directory (chunks.json, hnsw/, vectors.bin/json, synonyms.yaml, manifest.json)
 * packed into a single buffer, to publish it through the shared store (`indexPublisher.ts`).
 *
 * Format, gzipped: the magic `TLCDS-KBIX1\n`; per file a UInt16BE name length, the relative
 * name (UTF-8, `/`-separated), a UInt64BE data length and the data; then 32 bytes of SHA-256 over
 * everything before. Unpacking checks the gzip CRC, the digest, every length and every name, and
 * that the version's `manifest.json` names the expected version; anything else is an
 * `IndexArchiveError` and nothing is written where the version belongs.
 */
const MAGIC = Buffer.from('TLCDS-KBIX1\n', 'latin1');
const DIGEST_BYTES = 32;
/** Files a version directory may hold at most (hnsw/ has three; room for future files). */
const MAX_FILES = 1000;

export class IndexArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexArchiveError';
  }
}

export function assertVersionName(version: string): void {
  if (!VERSION_NAME.test(version)) throw new IndexArchiveError(`invalid index version name "${version}"`);
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(abs, e.name), name);
      else if (e.isFile()) out.push(name);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** Packs every file under `dir` (a complete version directory). */
export function packIndexVersion(dir: string): Buffer {
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    throw new IndexArchiveError(`${dir} is not an index version (no manifest.json)`);
  }
  const parts: Buffer[] = [MAGIC];
  for (const name of listFiles(dir)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const data = fs.readFileSync(path.join(dir, ...name.split('/')));
    const header = Buffer.alloc(2 + nameBytes.length + 8);
    header.writeUInt16BE(nameBytes.length, 0);
    nameBytes.copy(header, 2);
    header.writeBigUInt64BE(BigInt(data.length), 2 + nameBytes.length);
    parts.push(header, data);
  }
  const body = Buffer.concat(parts);
  const digest = createHash('sha256').update(body).digest();
  // Level 1: the bulk is float vectors, which compress little at any level; speed matters more.
  return gzipSync(Buffer.concat([body, digest]), { level: 1 });
}

/** A relative path inside the version directory: no absolute path, `..`, `.`, empty part or `\`. */
function safeName(name: string): boolean {
  if (!name || name.includes('\\') || name.includes('\0') || name.startsWith('/')) return false;
  return name.split('/').every((p) => p !== '' && p !== '.' && p !== '..');
}

/** The files of an archive, checked; throws IndexArchiveError when it is damaged or malformed. */
export function readIndexArchive(archive: Buffer): Map<string, Buffer> {
  let raw: Buffer;
  try {
    raw = gunzipSync(archive);
  } catch (err) {
    throw new IndexArchiveError(
      `index archive is damaged (gzip: ${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (raw.length < MAGIC.length + DIGEST_BYTES || !raw.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new IndexArchiveError('not an index archive (bad header)');
  }
  const body = raw.subarray(0, raw.length - DIGEST_BYTES);
  const digest = raw.subarray(raw.length - DIGEST_BYTES);
  if (!createHash('sha256').update(body).digest().equals(digest)) {
    throw new IndexArchiveError('index archive is damaged (digest mismatch)');
  }
  const files = new Map<string, Buffer>();
  let at = MAGIC.length;
  while (at < body.length) {
    if (files.size >= MAX_FILES) throw new IndexArchiveError('index archive holds too many files');
    if (at + 2 > body.length) throw new IndexArchiveError('index archive is truncated');
    const nameLength = body.readUInt16BE(at);
    at += 2;
    if (at + nameLength + 8 > body.length) throw new IndexArchiveError('index archive is truncated');
    const name = body.subarray(at, at + nameLength).toString('utf8');
    at += nameLength;
    const size = body.readBigUInt64BE(at);
    at += 8;
    if (size > BigInt(body.length - at)) throw new IndexArchiveError('index archive is truncated');
    if (!safeName(name) || files.has(name)) {
      throw new IndexArchiveError(`index archive has an invalid file name "${name}"`);
    }
    files.set(name, body.subarray(at, at + Number(size)));
    at += Number(size);
  }
  return files;
}

/**
 * Unpacks an archive as `<root>/<version>/`: first into a hidden temporary directory beside it,
 * then renamed into place, so a reader never sees a half-written version. An existing directory of
 * that name is replaced. Returns the version's directory.
 */
export function unpackIndexVersion(archive: Buffer, root: string, version: string): string {
  assertVersionName(version);
  const files = readIndexArchive(archive);
  const manifest = files.get('manifest.json');
  if (!manifest) throw new IndexArchiveError('index archive has no manifest.json');
  let named: unknown;
  try {
    named = (JSON.parse(manifest.toString('utf8')) as { version?: unknown }).version;
  } catch {
    throw new IndexArchiveError('index archive has an unreadable manifest.json');
  }
  if (named !== version) {
    throw new IndexArchiveError(`index archive holds version "${String(named)}", not "${version}"`);
  }
  fs.mkdirSync(root, { recursive: true });
  const tmp = path.join(root, `.${version}.download-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    for (const [name, data] of files) {
      const file = path.join(tmp, ...name.split('/'));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, data);
    }
    const dir = path.join(root, version);
    if (fs.existsSync(dir)) {
      // Moved aside first, so the rename below is the only moment the name changes.
      const old = path.join(root, `.${version}.replaced-${process.pid}-${randomBytes(4).toString('hex')}`);
      fs.renameSync(dir, old);
      fs.renameSync(tmp, dir);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, dir);
    }
    return dir;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
