import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqlDb } from '../../src/storage/sql/index.js';
import { createTeamStore } from '../../src/team/teamStore.js';
import { REAL_KNOWLEDGE_DIR, removeDir } from '../helpers/knowledge.js';
import { tempDataDir } from '../helpers/testApp.js';

const run = promisify(execFile);
const dirs: string[] = [];
const temp = (prefix: string) => {
  const d = tempDataDir(prefix);
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach(removeDir));

/** `npm run kb -- …` as a child process (tsx), on the given KNOWLEDGE_DIR and DATA_DIR. */
async function kb(args: string[], env: { KNOWLEDGE_DIR: string; DATA_DIR: string }) {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'scripts/kb.ts', ...args], {
      env: { ...process.env, ...env, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run kb', () => {
  it('lists documents, hit-tests a question (--json), and adds a guide (audited as cli:<user>)', async () => {
    const readOnly = { KNOWLEDGE_DIR: REAL_KNOWLEDGE_DIR, DATA_DIR: temp('tlcds-kb-cli-') };
    const knowledgeDir = temp('tlcds-kb-cli-knowledge-');
    fs.cpSync(REAL_KNOWLEDGE_DIR, knowledgeDir, { recursive: true });
    const writable = { KNOWLEDGE_DIR: knowledgeDir, DATA_DIR: temp('tlcds-kb-cli-data-') };
    const guide = path.join(temp('tlcds-kb-cli-file-'), 'ong-mat.md');
    fs.writeFileSync(
      guide,
      '# Khai báo đàn ong mật\n\n## Các bước khai báo đàn ong mật\n1. Ghi số thùng ong.\n',
    );

    const [list, hit, add, bad] = await Promise.all([
      kb(['list'], readOnly),
      kb(['hit', '--json', 'chu ky so la gi'], readOnly),
      kb(['add', guide, '--kind', 'guide', '--owner', 'Thử nghiệm', '--skip-eval'], writable),
      kb(['show', '../package.json'], readOnly),
    ]);

    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/TÀI LIỆU\s+LOẠI\s+ĐOẠN/);
    expect(list.stdout).toMatch(/guides\/vneid-quen-mat-khau\.md\s+guide/);
    expect(list.stdout).toMatch(/flows\/dvc-nop-ho-so\.yaml\s+flow/);

    expect(hit.code, hit.stderr).toBe(0);
    const result = JSON.parse(hit.stdout);
    expect(result.normalized).toBe('chu ky so la gi');
    expect(result.expansions.length).toBeGreaterThan(0);
    expect(result.fused[0].docId).toMatch(/cks-chu-ky-so-la-gi/);
    expect(result.answer.answered).toBe(true);
    expect(Object.keys(result.legs)).toEqual(['lexical', 'vector', 'faq']);

    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('Đã thêm guides/ong-mat.md');
    expect(add.stdout).toMatch(/Phiên bản chỉ mục hiện hành: v\d{8}/);
    expect(fs.readFileSync(path.join(knowledgeDir, 'guides/ong-mat.md'), 'utf8')).toMatch(
      /^---\ntitle: Khai báo đàn ong mật\n/,
    );
    const db = await openSqlDb({ dataDir: writable.DATA_DIR });
    try {
      const entries = await createTeamStore(db).audit.list();
      const upload = entries.find((e) => e.action === 'kb.upload')!;
      expect(upload.actorId).toBe(`cli:${os.userInfo().username}`);
      expect(upload.target).toBe('guides/ong-mat.md');
      expect(entries.some((e) => e.action === 'kb.indexed')).toBe(true);
    } finally {
      await db.close();
    }

    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Lỗi: invalid document id/);
    // Four tsx processes at once: allow for a busy machine.
  }, 120_000);
});
