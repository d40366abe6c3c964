import type { Logger } from '../logger.js';
import type { QuestionRepository } from './teamStore.js';

/**
 * RETENTION_DAYS: transcripts of closed questions are deleted once the question has been closed (last
 * changed) that many days ago. Runs at start and then every hour.
 */
export class RetentionSweep {
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: { questions: QuestionRepository; retentionDays: number; logger: Logger }) {}

  sweep(now = Date.now()): number {
    const before = new Date(now - this.o.retentionDays * 86_400_000).toISOString();
    const dropped = this.o.questions.dropTranscripts(before);
    if (dropped)
      this.o.logger.info({ dropped, before }, 'retention: transcripts of closed questions deleted');
    return dropped;
  }

  start(everyMs = 3_600_000): void {
    try {
      this.sweep();
    } catch (err) {
      this.o.logger.error({ err }, 'retention sweep failed');
    }
    this.timer = setInterval(() => {
      try {
        this.sweep();
      } catch (err) {
        this.o.logger.error({ err }, 'retention sweep failed');
      }
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
