import fs from 'node:fs';
import path from 'node:path';
import { redactPii } from '../privacy/redact.js';
import type { EvalItem } from '../quality/evalSet.js';
import { badArgument } from './errors.js';
import { writeFileAtomic } from './files.js';

/** Where "this should have matched" questions go: part of the eval set, owned by ICT staff. */
export const STAFF_EVAL_FILE = 'eval/staff.jsonl';

export interface ExpectedResult {
  added: EvalItem & { style: 'staff'; addedBy: string; addedAt: string };
  file: string;
  /** True when the same question with the same document was already there (nothing added). */
  duplicate: boolean;
}

/**
 * Records the document a question should have found, as an in-scope eval question. The question is
 * redacted first (staff may paste a citizen's message with a phone or CCCD number in it).
 */
export function addExpected(o: {
  knowledgeDir: string;
  q: unknown;
  docId: string;
  addedBy: string;
  maxChars: number;
}): ExpectedResult {
  const raw = typeof o.q === 'string' ? o.q.trim() : '';
  if (!raw) throw badArgument('q (the question) is required');
  if (raw.length > o.maxChars) throw badArgument(`q is longer than ${o.maxChars} characters`);
  const q = redactPii(raw).text.replace(/\s+/g, ' ').trim();
  const file = path.join(o.knowledgeDir, ...STAFF_EVAL_FILE.split('/'));
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  for (const line of existing.split('\n')) {
    if (!line.trim()) continue;
    try {
      const item = JSON.parse(line) as ExpectedResult['added'];
      if (item.q === q && item.expected?.length === 1 && item.expected[0] === o.docId) {
        return { added: item, file: STAFF_EVAL_FILE, duplicate: true };
      }
    } catch {
      // Invalid lines are reported by the eval; they do not block adding.
    }
  }
  const added: ExpectedResult['added'] = {
    q,
    scope: 'in',
    expected: [o.docId],
    style: 'staff',
    addedBy: o.addedBy,
    addedAt: new Date().toISOString(),
  };
  const prefix = existing && !existing.endsWith('\n') ? `${existing}\n` : existing;
  writeFileAtomic(file, `${prefix}${JSON.stringify(added)}\n`);
  return { added, file: STAFF_EVAL_FILE, duplicate: false };
}
