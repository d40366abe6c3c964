import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake does with one send: Zalo's answers the channel must handle. */
export type CsOutcome = 'ok' | 'expired' | 'window' | 'window232' | 'rate' | 'http500' | 'down' | 'invalid';

export interface CsRequest {
  accessToken?: string;
  body: {
    recipient: { user_id?: string; message_id?: string };
    message: { text?: string; attachment?: unknown };
  };
  /** What the fake answered. */
  outcome: CsOutcome | 'token_invalid';
  at: number;
}

export interface RefreshRequest {
  secretKey?: string;
  contentType?: string;
  form: Record<string, string>;
  ok: boolean;
  at: number;
}

/**
 * A stand-in for the Zalo OA API and OAuth server on 127.0.0.1:
 * - POST /v3.0/oa/message/cs checks the `access_token` header against the valid token and answers
 *   as scripted (`script(...)`, then `defaultOutcome`);
 * - POST /v4/oa/access_token refreshes with the single-use refresh token (form body, `secret_key`).
 * Every request is recorded.
 */
export async function startFakeZalo(o: { accessToken: string; refreshToken: string; appSecret: string }) {
  const state = {
    accessToken: o.accessToken,
    refreshToken: o.refreshToken,
    refreshFails: false,
    defaultOutcome: 'ok' as CsOutcome,
    scripted: [] as CsOutcome[],
    /** Outcome for every send to these users (takes precedence over the script). */
    perUser: new Map<string, CsOutcome>(),
    issued: 0,
  };
  const cs: CsRequest[] = [];
  const refreshes: RefreshRequest[] = [];
  let messageId = 0;

  const server = http.createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'POST' && req.url === '/v3.0/oa/message/cs') {
        const userId = (JSON.parse(data) as CsRequest['body']).recipient?.user_id ?? '';
        let outcome: CsOutcome | 'token_invalid' =
          state.perUser.get(userId) ?? state.scripted.shift() ?? state.defaultOutcome;
        const accessToken = header(req, 'access_token');
        if (outcome === 'ok' && accessToken !== state.accessToken) outcome = 'token_invalid';
        cs.push({ accessToken, body: JSON.parse(data) as CsRequest['body'], outcome, at: Date.now() });
        switch (outcome) {
          case 'ok':
            messageId += 1;
            return json(200, {
              error: 0,
              message: 'Success',
              data: {
                message_id: `m${messageId}`,
                user_id: (JSON.parse(data) as CsRequest['body']).recipient.user_id,
                quota: { quota_type: 'reply', remain: '7', total: '8' },
              },
            });
          case 'token_invalid':
          case 'expired':
            return json(200, { error: -216, message: 'Access token is invalid' });
          case 'window':
            return json(200, {
              error: -230,
              message: 'User has not interacted with the OA in the past 7 days',
            });
          case 'window232':
            return json(200, { error: -232, message: 'User has not interacted or interaction expired' });
          case 'rate':
            return json(200, { error: -32, message: 'Your application reached limit call api' });
          case 'invalid':
            return json(200, { error: -201, message: 'attachment is invalid!' });
          case 'http500':
            return json(500, { error: 'internal' });
          case 'down':
            req.socket.destroy();
            return;
        }
      }
      if (req.method === 'POST' && req.url === '/v4/oa/access_token') {
        const form = Object.fromEntries(new URLSearchParams(data));
        const ok =
          !state.refreshFails &&
          header(req, 'secret_key') === o.appSecret &&
          form.grant_type === 'refresh_token' &&
          form.refresh_token === state.refreshToken;
        refreshes.push({
          secretKey: header(req, 'secret_key'),
          contentType: header(req, 'content-type'),
          form,
          ok,
          at: Date.now(),
        });
        if (!ok) {
          return json(200, {
            error: -14020,
            error_name: 'Invalid refresh token',
            error_description: 'refresh token is invalid or already used',
          });
        }
        state.issued += 1;
        state.accessToken = `access-${state.issued}`;
        state.refreshToken = `refresh-${state.issued}`;
        return json(200, {
          access_token: state.accessToken,
          refresh_token: state.refreshToken,
          expires_in: '90000',
        });
      }
      json(404, { error: -1, message: 'not found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    state,
    cs,
    refreshes,
    /** Outcomes for the next sends, in order; then `state.defaultOutcome`. */
    script(...outcomes: CsOutcome[]) {
      state.scripted.push(...outcomes);
    },
    /** Messages Zalo accepted, for one user or all. */
    delivered(userId?: string) {
      return cs.filter((r) => r.outcome === 'ok' && (!userId || r.body.recipient.user_id === userId));
    },
    async waitFor<T>(
      probe: () => T | undefined | false | Promise<T | undefined | false>,
      timeoutMs = 8000,
    ): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await probe();
        if (v) return v;
        if (Date.now() > deadline) throw new Error('fake Zalo: timed out waiting');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export type FakeZalo = Awaited<ReturnType<typeof startFakeZalo>>;

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `mac=` + SHA-256 of app id + body + timestamp + OA secret key (reference §3.1). */
export function zaloSignature(appId: string, body: string, timestamp: string, oaSecretKey: string): string {
  return `mac=${createHash('sha256').update(`${appId}${body}${timestamp}${oaSecretKey}`, 'utf8').digest('hex')}`;
}

let seq = 0;
/** A `user_send_text` event as Zalo posts it (ids are strings). */
export function textEvent(appId: string, userId: string, text: string, msgId = `msg${Date.now()}${++seq}`) {
  return {
    app_id: appId,
    sender: { id: userId },
    user_id_by_app: '3611371994410983884',
    recipient: { id: '1646843870823903717' },
    event_name: 'user_send_text',
    message: { text, msg_id: msgId },
    timestamp: String(Date.now()),
  };
}

/** Posts an event to the webhook, signed unless `signature` is given (null: no header). */
export async function postEvent(
  url: string,
  event: unknown,
  o: { appId: string; oaSecretKey: string; signature?: string | null; rawBody?: string },
): Promise<Response> {
  const body = o.rawBody ?? JSON.stringify(event);
  const ts = String((event as { timestamp?: string }).timestamp ?? '');
  const signature = o.signature === undefined ? zaloSignature(o.appId, body, ts, o.oaSecretKey) : o.signature;
  return fetch(`${url}/api/zalo`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature ? { 'x-zevent-signature': signature } : {}),
    },
    body,
  });
}
