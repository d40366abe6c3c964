import type { WebSocket } from 'ws';
import type { Logger } from '../../logger.js';
import type { SqlDb } from '../../storage/sql/index.js';
import type { ConversationStore } from './conversationStore.js';

/** Notified (payload: the conversation id) after an activity of a conversation is stored. */
export const ACTIVITY_CHANNEL = 'dl_activity';
/** Notified (payload: `{ c: conversationId, a: activity }`) for a typing activity, shown live only. */
export const TYPING_CHANNEL = 'dl_typing';

interface Stream {
  socket: WebSocket;
  /** The sequence number of the last activity sent on this socket. */
  watermark: number;
}

interface ConversationStreams {
  streams: Set<Stream>;
  /** The refresh running (or queued) for this conversation; refreshes never overlap. */
  running?: Promise<void>;
  /** Another refresh was asked for while one ran. */
  dirty: boolean;
}

const TYPING_MAX_BYTES = 6 * 1024;

/**
 * The open WebSocket streams of this replica, and how stored activities reach them — from whichever
 * replica stored them.
 *
 * The store is the source of truth: after an activity is stored, its conversation id is notified on
 * `dl_activity` (LISTEN/NOTIFY on PostgreSQL, in-process on SQLite). Every replica listens; one that
 * has streams of that conversation reads the activities after each stream's watermark from the store
 * and sends them, in order. So a reply produced on replica A (or a community team's answer) reaches a
 * citizen whose socket is on replica B, and nothing is sent twice or skipped: each stream remembers
 * the last sequence number it sent. Notifications are at most once, so after the LISTEN connection
 * was lost every open stream is re-read (`onReconnect`), and a notification that could not be sent
 * falls back to refreshing this replica's own streams.
 *
 * Typing activities are not stored (not replayable history): they travel in the notification itself
 * (`dl_typing`) and are pushed as they come.
 */
export class StreamHub {
  private readonly conversations = new Map<string, ConversationStreams>();
  private readonly unlisten: Array<() => Promise<void>> = [];

  constructor(
    private readonly store: ConversationStore,
    private readonly sql: SqlDb,
    private readonly logger: Logger,
  ) {}

  /** Subscribes to the notifications (before the server accepts connections). */
  async start(): Promise<void> {
    const refreshAll = () => {
      for (const id of this.conversations.keys()) this.refresh(id);
    };
    this.unlisten.push(
      await this.sql.listen(ACTIVITY_CHANNEL, (conversationId) => this.refresh(conversationId), {
        onReconnect: refreshAll,
      }),
      await this.sql.listen(TYPING_CHANNEL, (payload) => this.typing(payload)),
    );
  }

  /** Adds a socket whose client has seen everything up to `watermark`, and sends it what follows. */
  add(conversationId: string, socket: WebSocket, watermark: number): void {
    let entry = this.conversations.get(conversationId);
    if (!entry) this.conversations.set(conversationId, (entry = { streams: new Set(), dirty: false }));
    const stream: Stream = { socket, watermark };
    entry.streams.add(stream);
    socket.on('close', () => {
      const current = this.conversations.get(conversationId);
      if (!current) return;
      current.streams.delete(stream);
      if (!current.streams.size && !current.running) this.conversations.delete(conversationId);
    });
    this.refresh(conversationId);
  }

  /** An activity of this conversation was stored (here): tell every replica, this one included. */
  async stored(conversationId: string): Promise<void> {
    try {
      await this.sql.notify(ACTIVITY_CHANNEL, conversationId);
    } catch (err) {
      // Other replicas' streams catch up at their next notification or reconnect; this one's now.
      this.logger.warn({ err, conversationId }, 'direct line: could not notify a new activity');
      this.refresh(conversationId);
    }
  }

  /** Pushes a typing activity to the conversation's streams on every replica. */
  async publishTyping(conversationId: string, activity: Record<string, unknown>): Promise<void> {
    const payload = JSON.stringify({ c: conversationId, a: activity });
    if (Buffer.byteLength(payload) > TYPING_MAX_BYTES) return;
    try {
      await this.sql.notify(TYPING_CHANNEL, payload);
    } catch (err) {
      this.logger.debug({ err, conversationId }, 'direct line: typing not sent');
    }
  }

  private typing(payload: string): void {
    let message: { c?: unknown; a?: unknown };
    try {
      message = JSON.parse(payload) as { c?: unknown; a?: unknown };
    } catch {
      return;
    }
    if (typeof message.c !== 'string') return;
    const entry = this.conversations.get(message.c);
    if (!entry) return;
    const data = JSON.stringify({ activities: [message.a] });
    for (const s of entry.streams) if (s.socket.readyState === s.socket.OPEN) s.socket.send(data);
  }

  /** Sends each stream of the conversation the stored activities after its watermark. */
  refresh(conversationId: string): void {
    const entry = this.conversations.get(conversationId);
    if (!entry) return;
    if (entry.running) {
      entry.dirty = true;
      return;
    }
    entry.running = (async () => {
      do {
        entry.dirty = false;
        try {
          await this.pump(conversationId, entry);
        } catch (err) {
          this.logger.warn({ err, conversationId }, 'direct line: could not read new activities');
        }
      } while (entry.dirty && entry.streams.size);
      entry.running = undefined;
      if (!entry.streams.size && this.conversations.get(conversationId) === entry) {
        this.conversations.delete(conversationId);
      }
    })();
  }

  private async pump(conversationId: string, entry: ConversationStreams): Promise<void> {
    for (;;) {
      const open = [...entry.streams].filter((s) => s.socket.readyState === s.socket.OPEN);
      if (!open.length) return;
      const from = Math.min(...open.map((s) => s.watermark));
      const rows = await this.store.after(conversationId, from);
      if (!rows.length) return;
      for (const s of open) {
        const fresh = rows.filter((r) => r.seq > s.watermark);
        if (!fresh.length || s.socket.readyState !== s.socket.OPEN) continue;
        const last = fresh.at(-1)!.seq;
        s.socket.send(JSON.stringify({ activities: fresh.map((r) => r.activity), watermark: String(last) }));
        s.watermark = last;
      }
      if (rows.length < 500) return;
    }
  }

  /** Open streams on this replica (tests, metrics). */
  get size(): number {
    let n = 0;
    for (const entry of this.conversations.values()) n += entry.streams.size;
    return n;
  }

  async stop(): Promise<void> {
    for (const unlisten of this.unlisten.splice(0)) await unlisten().catch(() => undefined);
    this.closeAll();
  }

  closeAll(): void {
    for (const entry of this.conversations.values()) {
      for (const s of entry.streams) s.socket.close(1001, 'server shutting down');
    }
    this.conversations.clear();
  }
}
