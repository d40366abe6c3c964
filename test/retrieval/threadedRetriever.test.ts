import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { HashingEmbeddings } from '../../src/retrieval/hashingEmbeddings.js';
import { KnowledgeBase } from '../../src/retrieval/knowledgeIndex.js';
import { ThreadedRetriever } from '../../src/retrieval/threadedRetriever.js';
import { loadEvalSet } from '../../scripts/evalSet.js';
import {
  copySmallKnowledge,
  makeTempDir,
  pollUntil,
  REAL_KNOWLEDGE_DIR,
  removeDir,
  silentLogger,
} from '../helpers/knowledge.js';

/** A logger whose error lines the test reads. */
function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = createLogger({
    level: 'warn',
    pretty: false,
    destination: {
      write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }),
    },
  });
  return { logger, lines };
}

async function startKnowledge(knowledgeDir: string) {
  const dataDir = makeTempDir('tlcds-threaded-');
  const embeddings = new HashingEmbeddings();
  const knowledge = new KnowledgeBase({
    knowledgeDir,
    dataDir,
    embeddings,
    embedderId: embeddings.modelId,
    logger: silentLogger(),
  });
  await knowledge.start();
  return { knowledge, dataDir, dimensions: embeddings.dimensions };
}

describe('ThreadedRetriever over the real knowledge', () => {
  let k: Awaited<ReturnType<typeof startKnowledge>>;
  let threaded: ThreadedRetriever;
  beforeAll(async () => {
    k = await startKnowledge(REAL_KNOWLEDGE_DIR);
    threaded = new ThreadedRetriever({
      knowledge: k.knowledge,
      dimensions: k.dimensions,
      logger: silentLogger(),
    });
  });
  afterAll(async () => {
    await threaded.stop();
    removeDir(k.dataDir);
  });

  it('answers every question with the same passages, scores and confidence as the service thread', async () => {
    // The first question starts the thread and waits for it to load the index.
    const first = await threaded.retrieve('quên mật khẩu VNeID');
    expect(first).toEqual(await k.knowledge.retrieve('quên mật khẩu VNeID'));
    expect(threaded.ready()).toBe(true);
    expect(threaded.answered).toEqual({ thread: 1, here: 0 });

    const questions = loadEvalSet().map((i) => i.q);
    const before = threaded.answered.thread;
    for (const q of questions) {
      expect(await threaded.retrieve(q, { k: 5 })).toEqual(await k.knowledge.retrieve(q, { k: 5 }));
    }
    expect(threaded.answered.thread - before).toBe(questions.length);
    // The hits are the service's own chunk objects (what "bước tiếp theo" and the sources use).
    const result = await threaded.retrieve('chu ky so la gi');
    expect(k.knowledge.current!.retriever.chunks).toContain(result.hits[0]!.chunk);
  });

  it('after stop, questions are still answered, on the service thread', async () => {
    const other = new ThreadedRetriever({
      knowledge: k.knowledge,
      dimensions: k.dimensions,
      logger: silentLogger(),
    });
    await other.retrieve('mở tài khoản ngân hàng');
    expect(other.ready()).toBe(true);
    await other.stop();
    const result = await other.retrieve('mở tài khoản ngân hàng');
    expect(result).toEqual(await k.knowledge.retrieve('mở tài khoản ngân hàng'));
    expect(other.ready()).toBe(false);
    expect(other.answered).toEqual({ thread: 1, here: 1 });
  });
});

describe('ThreadedRetriever when the thread fails or the index changes', () => {
  let knowledgeDir: string;
  let k: Awaited<ReturnType<typeof startKnowledge>>;
  beforeAll(async () => {
    knowledgeDir = copySmallKnowledge();
    k = await startKnowledge(knowledgeDir);
  });
  afterAll(() => {
    removeDir(k.dataDir);
    removeDir(knowledgeDir);
  });

  it('a version the thread cannot load is answered here, and a new thread takes over once it can', async () => {
    const { logger, lines } = recordingLogger();
    const threaded = new ThreadedRetriever({
      knowledge: k.knowledge,
      dimensions: k.dimensions,
      logger,
      restartDelayMs: 50,
    });
    try {
      // The loaded version's files disappear under the running service (a disk cleaned by hand).
      const dir = k.knowledge.current!.dir;
      const moved = `${dir}.moved`;
      fs.renameSync(dir, moved);
      const q = 'quên mật khẩu VNeID thì làm sao';
      const expected = await k.knowledge.retrieve(q);
      expect(await threaded.retrieve(q)).toEqual(expected);
      expect(await pollUntil(() => lines.some((l) => /could not load the index/.test(l.msg)), 20_000)).toBe(
        true,
      );
      expect(await threaded.retrieve(q)).toEqual(expected);
      expect(threaded.answered.thread).toBe(0);

      fs.renameSync(moved, dir);
      await new Promise((r) => setTimeout(r, 60));
      // A new thread is started, loads the version, and answers.
      expect(await threaded.retrieve(q)).toEqual(expected);
      expect(threaded.ready()).toBe(true);
      expect(threaded.answered.thread).toBe(1);
    } finally {
      await threaded.stop();
    }
  });

  it('follows a new index version: the next question waits for the thread to load it', async () => {
    const threaded = new ThreadedRetriever({
      knowledge: k.knowledge,
      dimensions: k.dimensions,
      logger: silentLogger(),
    });
    try {
      await threaded.retrieve('chữ ký số là gì');
      expect(threaded.ready()).toBe(true);
      const before = k.knowledge.current!.version;

      fs.copyFileSync(
        path.join(REAL_KNOWLEDGE_DIR, 'guides/tt-chuyen-khoan-vietqr.md'),
        path.join(knowledgeDir, 'guides/vietqr-ban-sao.md'),
      );
      await k.knowledge.rebuild();
      expect(k.knowledge.current!.version).not.toBe(before);
      expect(threaded.ready()).toBe(false);

      const q = 'chuyển khoản bằng mã VietQR';
      const fromThread = await threaded.retrieve(q);
      expect(threaded.answered).toEqual({ thread: 2, here: 0 });
      expect(fromThread).toEqual(await k.knowledge.retrieve(q));
      // The passages of the new version, which the old one did not have.
      expect(fromThread.hits.some((h) => h.chunk.docId.includes('vietqr-ban-sao'))).toBe(true);
    } finally {
      await threaded.stop();
    }
  });
});
