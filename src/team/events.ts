import type restify from 'restify';
import { canSeeCommune, type Principal } from './auth.js';

interface Client {
  principal: Principal;
  res: restify.Response;
}

/** Server-Sent Events to the dashboards: each client receives only its communes' events. */
export class EventHub {
  private readonly clients = new Set<Client>();
  private readonly ping: NodeJS.Timeout;

  constructor() {
    this.ping = setInterval(() => {
      for (const c of this.clients) c.res.write(': ping\n\n');
    }, 25_000);
    this.ping.unref();
  }

  attach(req: restify.Request, res: restify.Response, principal: Principal): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n: connected\n\n');
    const client = { principal, res };
    this.clients.add(client);
    const drop = () => this.clients.delete(client);
    req.once('close', drop);
    res.once('close', drop);
  }

  /** Sends an event to every client allowed to see `commune`. */
  publish(event: 'question' | 'message', commune: string | null, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.clients) {
      if (!canSeeCommune(c.principal, commune)) continue;
      try {
        c.res.write(frame);
      } catch {
        this.clients.delete(c);
      }
    }
  }

  /** Ends the streams of one principal (a member whose token was revoked). Returns how many. */
  disconnect(principalId: string): number {
    let n = 0;
    for (const c of this.clients) {
      if (c.principal.id !== principalId) continue;
      this.clients.delete(c);
      c.res.end();
      n += 1;
    }
    return n;
  }

  get size(): number {
    return this.clients.size;
  }

  close(): void {
    clearInterval(this.ping);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
