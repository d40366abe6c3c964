/** Counts turns in flight so shutdown can let them finish, within a bound. */
export class TurnTracker {
  private readonly inFlight = new Set<Promise<unknown>>();

  get size(): number {
    return this.inFlight.size;
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = () => this.inFlight.delete(work);
    work.then(done, done);
    return work;
  }

  /** Resolves when every tracked turn has settled or after `timeoutMs`; returns how many were left. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size && Date.now() < deadline) {
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now()))),
      ]);
    }
    return this.inFlight.size;
  }
}
