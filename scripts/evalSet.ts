import { FIXTURE_EVAL_DIR, loadEvalSet as load, type EvalItem } from '../src/quality/evalSet.js';

export type { EvalItem };

/** The eval set shipped with the tests; `npm run eval` also reads KNOWLEDGE_DIR/eval (src/quality). */
export const EVAL_DIR = FIXTURE_EVAL_DIR;

/** Every question of every `*.jsonl` file in `dir`, in file order. */
export function loadEvalSet(dir = EVAL_DIR): EvalItem[] {
  return load(dir);
}
