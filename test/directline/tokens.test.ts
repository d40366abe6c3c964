import { describe, expect, it } from 'vitest';
import { TokenService } from '../../src/channels/directline/tokens.js';

describe('Direct Line tokens', () => {
  const tokens = new TokenService('test-secret', 60, 3600);

  it('binds a token to its conversation and user', () => {
    const { token } = tokens.issue('conv-1', 'user-1');
    const check = tokens.verify(token);
    expect(check).toMatchObject({ ok: true, claims: { conversationId: 'conv-1', userId: 'user-1' } });
  });

  it('refuses a token signed with another secret or altered', () => {
    const { token } = new TokenService('other-secret', 60).issue('conv-1', 'user-1');
    expect(tokens.verify(token)).toEqual({ ok: false, reason: 'bad_signature' });
    const [, sig] = tokens.issue('conv-1', 'user-1').token.split('.');
    const forged = `${Buffer.from(JSON.stringify({ c: 'conv-2', u: 'user-1', e: 9e9 })).toString('base64url')}.${sig}`;
    expect(tokens.verify(forged)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(tokens.verify('not-a-token')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('expires, but an expired token still resumes its conversation within the resume window', () => {
    const issuedLongAgo = Date.now() - 10 * 60 * 1000;
    const { token } = tokens.issue('conv-1', 'user-1', issuedLongAgo);
    expect(tokens.verify(token)).toEqual({ ok: false, reason: 'expired' });
    expect(tokens.verify(token, Date.now(), tokens.resumeWindowSeconds).ok).toBe(true);
    const ancient = tokens.issue('conv-1', 'user-1', Date.now() - 2 * 3600 * 1000).token;
    expect(tokens.verify(ancient, Date.now(), tokens.resumeWindowSeconds)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });
});
