import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { splitThreads, ThreadSampler } from '../../bench/threadTimes.js';

const linux = fs.existsSync(`/proc/self/task/${process.pid}/schedstat`);

const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe.skipIf(!linux)('ThreadSampler: which thread ran during a stall', () => {
  const sampler = new ThreadSampler(0);
  afterEach(() => sampler.close());

  it('puts time the main thread spent computing on the main thread', () => {
    const before = sampler.read(performance.now());
    spin(120);
    const split = splitThreads(before, sampler.read(performance.now()), process.pid);
    expect(split.mainRunMs).toBeGreaterThan(80);
    expect(split.busiestOtherMs).toBeLessThan(60);
  });

  it('puts a busy worker thread as the busiest other thread, not on the main thread', async () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.on('message', (ms) => { const until = performance.now() + ms; while (performance.now() < until); parentPort.postMessage('done'); });`,
      { eval: true },
    );
    try {
      await new Promise((r) => worker.once('online', r));
      await new Promise((r) => setTimeout(r, 50)); // the sampler lists the worker's thread
      const before = sampler.read(performance.now());
      worker.postMessage(200);
      await new Promise((r) => worker.once('message', r)); // the main thread idles meanwhile
      const split = splitThreads(before, sampler.read(performance.now()), process.pid);
      expect(split.busiestOtherMs).toBeGreaterThan(140);
      expect(split.mainRunMs).toBeLessThan(100);
    } finally {
      await worker.terminate();
    }
  });
});
