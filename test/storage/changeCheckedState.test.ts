import {
  ConversationState,
  TurnContext,
  UserState,
  type BotState,
  type Storage,
  type StoreItems,
} from 'botbuilder';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChangeCheckedConversationState,
  ChangeCheckedUserState,
} from '../../src/storage/changeCheckedState.js';
import { SqlStorage } from '../../src/storage/sqlStorage.js';
import { sqlBackends } from '../helpers/postgres.js';
import { messageTurn } from '../helpers/turnContext.js';

/**
 * The state classes the bot uses keep botbuilder's behaviour (same reads, same writes, same
 * values), only with a cheaper change check: each scenario runs on botbuilder's class and on ours,
 * over the real store, and both must see and write the same.
 */
const backends = sqlBackends('change-checked-state-');

/** The store, counting the keys each write carries. */
class CountingStorage implements Storage {
  writes: string[] = [];
  constructor(private readonly inner: Storage) {}
  read(keys: string[]): Promise<StoreItems> {
    return this.inner.read(keys);
  }
  write(changes: StoreItems): Promise<void> {
    this.writes.push(...Object.keys(changes));
    return this.inner.write(changes);
  }
  delete(keys: string[]): Promise<void> {
    return this.inner.delete(keys);
  }
}

type StateClass = new (storage: Storage) => BotState;
const pairs: { name: string; botbuilder: StateClass; ours: StateClass }[] = [
  { name: 'conversation state', botbuilder: ConversationState, ours: ChangeCheckedConversationState },
  { name: 'user state', botbuilder: UserState, ours: ChangeCheckedUserState },
];

describe.each(backends)('state with the cheaper change check on $name', (backend) => {
  let cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups) await c();
    cleanups = [];
  });

  /** Runs the same turns on a fresh store with `State`; returns what the turns saw and the writes. */
  const scenario = async (State: StateClass) => {
    const opened = await backend.open();
    cleanups.push(opened.cleanup);
    const sql = new SqlStorage(opened.db);
    await sql.migrate();
    const storage = new CountingStorage(sql);
    const state = new State(storage);
    const data = state.createProperty<{ topic?: string; steps?: number[] }>('Data');
    const seen: unknown[] = [];
    const turn = async (fn: (context: TurnContext) => Promise<void>, force = false) => {
      const context = messageTurn('x');
      await fn(context);
      await state.saveChanges(context, force);
      await state.saveChanges(context); // nothing changed since the save: no second write
      // The eTag is the store's random version: it differs between any two runs.
      const { eTag: _eTag, ...saved } = (state.get(context) ?? {}) as Record<string, unknown>;
      seen.push(structuredClone(saved));
      return storage.writes.length;
    };
    const writes: number[] = [];
    // 1: a value set; 2: read only; 3: a nested change in place; 4: read only; 5: forced save;
    // 6: cleared; 7: read after the clear.
    writes.push(await turn(async (c) => data.set(c, { topic: 'vneid', steps: [1] })));
    writes.push(await turn(async (c) => void seen.push(await data.get(c))));
    writes.push(await turn(async (c) => void (await data.get(c, {}))!.steps!.push(2)));
    writes.push(await turn(async (c) => void (await data.get(c))));
    writes.push(await turn(async (c) => void (await data.get(c)), true));
    writes.push(await turn(async (c) => state.clear(c)));
    writes.push(await turn(async (c) => void seen.push((await data.get(c)) ?? 'none')));
    return { writes, seen };
  };

  it.each(pairs)('$name: writes exactly when botbuilder does, and reads the same', async (pair) => {
    const theirs = await scenario(pair.botbuilder);
    const ours = await scenario(pair.ours);
    // Only changed turns write (1, 3), and the forced save (5) and the clear (6).
    expect(ours.writes).toEqual([1, 1, 2, 2, 3, 4, 4]);
    expect(ours).toEqual(theirs);
    expect(ours.seen[1]).toEqual({ topic: 'vneid', steps: [1] });
    expect(ours.seen.at(-2)).toBe('none');
  });
});
