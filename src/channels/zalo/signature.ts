import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Zalo OA webhook signature (reference §3.1): the header `X-ZEvent-Signature: mac=<hex>` where
 * hex = lowercase hex SHA-256 of appId + rawBody + timestamp + OA secret key. A plain hash over the
 * concatenation (not an HMAC), over the body bytes exactly as received, with the OA Secret Key
 * (not the App Secret).
 */
export function zaloMac(appId: string, rawBody: Buffer, timestamp: string, oaSecretKey: string): string {
  return createHash('sha256')
    .update(Buffer.from(appId, 'utf8'))
    .update(rawBody)
    .update(Buffer.from(timestamp, 'utf8'))
    .update(Buffer.from(oaSecretKey, 'utf8'))
    .digest('hex');
}

export type SignatureCheck =
  | { ok: true; timestampFrom: 'body' | 'header' }
  | { ok: false; reason: 'missing' | 'malformed' | 'app_id' | 'mismatch' };

export interface VerifyOptions {
  rawBody: Buffer;
  /** The `X-ZEvent-Signature` header. */
  header: string | undefined;
  /** The parsed body (its `app_id` and `timestamp` are used). */
  body: { app_id?: unknown; timestamp?: unknown } | undefined;
  appId: string;
  oaSecretKey: string;
  /**
   * An `X-ZEvent-Timestamp` header, tried only when the body's timestamp does not verify
   * (reference §9.1: every source uses the body's timestamp; a few implementers read this header).
   */
  headerTimestamp?: string;
}

/** Verifies a webhook signature in constant time. */
export function verifyZaloSignature(o: VerifyOptions): SignatureCheck {
  if (!o.header || !o.header.trim()) return { ok: false, reason: 'missing' };
  const got = o.header.trim().replace(/^mac=/i, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(got)) return { ok: false, reason: 'malformed' };
  if (o.body?.app_id !== undefined && String(o.body.app_id) !== o.appId)
    return { ok: false, reason: 'app_id' };
  const candidates: ['body' | 'header', string][] = [];
  const ts = o.body?.timestamp;
  if (typeof ts === 'string' || typeof ts === 'number') candidates.push(['body', String(ts)]);
  if (o.headerTimestamp && o.headerTimestamp !== String(ts ?? '')) {
    candidates.push(['header', o.headerTimestamp]);
  }
  if (!candidates.length) candidates.push(['body', '']);
  const gotBytes = Buffer.from(got, 'utf8');
  let match: 'body' | 'header' | undefined;
  for (const [from, timestamp] of candidates) {
    const expected = Buffer.from(zaloMac(o.appId, o.rawBody, timestamp, o.oaSecretKey), 'utf8');
    // Every candidate is compared (no early exit), each in constant time.
    if (timingSafeEqual(gotBytes, expected) && !match) match = from;
  }
  return match ? { ok: true, timestampFrom: match } : { ok: false, reason: 'mismatch' };
}
