/**
 * Runs turns one after another per conversation (dialogs and state assume turns of one
 * conversation never overlap) while different conversations run concurrently.
 */
export class TurnQueue {
  private readonly tails = new Map<string, Promise<void>>();

  enqueue(key: string, work: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves when everything queued so far has run. */
  async idle(): Promise<void> {
    while (this.tails.size) await Promise.all([...this.tails.values()]);
  }
}
