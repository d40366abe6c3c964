/**
 * The team inbox under a crowd: how long grouping a newly forwarded question takes when the inbox
 * already holds many open questions (after a broadcast, or with a long retention). It runs on
 * the event loop of the service for every forwarded question, so it is a stall of every turn
 * behind it. Ours reads the newest active questions with a bounded query
 * (`QuestionRepository.groupCandidates`); the baseline reads the whole inbox and filters it in
 * memory, as the inbox did before.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteDb } from '../src/storage/sql/index.js';
import { findGroup, normalizeQuestion } from '../src/team/grouping.js';
import { GROUP_CANDIDATES } from '../src/team/inbox.js';
import { createTeamStore } from '../src/team/teamStore.js';
import type { QuestionStatus } from '../src/team/teamStore.js';
import { SqlUnansweredLog } from '../src/unanswered/sqlUnansweredLog.js';
import { percentile } from './lib.js';

const ACTIVE: QuestionStatus[] = ['open', 'claimed', 'escalated'];
const COMMUNES = ['xã Long Mỹ', 'phường 5', 'xã Vị Thanh', 'xã Hỏa Lựu', 'phường 7'];

export interface GroupingFigures {
  openQuestions: number;
  oursMs: { p50: number; p95: number };
  baselineMs: { p50: number; p95: number };
}

export async function groupingBench(openQuestions = 5000, samples = 30): Promise<GroupingFigures> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlcds-bench-inbox-'));
  const db = openSqliteDb(dataDir);
  try {
    const log = new SqlUnansweredLog(db);
    await log.migrate();
    const store = createTeamStore(db);
    await store.migrate();
    // Forwarded questions as the service stores them: each with the conversation's last 12 lines.
    const transcript = Array.from({ length: 12 }, (_, i) => ({
      from: i % 2 ? 'bot' : 'citizen',
      text: 'Dạ, để cài VNeID Anh/Chị mở ứng dụng, chọn Đăng nhập rồi làm theo hướng dẫn nhé. '.repeat(3),
      at: new Date().toISOString(),
    }));
    const start = Date.now() - openQuestions * 1000;
    await db.transaction(async (tx) => {
      for (let i = 0; i < openQuestions; i++) {
        const text = `làm sao để cài ứng dụng VNeID mức ${i % 97} trên điện thoại cũ số ${i}`;
        const at = new Date(start + i * 1000).toISOString();
        await tx.run(
          `INSERT INTO questions (id, text, channel, conversation_id, user_id, reference, commune, reason,
             transcript, status, created_at, updated_at, normalized, group_id)
           VALUES (?, ?, 'webchat', ?, ?, '{}', ?, 'not_answered', ?, 'open', ?, ?, ?, ?)`,
          [
            `q${i}`,
            text,
            `c${i}`,
            `u${i}`,
            COMMUNES[i % COMMUNES.length],
            JSON.stringify(transcript),
            at,
            at,
            normalizeQuestion(text),
            `q${i}`,
          ],
        );
      }
    });
    const asked = {
      id: 'new',
      text: 'cài VNeID trên điện thoại cũ được không',
      commune: 'xã Long Mỹ',
      createdAt: new Date().toISOString(),
      groupId: 'new',
    };
    const normalized = normalizeQuestion(asked.text);
    const time = async (group: () => Promise<string>) => {
      const ms: number[] = [];
      for (let i = 0; i < samples; i++) {
        const t0 = performance.now();
        await group();
        ms.push(performance.now() - t0);
      }
      return { p50: percentile(ms, 50), p95: percentile(ms, 95) };
    };
    const oursMs = await time(async () =>
      findGroup(
        { ...asked, normalized },
        await store.questions.groupCandidates(ACTIVE, asked.createdAt, GROUP_CANDIDATES),
      ),
    );
    const baselineMs = await time(async () => {
      const all = (await store.questions.all()).filter(
        (c) => c.id !== asked.id && c.createdAt <= asked.createdAt && ACTIVE.includes(c.status),
      );
      return findGroup({ ...asked, normalized }, all);
    });
    return { openQuestions, oursMs, baselineMs };
  } finally {
    await db.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
