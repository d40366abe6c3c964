import { AsyncLocalStorage } from 'node:async_hooks';

/** A FIFO async mutex: acquire() resolves in call order; release() hands over to the next waiter. */
export class AsyncMutex {
  private readonly waiters: Array<() => void> = [];
  private held = false;

  get locked(): boolean {
    return this.held;
  }

  get idle(): boolean {
    return !this.held && this.waiters.length === 0;
  }

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = false;
  }

  async runExclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

/** Mutexes by name, created on first use and dropped when free. */
export class KeyedMutex {
  private readonly mutexes = new Map<string, AsyncMutex>();

  async runExclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let mutex = this.mutexes.get(key);
    if (!mutex) {
      mutex = new AsyncMutex();
      this.mutexes.set(key, mutex);
    }
    await mutex.acquire();
    try {
      return await fn();
    } finally {
      mutex.release();
      if (mutex.idle) this.mutexes.delete(key);
    }
  }
}

/**
 * The transaction a piece of async code runs in, so that using the outer handle from inside a
 * transaction is reported instead of deadlocking (SQLite) or silently running outside it (PostgreSQL).
 */
export interface TxScope {
  /** The object the transaction belongs to (a SQLite connection's mutex, a PgDb). */
  readonly owner: object;
  done: boolean;
}

export const txScopes = new AsyncLocalStorage<TxScope>();

/**
 * Runs `fn` inside `scope`, where insideTransactionOf() sees it, when `check` is on; else just runs it.
 * The check is a programming aid with a price: the first AsyncLocalStorage.run turns on Node's
 * promise hooks for the whole process, and every promise pays for them from then on (3–4 % of
 * a chat turn's CPU in the bench profile). The service runs without it unless
 * SQL_CHECK_TRANSACTIONS=1 (the scripts too: they read the same setting); npm test and a SqlDb built
 * without options run with it.
 */
export function runInScope<T>(check: boolean, scope: TxScope, fn: () => T): T {
  return check ? txScopes.run(scope, fn) : fn();
}

/** True when the caller runs inside a still-open transaction of `owner`. */
export function insideTransactionOf(owner: object): boolean {
  const scope = txScopes.getStore();
  return scope !== undefined && scope.owner === owner && !scope.done;
}
