/**
 * HTTP client for the two Zalo calls the channel needs (reference §4, §5.2): sending a customer-
 * service message and refreshing the OA access token. Tokens and secrets go in headers or the form
 * body only; nothing here logs.
 */

/** Access token problems: refresh, then retry once (-216 invalid, -220 expired; some report HTTP 401). */
export const TOKEN_ERRORS = [-216, -220];
/** Worth retrying later with backoff (-32 rate limit, -100 as Chatwoot does). */
export const RETRYABLE_ERRORS = [-32, -100];
/** The user cannot receive a CS message now (reply window, not following, blocked…): do not retry. */
export const WINDOW_ERRORS = [-213, -217, -227, -230, -232, -234, -244];
/** The message itself was refused (invalid field, too long, type not supported). */
export const PAYLOAD_ERRORS = [-201, -210, -233];

export type SendResult =
  | { ok: true; messageId?: string; quotaType?: string }
  | {
      ok: false;
      kind: 'token' | 'retry' | 'window' | 'payload' | 'permanent';
      /** Zalo's `error` code, or the HTTP status for HTTP-level failures, or 0 for a network failure. */
      code: number;
      message: string;
    };

export type RefreshResult =
  | { ok: true; accessToken: string; refreshToken: string; expiresInSeconds?: number }
  | {
      ok: false;
      /** `invalid`: Zalo refused the refresh token (re-authorization needed); `transient`: try later. */
      kind: 'invalid' | 'transient';
      code: number;
      message: string;
    };

export interface ZaloApiOptions {
  apiBase: string;
  oauthBase: string;
  appId: string;
  appSecret?: string;
  requestTimeoutMs: number;
}

export class ZaloApi {
  constructor(private readonly o: ZaloApiOptions) {}

  /** POST {apiBase}/v3.0/oa/message/cs with the `access_token` header. */
  async sendCs(accessToken: string, body: unknown): Promise<SendResult> {
    let res: Response;
    try {
      res = await fetch(`${this.o.apiBase}/v3.0/oa/message/cs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', access_token: accessToken },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.o.requestTimeoutMs),
      });
    } catch (err) {
      return { ok: false, kind: 'retry', code: 0, message: networkMessage(err) };
    }
    const text = await res.text().catch(() => '');
    if (res.status === 401) return { ok: false, kind: 'token', code: 401, message: 'HTTP 401' };
    if (res.status === 429 || res.status >= 500) {
      return { ok: false, kind: 'retry', code: res.status, message: `HTTP ${res.status}` };
    }
    let json: {
      error?: unknown;
      message?: unknown;
      data?: { message_id?: unknown; quota?: { quota_type?: unknown } };
    };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      // A proxy's HTML error page or a truncated answer: the message may or may not have gone out.
      return { ok: false, kind: 'retry', code: res.status, message: `HTTP ${res.status}, not JSON` };
    }
    const code = Number(json.error ?? (res.ok ? 0 : res.status));
    const message = typeof json.message === 'string' ? json.message.slice(0, 200) : '';
    if (code === 0 && res.ok) {
      const id = json.data?.message_id;
      const quota = json.data?.quota?.quota_type;
      return {
        ok: true,
        messageId: typeof id === 'string' || typeof id === 'number' ? String(id) : undefined,
        quotaType: typeof quota === 'string' ? quota : undefined,
      };
    }
    const kind = TOKEN_ERRORS.includes(code)
      ? 'token'
      : RETRYABLE_ERRORS.includes(code)
        ? 'retry'
        : WINDOW_ERRORS.includes(code)
          ? 'window'
          : PAYLOAD_ERRORS.includes(code)
            ? 'payload'
            : 'permanent';
    return { ok: false, kind, code, message };
  }

  /** POST {oauthBase}/v4/oa/access_token, form body, `secret_key` header (the App Secret). */
  async refresh(refreshToken: string): Promise<RefreshResult> {
    if (!this.o.appSecret) {
      return { ok: false, kind: 'invalid', code: 0, message: 'ZALO_APP_SECRET is not set' };
    }
    let res: Response;
    try {
      res = await fetch(`${this.o.oauthBase}/v4/oa/access_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', secret_key: this.o.appSecret },
        body: new URLSearchParams({
          refresh_token: refreshToken,
          app_id: this.o.appId,
          grant_type: 'refresh_token',
        }).toString(),
        signal: AbortSignal.timeout(this.o.requestTimeoutMs),
      });
    } catch (err) {
      return { ok: false, kind: 'transient', code: 0, message: networkMessage(err) };
    }
    if (res.status === 429 || res.status >= 500) {
      return { ok: false, kind: 'transient', code: res.status, message: `HTTP ${res.status}` };
    }
    let json: Record<string, unknown>;
    try {
      json = (await res.json()) as Record<string, unknown>;
    } catch {
      return { ok: false, kind: 'transient', code: res.status, message: `HTTP ${res.status}, not JSON` };
    }
    const access = json.access_token;
    const refresh = json.refresh_token;
    if (res.ok && typeof access === 'string' && access && typeof refresh === 'string' && refresh) {
      const expires = Number(json.expires_in);
      return {
        ok: true,
        accessToken: access,
        refreshToken: refresh,
        expiresInSeconds: Number.isFinite(expires) && expires > 0 ? expires : undefined,
      };
    }
    const code = Number(json.error ?? res.status) || res.status;
    const name = [json.error_name, json.error_description, json.message]
      .filter((v): v is string => typeof v === 'string' && v !== '')
      .join(': ')
      .slice(0, 200);
    return { ok: false, kind: 'invalid', code, message: name || `HTTP ${res.status}` };
  }
}

function networkMessage(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timeout';
    const cause = (err as { cause?: { code?: unknown } }).cause;
    return typeof cause?.code === 'string' ? cause.code : err.message.slice(0, 100);
  }
  return 'network error';
}
