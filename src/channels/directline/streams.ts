import type { WebSocket } from 'ws';

/** Open WebSocket streams per conversation; every activity is pushed to each of them. */
export class StreamHub {
  private readonly sockets = new Map<string, Set<WebSocket>>();

  add(conversationId: string, socket: WebSocket): void {
    let set = this.sockets.get(conversationId);
    if (!set) this.sockets.set(conversationId, (set = new Set()));
    set.add(socket);
    socket.on('close', () => {
      set.delete(socket);
      if (!set.size) this.sockets.delete(conversationId);
    });
  }

  publish(conversationId: string, frame: { activities: unknown[]; watermark?: string }): void {
    const set = this.sockets.get(conversationId);
    if (!set) return;
    const data = JSON.stringify(frame);
    for (const s of set) if (s.readyState === s.OPEN) s.send(data);
  }

  closeAll(): void {
    for (const set of this.sockets.values()) for (const s of set) s.close(1001, 'server shutting down');
    this.sockets.clear();
  }
}
