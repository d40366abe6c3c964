import { afterEach, describe, expect, it } from 'vitest';
import { createTeamStore } from '../../src/team/teamStore.js';
import { SqlUnansweredLog } from '../../src/unanswered/sqlUnansweredLog.js';
import { sqlBackends } from '../helpers/postgres.js';

/**
 * What a new question is compared with to find its group: the newest active questions up to its
 * own time, read with one bounded query (not the whole inbox), on both backends.
 */
const backends = sqlBackends('group-candidates-');

describe.each(backends)('grouping candidates ($name)', (backend) => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('are the newest active questions up to the new one, newest first, at most `limit`', async () => {
    const opened = await backend.open();
    cleanup = opened.cleanup;
    const log = new SqlUnansweredLog(opened.db);
    await log.migrate();
    const store = createTeamStore(opened.db);
    await store.migrate();

    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const q = await log.log({
        text: `câu hỏi số ${i}`,
        channel: 'webchat',
        conversationId: `c-${i}`,
        userId: `u-${i}`,
        reference: {},
        commune: 'xã Long Mỹ',
        reason: 'not_answered',
      });
      ids.push(q.id);
      await new Promise((r) => setTimeout(r, 3)); // distinct created_at
    }
    await store.questions.update(ids[1]!, { status: 'closed' });
    await store.questions.update(ids[2]!, { status: 'claimed' });
    const fourth = await store.questions.get(ids[4]!);

    const found = await store.questions.groupCandidates(['open', 'claimed'], fourth!.createdAt, 3);
    // Not 5 (newer than the 4th), not 1 (closed); the 3 newest of the rest, newest first.
    expect(found.map((q) => q.id)).toEqual([ids[4], ids[3], ids[2]]);
    expect(await store.questions.groupCandidates([], fourth!.createdAt, 3)).toEqual([]);
  });
});
