import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake received, with its parsed JSON body. */
export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  body: Record<string, unknown>;
}

export interface ChatMessage {
  role: string;
  content: string;
}

/** What the fake answers to one chat completion: text, an HTTP error, optionally after a delay. */
export type ChatReply = { content: string; delayMs?: number } | { status: number; delayMs?: number };

export type ChatScript = (messages: ChatMessage[], request: RecordedRequest) => ChatReply;

export interface FakeOpenAI {
  /** Base URL as OPENAI_BASE_URL expects it, e.g. http://127.0.0.1:1234/v1. */
  url: string;
  requests: RecordedRequest[];
  chatRequests(): RecordedRequest[];
  embeddingRequests(): RecordedRequest[];
  /** Sets how chat completions are answered (default: an error 500 saying no script was set). */
  onChat(script: ChatScript): void;
  /** Forgets recorded requests and the chat script. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * Deterministic bag-of-words embedding (diacritics folded, words hashed into `dims` slots, unit
 * length): similar texts get similar vectors, so retrieval over it behaves like a real model.
 */
export function fakeEmbedding(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  const words = text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/đ/gi, 'd')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  for (const w of words) {
    let h = 0x811c9dc5;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193);
    v[(h >>> 0) % dims]! += 1;
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => x / norm);
}

/** Text of a chat message content, whether a string or a list of parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p) => (typeof p === 'object' && p && 'text' in p ? String(p.text) : '')).join('');
  return '';
}

/**
 * A stand-in for an OpenAI-compatible server on 127.0.0.1 (what vLLM or Ollama would be):
 * `POST /v1/embeddings` returns `fakeEmbedding` vectors in the OpenAI response shape (float or
 * base64), `POST /v1/chat/completions` answers from the script set with `onChat`. Every request
 * is recorded.
 */
export async function startFakeOpenAI(options: { dimensions?: number } = {}): Promise<FakeOpenAI> {
  const dims = options.dimensions ?? 64;
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let script: ChatScript | undefined;

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const later = (ms: number, fn: () => void) => {
    if (!ms) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      const request: RecordedRequest = {
        method: req.method ?? '',
        path,
        authorization: req.headers.authorization,
        body: data ? (JSON.parse(data) as Record<string, unknown>) : {},
      };
      requests.push(request);
      const model = String(request.body.model ?? '');

      if (req.method === 'POST' && path === '/v1/embeddings') {
        const input = request.body.input;
        const texts = Array.isArray(input) ? input.map(String) : [String(input)];
        const base64 = request.body.encoding_format === 'base64';
        send(res, 200, {
          object: 'list',
          model,
          data: texts.map((t, index) => {
            const vector = fakeEmbedding(t, dims);
            return {
              object: 'embedding',
              index,
              embedding: base64 ? Buffer.from(Float32Array.from(vector).buffer).toString('base64') : vector,
            };
          }),
          usage: { prompt_tokens: texts.length, total_tokens: texts.length },
        });
        return;
      }

      if (req.method === 'POST' && path === '/v1/chat/completions') {
        const messages = ((request.body.messages as { role: string; content: unknown }[]) ?? []).map((m) => ({
          role: m.role,
          content: contentText(m.content),
        }));
        const reply: ChatReply = script ? script(messages, request) : { status: 500, delayMs: 0 };
        later(reply.delayMs ?? 0, () => {
          if ('status' in reply) {
            send(res, reply.status, {
              error: { message: `fake server error ${reply.status}`, type: 'server_error', code: null },
            });
            return;
          }
          send(res, 200, {
            id: `chatcmpl-${requests.length}`,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: reply.content },
                finish_reason: 'stop',
                logprobs: null,
              },
            ],
            usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
          });
        });
        return;
      }

      send(res, 404, { error: { message: `no route ${req.method} ${path}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests: () => requests.filter((r) => r.path === '/v1/chat/completions'),
    embeddingRequests: () => requests.filter((r) => r.path === '/v1/embeddings'),
    onChat(s) {
      script = s;
    },
    reset() {
      requests.length = 0;
      script = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The system and user messages of a chat request, as the fake received them. */
export function chatMessages(request: RecordedRequest): ChatMessage[] {
  return ((request.body.messages as { role: string; content: unknown }[]) ?? []).map((m) => ({
    role: m.role,
    content: contentText(m.content),
  }));
}
