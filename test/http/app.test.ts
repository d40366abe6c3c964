import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startFakeConnector, messageActivity } from '../helpers/fakeConnector.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { appsStoppedAfterEach, onPostgres, startApp, tempDataDir } from '../helpers/testApp.js';

const start = appsStoppedAfterEach();

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('health endpoints', () => {
  it('answers /healthz while alive and /readyz 503 until the knowledge index is loaded', async () => {
    const r = await start({}, { loadKnowledge: false });
    expect((await fetch(`${r.url}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${r.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { reason: string }).reason).toMatch(/knowledge/);

    await r.app.loadKnowledge();
    const ready = await fetch(`${r.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe('ready');
  });

  it('reports 503 with a reason when the store is not writable', async () => {
    const r = await start();
    await r.app.assistant.sql.close();
    const res = await fetch(`${r.url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reason: string }).reason).toMatch(/store/);
  });
});

describe('POST /api/messages', () => {
  it('answers a citizen question to the activity serviceUrl, with its source', async () => {
    const connector = await startFakeConnector();
    try {
      const r = await start();
      const res = await post(
        `${r.url}/api/messages`,
        messageActivity(connector.url, 'lam sao kich hoat vneid muc 2'),
      );
      expect(res.status).toBeLessThan(300);
      await connector.waitForMessages(1);
      const reply = connector.messages()[0]!;
      expect(reply.path).toMatch(/^\/v3\/conversations\/conv-1\/activities/);
      expect(reply.body.text).toMatch(/kích hoạt/i);
      expect(reply.body.text).toMatch(/Nguồn: /);
      expect(reply.authorization).toBeUndefined();
    } finally {
      await connector.close();
    }
  });

  it('answers from the retrieval thread when it is on, and from the main thread when it is off', async () => {
    const connector = await startFakeConnector();
    try {
      const replies: string[] = [];
      for (const setting of ['on', 'off']) {
        const r = await start({ RETRIEVAL_THREAD: setting });
        const res = await post(`${r.url}/api/messages`, messageActivity(connector.url, 'chu ky so la gi'));
        expect(res.status).toBeLessThan(300);
        await connector.waitForMessages(replies.length + 1);
        replies.push(connector.messages().at(-1)!.body.text as string);
        const thread = r.app.assistant.retrievalThread;
        if (setting === 'on') expect(thread?.answered).toEqual({ thread: 1, here: 0 });
        else expect(thread).toBeUndefined();
      }
      expect(replies[0]).toMatch(/Nguồn: /);
      expect(replies[0]).toBe(replies[1]);
    } finally {
      await connector.close();
    }
  });

  it('checkpoints the SQLite store on its own thread, and between turns when that is off (no thread with PostgreSQL)', async () => {
    const connector = await startFakeConnector();
    try {
      for (const setting of ['on', 'off']) {
        const r = await start({ SQLITE_CHECKPOINT_THREAD: setting });
        const res = await post(`${r.url}/api/messages`, messageActivity(connector.url, 'chu ky so la gi'));
        expect(res.status).toBeLessThan(300);
        const { checkpointer, db } = r.app.assistant;
        if (onPostgres) {
          // No SQLite file is opened: PostgreSQL checkpoints itself.
          expect(checkpointer).toBeUndefined();
          expect(db).toBeUndefined();
        } else if (setting === 'on') {
          await expect.poll(() => checkpointer?.active, { timeout: 10_000 }).toBe(true);
          expect(db?.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
        } else {
          expect(checkpointer).toBeUndefined();
          expect(db?.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
        }
      }
    } finally {
      await connector.close();
    }
  });

  it('rejects malformed JSON with a 400 and a JSON error', async () => {
    const r = await start();
    const res = await fetch(`${r.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type":',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBeTruthy();
  });

  it('requires a Bot Framework token when MicrosoftAppId is set', async () => {
    const r = await start({
      MicrosoftAppId: '00000000-0000-0000-0000-000000000001',
      MicrosoftAppPassword: 'secret',
    });
    const res = await post(`${r.url}/api/messages`, messageActivity('http://127.0.0.1:9', 'xin chào'));
    expect(res.status).toBe(401);
  });
});

describe('state', () => {
  it('keeps a dialog in progress across a restart on the same store', async () => {
    const connector = await startFakeConnector();
    const dataDir = tempDataDir();
    // On PostgreSQL both runs use one database (startApp would give each a fresh one).
    const database = onPostgres ? await createTestDatabase() : undefined;
    const store = { DATA_DIR: dataDir, ...(database ? { DATABASE_URL: database.url } : {}) };
    try {
      const first = await startApp(store);
      await post(
        `${first.url}/api/messages`,
        messageActivity(connector.url, 'giá lúa hôm nay ở chợ bao nhiêu một ký', 'conv-restart'),
      );
      await connector.waitForMessages(1);
      await post(
        `${first.url}/api/messages`,
        messageActivity(connector.url, 'gặp người thật', 'conv-restart'),
      );
      await connector.waitForMessages(3);
      expect(connector.messages().at(-1)!.body.text).toMatch(/xã\/phường nào/);
      await first.stop();

      const second = await startApp(store);
      await post(
        `${second.url}/api/messages`,
        messageActivity(connector.url, 'phường 5, thành phố Vị Thanh', 'conv-restart'),
      );
      await connector.waitForMessages(4);
      expect(connector.messages().at(-1)!.body.text).toMatch(
        /đã chuyển câu hỏi của bạn tới Tổ công nghệ số cộng đồng phường 5/,
      );
      const stored = await second.app.assistant.unanswered.list();
      expect(stored).toHaveLength(1);
      expect(stored[0]!.commune).toBe('phường 5, thành phố Vị Thanh');
      await second.stop();
    } finally {
      await connector.close();
      await database?.drop();
    }
  });
});

describe('configuration', () => {
  it('refuses to start with an invalid setting, naming the variable and the expected form', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
      env: { ...process.env, PORT: 'abc', DATA_DIR: tempDataDir(), LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/PORT="abc" is invalid: expected a whole number/);
  });

  it('names every bad variable at once', async () => {
    const { loadConfig, ConfigError } = await import('../../src/config.js');
    expect(() => loadConfig({ LOG_LEVEL: 'loud', OPENAI_BASE_URL: 'not a url' })).toThrow(ConfigError);
    try {
      loadConfig({ LOG_LEVEL: 'loud', OPENAI_BASE_URL: 'not a url' });
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/LOG_LEVEL="loud" is invalid: expected one of fatal, error/);
      expect(message).toMatch(/OPENAI_BASE_URL/);
    }
  });

  it('runs the store without its transaction-misuse check unless SQL_CHECK_TRANSACTIONS=1', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(loadConfig({}).checkSqlTransactions).toBe(false);
    expect(loadConfig({ SQL_CHECK_TRANSACTIONS: '1' }).checkSqlTransactions).toBe(true);
    expect(() => loadConfig({ SQL_CHECK_TRANSACTIONS: 'yes' })).toThrow(
      /SQL_CHECK_TRANSACTIONS="yes" is invalid: expected one of 0, 1/,
    );
  });

  it('never echoes a bad value that may hold a password', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(() => loadConfig({ DATABASE_URL: 'mysql://app:s3cret-pw@db/x' })).toThrow(
      /DATABASE_URL=\(hidden\) is invalid/,
    );
    try {
      loadConfig({ DATABASE_URL: 'mysql://app:s3cret-pw@db/x' });
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cret-pw');
    }
  });
});
