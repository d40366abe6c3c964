import fs from 'node:fs';
import path from 'node:path';

/** One question of the eval set (test/fixtures/eval/*.jsonl; format in its README). */
export interface EvalItem {
  q: string;
  scope: 'in' | 'out';
  expected?: string[];
  style?: string;
}

export const EVAL_DIR = path.resolve('test/fixtures/eval');

/** Every question of every `*.jsonl` file in `dir`, in file order. */
export function loadEvalSet(dir = EVAL_DIR): EvalItem[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) =>
      fs
        .readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as EvalItem),
    );
}
