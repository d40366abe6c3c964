import { AnswerService } from '../answer/answerService.js';
import type { Logger } from '../logger.js';
import {
  evaluate,
  listEvalRuns,
  memoizingRetriever,
  writeEvalRun,
  type EvalFigures,
  type EvalMetrics,
} from '../quality/evaluation.js';
import { evalSetDirs, FIXTURE_EVAL_DIR, loadEvalSet } from '../quality/evalSet.js';
import type { KnowledgeBase, KnowledgeIndex } from '../retrieval/knowledgeIndex.js';

export { listEvalRuns, type EvalFigures };

export interface EvalRunnerOptions {
  dataDir: string;
  knowledgeDir: string;
  knowledge: Pick<KnowledgeBase, 'current'>;
  /** Longest answer (the same as the bot's). */
  answerMaxChars: number;
  logger: Logger;
  /** Where the fixture eval set lives (default test/fixtures/eval; skipped when absent). */
  fixturesDir?: string;
  /** What the runs are recorded as ("console", "npm run kb"). */
  source: string;
  /** Yield to other work between questions (inside the service). */
  background: boolean;
  /** While a re-index is building, resolves when it is done (the eval waits, so builds stay fast). */
  building?: () => Promise<void> | undefined;
}

/**
 * Runs the eval set on an index version after it was built, one run at a time. A run of a version
 * that is no longer the newest is abandoned for the newest one, and a run pauses while a re-index
 * builds. Answers are extractive (no model calls), so a run costs a few seconds of CPU.
 */
export class EvalRunner {
  private pending: KnowledgeIndex | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  /** Aborts the run in progress (when a newer version is scheduled, or on stop). */
  private current: AbortController | undefined;
  lastRun: { version: string; error?: string; at: string } | undefined;

  constructor(private readonly o: EvalRunnerOptions) {}

  /** Evaluates the version currently loaded (which must be `version`) soon. */
  schedule(version: string): void {
    const index = this.o.knowledge.current;
    if (!index || index.version !== version || this.abort.signal.aborted) return;
    this.pending = index;
    this.current?.abort(new Error(`superseded by ${version}`));
    this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  /** Resolves when no run is in progress or waiting. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  stop(): void {
    this.abort.abort(new Error('stopped'));
    this.current?.abort(new Error('stopped'));
    this.pending = undefined;
  }

  /** Evaluates an index now (the CLI's `eval`). */
  async run(index: KnowledgeIndex, signal: AbortSignal = this.abort.signal): Promise<EvalMetrics> {
    const items = loadEvalSet(
      evalSetDirs(this.o.knowledgeDir, this.o.fixturesDir ?? FIXTURE_EVAL_DIR),
      (file, line, problem) => this.o.logger.warn({ file, line, problem }, 'eval question skipped'),
    );
    const retriever = memoizingRetriever(index.retriever);
    const answers = new AnswerService({ retriever, maxChars: this.o.answerMaxChars, logger: this.o.logger });
    const { metrics } = await evaluate({
      retriever,
      answers,
      items,
      version: index.version,
      embedder: index.manifest.embedder,
      signal,
      pause: this.o.background
        ? async () => {
            await new Promise((r) => setImmediate(r));
            for (let b = this.o.building?.(); b; b = this.o.building?.()) await b;
          }
        : undefined,
      source: this.o.source,
      answersMode: 'extractive',
    });
    writeEvalRun(this.o.dataDir, metrics);
    return metrics;
  }

  list(): EvalFigures[] {
    return listEvalRuns(this.o.dataDir);
  }

  private async loop(): Promise<void> {
    while (this.pending && !this.abort.signal.aborted) {
      const index = this.pending;
      this.pending = undefined;
      const started = performance.now();
      const controller = new AbortController();
      this.current = controller;
      try {
        const m = await this.run(index, AbortSignal.any([this.abort.signal, controller.signal]));
        this.lastRun = { version: index.version, at: m.at };
        this.o.logger.info(
          {
            version: index.version,
            recallAt5: m.ours.recallAt5,
            answeredInScope: m.ours.answeredInScope,
            seconds: Math.round(performance.now() - started) / 1000,
          },
          'eval after re-index done',
        );
      } catch (err) {
        if (controller.signal.aborted || this.abort.signal.aborted) continue;
        const error = err instanceof Error ? err.message : String(err);
        this.lastRun = { version: index.version, error, at: new Date().toISOString() };
        this.o.logger.error({ err, version: index.version }, 'eval after re-index failed');
      }
    }
  }
}
