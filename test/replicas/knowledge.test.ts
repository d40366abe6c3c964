import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REAL_KNOWLEDGE_DIR, pollUntil, removeDir } from '../helpers/knowledge.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { onPostgres, startApp, tempDataDir, type RunningApp } from '../helpers/testApp.js';

/**
 * Two replicas of the service on one PostgreSQL database, each with its own DATA_DIR and the same
 * knowledge folder (issue 10): on first start only one builds the index and both answer from the
 * same version; a version built through A's knowledge console is published and B loads it without
 * restart; a rollback on A moves B back.
 */

const ADMIN = 'replica-kb-admin-token-0123456789abcdef';
const QUESTION = 'nuôi ong mật cần khai báo gì với xã';
const GUIDE_ID = 'guides/khai-bao-ong-mat-thu-nghiem.md';
// Test data only (a made-up commune procedure): its subject is absent from the real knowledge base.
const GUIDE = `---
title: Khai báo đàn ong mật với xã (tài liệu thử nghiệm)
topic: co-ban
updated: 2025-01-01
owner: Kiểm thử
---

# Khai báo đàn ong mật với xã (tài liệu thử nghiệm)

## Khi nào cần khai báo đàn ong mật
Hộ nuôi ong mật báo cho cán bộ nông nghiệp của Ủy ban nhân dân cấp xã khi đặt thêm thùng ong mật mới.

## Các bước khai báo đàn ong mật
1. Ghi số thùng ong mật và nơi đặt thùng ong.
2. Mang sổ theo dõi đàn ong mật đến Bộ phận một cửa của xã.
3. Cán bộ ghi vào danh sách hộ nuôi ong mật của xã.
`;

interface Json {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function api(r: RunningApp, method: string, p: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${r.url}/api/team${p}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const version = (r: RunningApp) => r.app.assistant.knowledge.status().version;

/** Whether the replica answers QUESTION from the test guide. */
async function answersFromGuide(r: RunningApp): Promise<boolean> {
  const answer = await r.app.assistant.answers.answer({ question: QUESTION });
  return answer.answered && answer.sources.some((s) => s.file === GUIDE_ID);
}

describe.runIf(onPostgres)('knowledge index versions across replicas (PostgreSQL)', () => {
  let database: TestDatabase;
  let knowledgeDir: string;
  const dataDirs: string[] = [];
  let a: RunningApp;
  let b: RunningApp;

  const start = (name: string) => {
    const dataDir = tempDataDir(`tlcds-replica-${name}-`);
    dataDirs.push(dataDir);
    return startApp({
      DATABASE_URL: database.url,
      KNOWLEDGE_DIR: knowledgeDir,
      DATA_DIR: dataDir,
      ADMIN_TOKEN: ADMIN,
    });
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    knowledgeDir = tempDataDir('tlcds-replica-knowledge-');
    fs.cpSync(REAL_KNOWLEDGE_DIR, knowledgeDir, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await database?.drop();
    removeDir(knowledgeDir);
    dataDirs.forEach(removeDir);
  }, 60_000);

  it('builds the index once for both replicas on first start', async () => {
    [a, b] = await Promise.all([start('a'), start('b')]);
    const first = version(a);
    expect(first).toBeDefined();
    expect(version(b)).toBe(first);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const published = await client.query<{ version: string }>('SELECT version FROM kb_index_versions');
      expect(published.rows.map((r) => r.version)).toEqual([first]);
      const pointer = await client.query<{ version: string }>('SELECT version FROM kb_index_current');
      expect(pointer.rows).toEqual([{ version: first }]);
    } finally {
      await client.end();
    }
    // Each replica has the version in its own DATA_DIR: built by one, downloaded by the other.
    for (const r of [a, b]) {
      expect(fs.existsSync(path.join(r.config.dataDir, 'index', first!, 'manifest.json'))).toBe(true);
      expect(fs.readFileSync(path.join(r.config.dataDir, 'index', 'CURRENT'), 'utf8').trim()).toBe(first);
    }
    for (const r of [a, b]) expect((await fetch(`${r.url}/readyz`)).status).toBe(200);
  }, 120_000);

  it('a version built through A is picked up by B without restart, and a rollback on A moves B back', async () => {
    const first = version(a)!;
    expect(await answersFromGuide(b)).toBe(false);

    // The new guide lands in the shared knowledge folder; A's console re-indexes.
    fs.writeFileSync(path.join(knowledgeDir, GUIDE_ID), GUIDE);
    expect((await api(a, 'POST', '/kb/reindex')).status).toBeLessThan(300);
    expect(await pollUntil(() => version(a) !== first, 60_000, 50)).toBe(true);
    const second = version(a)!;

    // B follows within a few seconds (notification; the 5 s poll is the fallback).
    const since = Date.now();
    expect(await pollUntil(() => version(b) === second, 8000, 25)).toBe(true);
    expect(Date.now() - since).toBeLessThan(8000);
    expect(await answersFromGuide(b)).toBe(true);
    const hit = await api(b, 'POST', '/kb/hit', { q: QUESTION });
    expect(hit.status).toBe(200);
    expect(hit.body.answer.answered).toBe(true);
    expect(hit.body.fused[0].docId).toBe(GUIDE_ID);
    // B's console lists the same versions as A's (the previous one was fetched too, for rollback).
    const onB = (await api(b, 'GET', '/kb/versions')).body;
    expect(onB.current).toBe(second);
    expect(await pollUntil(() => fs.existsSync(path.join(b.config.dataDir, 'index', first)), 8000)).toBe(
      true,
    );

    // Rollback on A: B goes back to the first version.
    for (let i = 0; (await api(a, 'GET', '/kb/versions')).body.job.state !== 'idle'; i++) {
      if (i > 600) throw new Error('the re-index on A did not finish');
      await new Promise((res) => setTimeout(res, 50));
    }
    const rollback = await api(a, 'POST', '/kb/rollback', {});
    expect(rollback.status).toBe(200);
    expect(rollback.body.current).toBe(first);
    expect(await pollUntil(() => version(b) === first, 8000, 25)).toBe(true);
    expect(await answersFromGuide(b)).toBe(false);
    expect(fs.readFileSync(path.join(b.config.dataDir, 'index', 'CURRENT'), 'utf8').trim()).toBe(first);

    // And B can roll forward again through its own console: A follows.
    const forward = await api(b, 'POST', '/kb/rollback', { version: second });
    expect(forward.status).toBe(200);
    expect(await pollUntil(() => version(a) === second, 8000, 25)).toBe(true);
    expect(await answersFromGuide(a)).toBe(true);
  }, 120_000);
});
