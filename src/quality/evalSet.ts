import fs from 'node:fs';
import path from 'node:path';

/**
 * One question of the eval set: the fixtures in `test/fixtures/eval/*.jsonl` (format in its README)
 * and the questions ICT staff add in `<KNOWLEDGE_DIR>/eval/*.jsonl` (knowledge console).
 */
export interface EvalItem {
  q: string;
  scope: 'in' | 'out';
  /** Documents (relative to knowledge/), any of which is a right answer. */
  expected?: string[];
  style?: string;
  /** Set on questions added by staff ("this should have matched"). */
  addedBy?: string;
  addedAt?: string;
}

/** The eval set shipped with the tests (absent on a production server without `test/`). */
export const FIXTURE_EVAL_DIR = path.resolve('test/fixtures/eval');

/** The folders the eval set is read from: the fixtures (when present) and `<knowledgeDir>/eval`. */
export function evalSetDirs(knowledgeDir: string, fixturesDir = FIXTURE_EVAL_DIR): string[] {
  return [fixturesDir, path.join(knowledgeDir, 'eval')].filter((d) => fs.existsSync(d));
}

/** Why a line is not a valid eval item, or undefined when it is. */
export function evalItemProblem(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const v = value as Record<string, unknown>;
  if (typeof v.q !== 'string' || !v.q.trim()) return '"q" must be a non-empty text';
  if (v.scope !== 'in' && v.scope !== 'out') return '"scope" must be "in" or "out"';
  if (v.scope === 'in') {
    const e = v.expected;
    if (!Array.isArray(e) || !e.length || !e.every((x) => typeof x === 'string' && x)) {
      return 'an in-scope question needs "expected": a list of document ids';
    }
  }
  return undefined;
}

/**
 * Every question of every `*.jsonl` file in `dirs`, in folder then file order. A line that is not a
 * valid item is passed to `onProblem` and left out; without `onProblem` it throws.
 */
export function loadEvalSet(
  dirs: string | readonly string[],
  onProblem?: (file: string, line: number, problem: string) => void,
): EvalItem[] {
  const items: EvalItem[] = [];
  for (const dir of typeof dirs === 'string' ? [dirs] : dirs) {
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort();
    for (const f of files) {
      const file = path.join(dir, f);
      fs.readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (!line.trim()) return;
          let value: unknown;
          let problem: string | undefined;
          try {
            value = JSON.parse(line);
            problem = evalItemProblem(value);
          } catch (err) {
            problem = `invalid JSON (${err instanceof Error ? err.message : String(err)})`;
          }
          if (!problem) items.push(value as EvalItem);
          else if (onProblem) onProblem(file, i + 1, problem);
          else throw new Error(`${file}:${i + 1}: ${problem}`);
        });
    }
  }
  return items;
}
