import type { Logger } from '../logger.js';
import { communeKey } from './grouping.js';
import type { InboxQuestion, WebhookRepository } from './teamStore.js';

/** Accepts only absolute http(s) URLs (set by an admin). */
export function validWebhookUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2000) return undefined;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The outgoing per-commune notification: POST {questionId, commune, text, url} to the commune's webhook
 * when a question is handed to its team. Fire-and-forget with a short timeout; failures are logged.
 */
export class WebhookNotifier {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly o: {
      webhooks: WebhookRepository;
      logger: Logger;
      dashboardUrl: (questionId: string) => string;
      timeoutMs?: number;
    },
  ) {}

  /**
   * Posts the new question to its commune's webhook, if any. Called only by the replica that logged
   * the question (the unanswered log's `onLogged` fires there alone), so each question is sent once
   * however many replicas run. Never throws; resolves when the request has ended.
   */
  notify(q: InboxQuestion): Promise<void> {
    const p: Promise<void> = this.send(q)
      .catch((err: unknown) => this.o.logger.warn({ err, commune: q.commune }, 'commune webhook failed'))
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  }

  private async send(q: InboxQuestion): Promise<void> {
    const hook = await this.o.webhooks.get(communeKey(q.commune));
    if (!hook) return;
    const body = JSON.stringify({
      questionId: q.id,
      commune: q.commune,
      text: q.text,
      url: this.o.dashboardUrl(q.id),
    });
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 3000),
    });
    await res.body?.cancel();
    if (!res.ok) this.o.logger.warn({ status: res.status, commune: q.commune }, 'commune webhook refused');
  }

  async idle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
