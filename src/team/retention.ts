import type { Logger } from '../logger.js';
import type { SqlDb } from '../storage/sql/index.js';
import type { JobRepository, QuestionRepository } from './teamStore.js';

const JOB = 'team-retention';

/**
 * RETENTION_DAYS: transcripts of closed questions are deleted once the question has been closed (last
 * changed) that many days ago. Runs at start and then every hour — once per period across replicas:
 * under the cluster-wide lock `team-retention`, and only by the replica that records the run in
 * `team_jobs` (the others skip it).
 */
export class RetentionSweep {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly o: {
      sql: SqlDb;
      questions: QuestionRepository;
      jobs: JobRepository;
      retentionDays: number;
      logger: Logger;
    },
  ) {}

  /** Sweeps now (whatever the other replicas did); returns how many transcripts were deleted. */
  sweep(now = Date.now()): Promise<number> {
    return this.o.sql.withLock(JOB, () => this.drop(now));
  }

  private async drop(now: number): Promise<number> {
    const before = new Date(now - this.o.retentionDays * 86_400_000).toISOString();
    const dropped = await this.o.questions.dropTranscripts(before);
    if (dropped)
      this.o.logger.info({ dropped, before }, 'retention: transcripts of closed questions deleted');
    return dropped;
  }

  /** The periodic run: skipped when another replica swept within the last half period. */
  private scheduled(everyMs: number): Promise<unknown> {
    this.running ??= this.o.sql
      .withLock(JOB, async () => {
        const now = Date.now();
        const notAfter = new Date(now - everyMs / 2).toISOString();
        if (!(await this.o.jobs.claimRun(JOB, new Date(now).toISOString(), notAfter))) return 0;
        return this.drop(now);
      })
      .catch((err: unknown) => this.o.logger.error({ err }, 'retention sweep failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Sweeps at once (awaited) and then every `everyMs`. */
  async start(everyMs = 3_600_000): Promise<void> {
    if (this.timer) return;
    this.timer = setInterval(() => void this.scheduled(everyMs), everyMs);
    this.timer.unref();
    await this.scheduled(everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
