import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { HashingEmbeddings } from '../../src/retrieval/hashingEmbeddings.js';
import { buildIndex } from '../../src/retrieval/indexBuilder.js';
import { KNOWLEDGE_DIR, tempDataDir } from '../helpers/testApp.js';

/** The real service in its own process (`node --import tsx src/index.ts`), for crash tests. */
export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** Sends a signal (SIGKILL by default) and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Starts the service on a free port (PORT=0; the port is read from the "listening" log line) and
 * resolves once it listens. Settings that could leak from the environment (a model endpoint, Zalo,
 * Bot Framework) are blanked; `env` adds or overrides.
 */
export async function spawnService(env: Record<string, string>, timeoutMs = 20_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      KNOWLEDGE_DIR: path.join(ROOT, 'knowledge'),
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
      OPENAI_EMBEDDING_MODEL: '',
      ZALO_APP_ID: '',
      ZALO_OA_SECRET_KEY: '',
      MicrosoftAppId: '',
      MicrosoftAppPassword: '',
      NODE_OPTIONS: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not listen within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'listening' && typeof entry.port === 'number') {
        clearTimeout(timer);
        resolve(entry.port);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited (${code}) before listening\n${stderr}`));
    });
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    logs,
    exited,
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls GET /readyz until it answers 200. */
export async function waitReady(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`${url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms (last status ${status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let template: Promise<string> | undefined;

/**
 * A new DATA_DIR holding an index of the repository's knowledge, copied from one built once per
 * test file: a service started on it loads the index instead of building it (faster tests).
 */
export async function prebuiltDataDir(prefix = 'tlcds-'): Promise<string> {
  template ??= (async () => {
    const dir = tempDataDir('tlcds-index-template-');
    const embeddings = new HashingEmbeddings();
    await buildIndex({
      knowledgeDir: KNOWLEDGE_DIR,
      dataDir: dir,
      embeddings,
      embedderId: embeddings.modelId,
    });
    return dir;
  })();
  const dir = tempDataDir(prefix);
  fs.cpSync(await template, dir, { recursive: true });
  return dir;
}
