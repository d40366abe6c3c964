import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on the module `name` next to `base` (an `import.meta.url`): its compiled
 * `.js` file when there is one (`npm start`), or the TypeScript source through tsx (`npm run dev`,
 * the tests).
 */
export function startWorkerThread(base: string, name: string, options: WorkerOptions): Worker {
  const compiled = new URL(`./${name}.js`, base);
  if (fs.existsSync(fileURLToPath(compiled))) return new Worker(compiled, options);
  const source = new URL(`./${name}.ts`, base).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => m.tsImport(${JSON.stringify(source)}, ${JSON.stringify(source)}))`;
  return new Worker(code, { ...options, eval: true });
}
