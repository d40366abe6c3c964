import WebSocket from 'ws';

export interface DlActivity {
  id: string;
  type: string;
  text?: string;
  timestamp?: string;
  replyToId?: string;
  from: { id: string; role?: string };
  channelData?: { clientActivityID?: string };
  suggestedActions?: { actions: { title: string; value: string }[] };
}

/** A raw-HTTP Direct Line 3.0 client, as Web Chat's DirectLineJS speaks it (see shared/reference). */
export class DirectLineClient {
  token = '';
  conversationId = '';
  streamUrl = '';
  constructor(
    readonly base: string,
    readonly userId = 'citizen-test',
  ) {}

  private async call(method: string, path: string, body?: unknown, token = this.token) {
    const res = await fetch(`${this.base}/v3/directline${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-requested-with': 'XMLHttpRequest',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  }

  async generate(): Promise<void> {
    const res = await fetch(`${this.base}/v3/directline/tokens/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: { id: this.userId } }),
    });
    if (res.status !== 200) throw new Error(`generate ${res.status}`);
    const j = (await res.json()) as { token: string; conversationId: string };
    this.token = j.token;
    this.conversationId = j.conversationId;
  }

  async start() {
    const r = await this.call('POST', '/conversations', { user: { id: this.userId }, locale: 'vi-VN' });
    this.streamUrl = r.json?.streamUrl;
    return r;
  }

  reconnect(watermark = '') {
    return this.call('GET', `/conversations/${this.conversationId}?watermark=${watermark}`);
  }

  post(
    text: string,
    clientActivityID = `c-${Math.random().toString(36).slice(2)}`,
    token?: string,
    conversationId = this.conversationId,
  ) {
    return this.call(
      'POST',
      `/conversations/${conversationId}/activities`,
      {
        type: 'message',
        text,
        from: { id: this.userId, role: 'user' },
        locale: 'vi-VN',
        channelData: { clientActivityID },
      },
      token,
    );
  }

  activities(watermark = '', token?: string, conversationId = this.conversationId) {
    return this.call(
      'GET',
      `/conversations/${conversationId}/activities?watermark=${watermark}`,
      undefined,
      token,
    );
  }

  refresh(token = this.token) {
    return this.call('POST', '/tokens/refresh', undefined, token);
  }

  /** Polls until `predicate` holds for the bot messages received so far. */
  async waitFor(
    predicate: (bot: DlActivity[], all: DlActivity[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<DlActivity[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { json } = await this.activities();
      const all = (json?.activities ?? []) as DlActivity[];
      const bot = all.filter((a) => a.from.role === 'bot' && a.type === 'message');
      if (predicate(bot, all)) return all;
      if (Date.now() > deadline)
        throw new Error(`timed out; bot said: ${bot.map((b) => b.text).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Opens the WebSocket stream and collects every frame's activities. */
  async openStream(
    url = this.streamUrl,
  ): Promise<{ received: DlActivity[]; frames: { watermark?: string }[]; close(): void }> {
    const ws = new WebSocket(url);
    const received: DlActivity[] = [];
    const frames: { watermark?: string }[] = [];
    ws.on('message', (data) => {
      const text = data.toString();
      if (!text) return;
      const frame = JSON.parse(text) as { activities: DlActivity[]; watermark?: string };
      frames.push(frame);
      received.push(...frame.activities);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`stream refused: ${res.statusCode}`)));
    });
    return { received, frames, close: () => ws.close() };
  }
}

export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
