import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  /** Conversation the token is bound to. */
  conversationId: string;
  /** User the token is bound to. */
  userId: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export type TokenCheck =
  { ok: true; claims: TokenClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

/**
 * Direct Line tokens: `<payload>.<HMAC-SHA256>` in base64url, bound to one conversation and one
 * user, with an expiry. An expired token can still be exchanged at /tokens/refresh within the
 * resume window, so a citizen who comes back days later finds their conversation (and any answer
 * the community team sent meanwhile).
 */
export class TokenService {
  constructor(
    private readonly secret: string,
    readonly ttlSeconds: number,
    readonly resumeWindowSeconds = 30 * 24 * 3600,
  ) {}

  issue(conversationId: string, userId: string, now = Date.now()): { token: string; expiresIn: number } {
    const claims = {
      c: conversationId,
      u: userId,
      e: Math.floor(now / 1000) + this.ttlSeconds,
      n: randomBytes(6).toString('base64url'),
    };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${payload}.${this.sign(payload)}`, expiresIn: this.ttlSeconds };
  }

  verify(token: string | undefined, now = Date.now(), allowExpiredWithin = 0): TokenCheck {
    if (!token) return { ok: false, reason: 'malformed' };
    const [payload, signature, extra] = token.split('.');
    if (!payload || !signature || extra !== undefined || token.length > 1024)
      return { ok: false, reason: 'malformed' };
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      return { ok: false, reason: 'bad_signature' };
    let raw: { c?: unknown; u?: unknown; e?: unknown };
    try {
      raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (typeof raw.c !== 'string' || typeof raw.u !== 'string' || typeof raw.e !== 'number')
      return { ok: false, reason: 'malformed' };
    if (raw.e + allowExpiredWithin < now / 1000) return { ok: false, reason: 'expired' };
    return { ok: true, claims: { conversationId: raw.c, userId: raw.u, exp: raw.e } };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

/** The token from `Authorization: Bearer …` (REST) or `?t=` (WebSocket stream URL). */
export function bearer(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = /^Bearer\s+(\S+)$/i.exec(value ?? '');
  return m?.[1];
}
