/**
 * npm run sweeps [-- --verbose]
 *
 * Asks the labelled blind-sweep questions (docs/quality/blind-sweeps-*) again, on an index built
 * from the knowledge files as they are now, and prints, per sweep,
 * the reviewer's verdict against the reply the assistant gives now: an answer, "did you mean"
 * suggestions, or "I don't know". A verdict judged an answer's first source: it carries over only
 * while the answer still comes from that source ("changed" otherwise). Out-of-scope questions keep
 * their label whatever the assistant does now.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAssistant } from '../src/assistant.js';
import { cliSetup } from './cli.js';

const DIR = 'docs/quality';
const verbose = process.argv.includes('--verbose');

type Verdict = 'good' | 'weak' | 'wrong' | 'declined' | 'clarify-right' | 'clarify-none' | 'out-of-scope';

/**
 * The reviewers wrote "good", "weak", "wrong", "BAD: why", "false-decline", "oos-…", and for "did
 * you mean" replies "clarify-right" (a suggestion fits) or "clarify-none".
 */
function verdictOf(raw: string): Verdict | undefined {
  const v = raw.trim().toLowerCase();
  if (v === 'good') return 'good';
  if (v === 'clarify-right' || v === 'clarify-none') return v;
  if (v.startsWith('weak')) return 'weak';
  if (v.startsWith('wrong') || v.startsWith('bad')) return 'wrong';
  if (v.startsWith('oos')) return 'out-of-scope';
  if (v.includes('decline')) return 'declined';
  return undefined;
}

const files = fs
  .readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name.startsWith('blind-sweeps-'))
  .flatMap((d) =>
    fs
      .readdirSync(path.join(DIR, d.name))
      .filter((f) => f.endsWith('.tsv'))
      .sort()
      .map((f) => path.join(DIR, d.name, f)),
  );

const { config, logger } = cliSetup('error');
// An index built now from the knowledge files, in a directory of its own: DATA_DIR's index is the
// one last built (`npm run ingest`, the console), which may predate the edits being checked.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlcds-sweeps-'));
const assistant = createAssistant({ ...config, dataDir, database: undefined }, logger);
await assistant.knowledge.start();

const REPLIES = ['answered', 'clarify', 'none'] as const;
for (const file of files) {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const col = (name: string) => header!.split('\t').indexOf(name);
  const [cVerdict, cAnswered, cSource, cQuestion] = ['verdict', 'answered', 'first_source', 'question'].map(
    col,
  );
  const sourceCol = cSource! >= 0 ? cSource! : col('source');
  const counts = new Map<string, number>();
  for (const line of lines) {
    const cells = line.split('\t');
    const verdict = verdictOf(cells[cVerdict!] ?? '');
    const question = cells[cQuestion!] ?? '';
    if (!verdict || !question) continue;
    const answer = await assistant.answers.answer({ question });
    const reply = answer.answered ? 'answered' : answer.mode === 'clarify' ? 'clarify' : 'none';
    const wasAnswered = (cells[cAnswered!] ?? '').toLowerCase() === 'true';
    const source = answer.retrieval.hits[0]?.chunk.docId;
    // A verdict on an answer holds while the same source would come first; one on "did you mean"
    // while the first suggestion is the same ("?": not recorded, then while it is "did you mean").
    const recorded = cells[sourceCol];
    const firstSuggestion = answer.suggestions?.[0]?.file;
    const holds =
      verdict === 'out-of-scope' ||
      (verdict.startsWith('clarify')
        ? reply === 'clarify' && (recorded === '?' || recorded === firstSuggestion)
        : wasAnswered
          ? source !== undefined && source === cells[sourceCol]
          : verdict === 'declined');
    const label = holds ? verdict : 'changed';
    counts.set(`${label}|${reply}`, (counts.get(`${label}|${reply}`) ?? 0) + 1);
    if (verbose && label !== 'good' && reply !== 'none')
      console.log(`  ${label.padEnd(12)} ${reply.padEnd(8)} ${answer.confidence.toFixed(2)}  ${question}`);
  }
  console.log(`\n${file}`);
  console.log(`  ${'verdict'.padEnd(14)}${REPLIES.map((r) => r.padStart(10)).join('')}`);
  for (const label of [
    'good',
    'weak',
    'wrong',
    'clarify-right',
    'clarify-none',
    'declined',
    'out-of-scope',
    'changed',
  ]) {
    const row = REPLIES.map((r) => counts.get(`${label}|${r}`) ?? 0);
    if (row.some(Boolean))
      console.log(`  ${label.padEnd(14)}${row.map((n) => String(n).padStart(10)).join('')}`);
  }
}
assistant.knowledge.stop();
await assistant.close();
fs.rmSync(dataDir, { recursive: true, force: true });
