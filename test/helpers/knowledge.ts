import { Writable } from 'node:stream';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { AnswerService } from '../../src/answer/answerService.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { HashingEmbeddings } from '../../src/retrieval/hashingEmbeddings.js';
import { buildIndex, type IndexManifest } from '../../src/retrieval/indexBuilder.js';
import { IndexVersions } from '../../src/retrieval/indexVersions.js';
import { loadIndexVersion, type KnowledgeIndex } from '../../src/retrieval/knowledgeIndex.js';

/** The real knowledge base of the repository. */
export const REAL_KNOWLEDGE_DIR = path.resolve('knowledge');

export function makeTempDir(prefix = 'tlcds-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

export const silentLogger = (): Logger => createLogger({ level: 'silent', pretty: false });

/** A logger at `level` whose JSON lines are kept in `lines`, for tests that check what was logged. */
export function capturingLogger(level: 'debug' | 'info' | 'warn' = 'debug'): {
  logger: Logger;
  lines: string[];
} {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger({ level, pretty: false, destination }), lines };
}

export interface BuiltIndex {
  dataDir: string;
  manifest: IndexManifest;
  index: KnowledgeIndex;
  embeddings: HashingEmbeddings;
}

/** Builds the real knowledge base (offline embedding) into a temp DATA_DIR and loads it. */
export async function buildRealIndex(knowledgeDir = REAL_KNOWLEDGE_DIR): Promise<BuiltIndex> {
  const dataDir = makeTempDir('tlcds-index-');
  const embeddings = new HashingEmbeddings();
  const manifest = await buildIndex({ knowledgeDir, dataDir, embeddings, embedderId: embeddings.modelId });
  const index = await loadIndexVersion(new IndexVersions(dataDir).dir(manifest.version), embeddings);
  return { dataDir, manifest, index, embeddings };
}

/**
 * An offline AnswerService (no model) over the real knowledge (or the knowledge dir `knowledgeDir`
 * returns), built before the calling describe block's tests and removed after them; call the
 * returned function inside a test.
 */
export function useRealAnswerService(
  o: { maxChars?: number; knowledgeDir?: () => string } = {},
): () => AnswerService {
  const maxChars = o.maxChars ?? 700;
  let built: BuiltIndex | undefined;
  let answers: AnswerService | undefined;
  beforeAll(async () => {
    built = await buildRealIndex(o.knowledgeDir?.() ?? REAL_KNOWLEDGE_DIR);
    answers = new AnswerService({ retriever: built.index.retriever, maxChars, logger: silentLogger() });
  });
  afterAll(() => removeDir(built?.dataDir));
  return () => answers!;
}

/**
 * A small knowledge dir: a few real guides and FAQ entries (and the synonyms) copied into a
 * temp folder that a test may edit.
 */
export function copySmallKnowledge(
  files = [
    'guides/vneid-quen-mat-khau.md',
    'guides/cks-chu-ky-so-la-gi.md',
    'guides/tt-chuyen-khoan-vietqr.md',
    'faq/vneid-quen-mat-khau.md',
    'faq/cks-chu-ky-so-la-gi.md',
  ],
): string {
  const dir = makeTempDir('tlcds-knowledge-');
  for (const f of [...files, 'synonyms.yaml']) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(REAL_KNOWLEDGE_DIR, f), path.join(dir, f));
  }
  return dir;
}

/** The guide (or, for an FAQ entry, the guide it condenses) of each of the first `n` hits. */
export function hitDocs(hits: readonly { chunk: { docId: string; source?: string } }[], n = 3): string[] {
  return hits.slice(0, n).flatMap((h) => [h.chunk.docId, ...(h.chunk.source ? [h.chunk.source] : [])]);
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last result. */
export async function pollUntil(check: () => boolean, timeoutMs = 10_000, everyMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}
