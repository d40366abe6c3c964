import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { durably, openDatabase } from '../../src/storage/database.js';
import { SqliteDb } from '../../src/storage/sql/index.js';
import { SqlUnansweredLog } from '../../src/unanswered/sqlUnansweredLog.js';
import { DirectLineClient, type DlActivity } from '../helpers/directLineClient.js';
import { onPostgres, tempDataDir } from '../helpers/testApp.js';
import { prebuiltDataDir, spawnService, waitReady, type ServiceProcess } from './service.js';

/**
 * kill -9 during a burst of forwarded questions: every question a citizen was told was forwarded
 * ("Mình đã chuyển câu hỏi của bạn…") is in the store after the restart. The store is SQLite in
 * WAL mode with synchronous=NORMAL (FULL for the forwarded question's insert): a committed
 * transaction survives a process crash, and ForwardDialog tells the citizen only after the commit.
 */
const ADMIN_TOKEN = 'faults-admin-token';
const CITIZENS = 36;
const KILL_AFTER_CONFIRMED = 12;

const FORWARDED = /^Mình đã chuyển câu hỏi của bạn tới Tổ công nghệ số/;
const said = (bot: DlActivity[], pattern: RegExp) => bot.some((a) => pattern.test(a.text ?? ''));

const services: ServiceProcess[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.kill('SIGKILL');
});

async function forwardFlow(
  url: string,
  i: number,
  confirmed: Map<string, string>,
  stopped: () => boolean,
): Promise<void> {
  const question = `nhà tôi nuôi gà bị toi thì báo ai, hộ số ${i}`;
  const dl = new DirectLineClient(url, `citizen-burst-${i}`);
  await dl.generate();
  await dl.start();
  await dl.post(question);
  await dl.waitFor(
    (bot) =>
      stopped() ||
      bot.some((a) => a.suggestedActions?.actions.some((x) => x.title === 'Có, chuyển giúp mình')),
  );
  await dl.post('Có, chuyển giúp mình');
  await dl.waitFor((bot) => stopped() || said(bot, /xã\/phường nào/));
  await dl.post('phường 5');
  const all = await dl.waitFor((bot) => stopped() || said(bot, FORWARDED));
  // Only what the citizen actually received counts as "told it was forwarded".
  if (
    said(
      all.filter((a) => a.from.role === 'bot'),
      FORWARDED,
    )
  )
    confirmed.set(dl.conversationId, question);
}

// The subject is SQLite's own durability (a child process on DATA_DIR): not repeated on PostgreSQL.
describe.skipIf(onPostgres)('kill -9 during a burst of forwarded questions', () => {
  it('keeps every question a citizen was told was forwarded', async () => {
    const dataDir = await prebuiltDataDir('tlcds-kill-');
    const env = {
      DATA_DIR: dataDir,
      ADMIN_TOKEN,
      // One test client plays every citizen from 127.0.0.1: the per-IP budgets are off here.
      RATE_LIMIT_IP_PER_MINUTE: '0',
      RATE_LIMIT_DL_TOKENS_PER_MINUTE: '0',
    };
    const t0 = Date.now();
    const first = await spawnService(env);
    services.push(first);
    await waitReady(first.url);

    const tReady = Date.now();
    const confirmed = new Map<string, string>();
    let killed = false;
    let killedAt = 0;
    const flows = Array.from({ length: CITIZENS }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * 25)); // a burst, not one instant
      try {
        await forwardFlow(first.url, i, confirmed, () => killed);
      } catch {
        // The service was killed under this citizen's feet.
      }
      if (!killed && confirmed.size >= KILL_AFTER_CONFIRMED) {
        killed = true;
        killedAt = confirmed.size;
        first.child.kill('SIGKILL');
      }
    });
    await Promise.all(flows);
    expect(await first.exited).toBe('SIGKILL');
    expect(killed).toBe(true);
    // Some citizens were still in the middle of the flow when the process died.
    expect(confirmed.size).toBeLessThan(CITIZENS);

    const tKilled = Date.now();
    // Restart on the same DATA_DIR.
    const second = await spawnService(env);
    services.push(second);
    await waitReady(second.url);
    const tRestarted = Date.now();

    const db = new Database(path.join(dataDir, 'assistant.db'), { readonly: true, fileMustExist: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const rows = db.prepare('SELECT conversation_id, text, commune, status FROM questions').all() as {
      conversation_id: string;
      text: string;
      commune: string;
      status: string;
    }[];
    db.close();
    const stored = new Map(rows.map((r) => [r.conversation_id, r]));
    const missing = [...confirmed].filter(([conv, text]) => stored.get(conv)?.text !== text);
    expect(missing).toEqual([]);
    for (const conv of confirmed.keys()) expect(stored.get(conv)?.commune).toBe('phường 5');

    // The team sees them after the restart.
    const res = await fetch(`${second.url}/api/team/questions`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const listed = new Set(((await res.json()) as { items: { text: string }[] }).items.map((q) => q.text));
    for (const text of confirmed.values()) expect(listed.has(text)).toBe(true);

    console.info(
      `kill -9: ${confirmed.size} confirmed (kill at ${killedAt}), ${rows.length} stored, ${missing.length} missing;` +
        ` start ${tReady - t0} ms, burst ${tKilled - tReady} ms, restart ${tRestarted - tKilled} ms`,
    );
  }, 60_000);
});

describe.skipIf(onPostgres)("the store's durability settings", () => {
  it("is WAL with synchronous=NORMAL, and a forwarded question is fsync'ed before it is confirmed", async () => {
    const dir = tempDataDir('tlcds-durable-');
    const db = openDatabase(dir);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(durably(db, () => db.pragma('synchronous', { simple: true }))).toBe(2); // FULL inside
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // restored
      expect(() =>
        durably(db, () => {
          throw new Error('write failed');
        }),
      ).toThrow('write failed');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // restored after a failure too

      const log = new SqlUnansweredLog(new SqliteDb(db, { ownsConnection: false }));
      await log.migrate();
      // The WAL holding the question's commit is fdatasync'ed (on libuv's thread pool, not the
      // event loop) before log() resolves, i.e. before the citizen is told it was forwarded.
      const synced: string[] = [];
      const open = fs.promises.open;
      const spy = vi.spyOn(fs.promises, 'open').mockImplementation(async (...args) => {
        const handle = await open(...args);
        const datasync = handle.datasync.bind(handle);
        handle.datasync = async () => {
          await datasync();
          synced.push(String(args[0]));
        };
        return handle;
      });
      const stored = await log.log({
        text: 'nhà tôi nuôi gà bị toi thì báo ai',
        channel: 'directline',
        conversationId: 'c-1',
        userId: 'u-1',
        reference: {},
        commune: 'phường 5',
        reason: 'not_answered',
      });
      spy.mockRestore();
      expect(synced).toEqual([path.join(dir, 'assistant.db-wal')]);
      expect(db.pragma('synchronous', { simple: true })).toBe(1);
      expect((await log.get(stored.id))?.text).toBe('nhà tôi nuôi gà bị toi thì báo ai');
    } finally {
      db.close();
    }
  });
});
