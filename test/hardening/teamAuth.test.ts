import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/testApp.js';

/**
 * The team and admin routes refuse a missing, a wrong and a revoked (disabled) token with 401 on
 * every route, including the dashboard's event stream (header or ?token=), and a token revoked
 * while its event stream is open ends that stream.
 */
const ADMIN_TOKEN = 'team-auth-admin-token';

const ROUTES: [method: string, path: string][] = [
  ['GET', '/api/team/me'],
  ['GET', '/api/team/questions'],
  ['GET', '/api/team/questions.csv'],
  ['GET', '/api/team/questions/q-1'],
  ['POST', '/api/team/questions/q-1/claim'],
  ['POST', '/api/team/questions/q-1/answer'],
  ['POST', '/api/team/questions/q-1/escalate'],
  ['POST', '/api/team/questions/q-1/close'],
  ['POST', '/api/team/questions/q-1/takeover'],
  ['POST', '/api/team/questions/q-1/messages'],
  ['POST', '/api/team/questions/q-1/handback'],
  ['POST', '/api/team/questions/q-1/promote'],
  ['GET', '/api/team/trends'],
  ['GET', '/api/team/events'],
  // admin routes
  ['GET', '/api/team/feedback'],
  ['GET', '/api/team/members'],
  ['POST', '/api/team/members'],
  ['POST', '/api/team/members/m-1/disable'],
  ['PUT', '/api/team/communes/phuong-5/webhook'],
  ['GET', '/api/team/webhooks'],
  ['GET', '/api/team/audit'],
];

describe('team and admin routes refuse missing, wrong and revoked tokens', () => {
  let r: RunningApp;
  const tokens: Record<string, string> = {};

  const call = (method: string, path: string, token?: string) =>
    fetch(`${r.url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: method === 'GET' ? undefined : JSON.stringify({ text: 'x', url: 'https://example.invalid/h' }),
    });

  const addMember = async (name: string, role: 'member' | 'admin') => {
    const created = await fetch(`${r.url}/api/team/members`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, role, communes: ['phường 5'] }),
    });
    expect(created.status).toBe(200);
    return (await created.json()) as { member: { id: string }; token: string };
  };

  beforeAll(async () => {
    r = await startApp({ ADMIN_TOKEN }, { loadKnowledge: false });
    for (const role of ['member', 'admin'] as const) {
      const { member, token } = await addMember(`Revoked ${role}`, role);
      expect((await call('GET', '/api/team/me', token)).status).toBe(200);
      const disabled = await call('POST', `/api/team/members/${member.id}/disable`, ADMIN_TOKEN);
      expect(disabled.status).toBe(200);
      tokens[`revoked ${role}`] = token;
    }
  });
  afterAll(async () => {
    await r?.stop();
  });

  it.each([
    ['missing', undefined],
    ['wrong', 'not-a-team-token'],
    ['empty bearer', ''],
    ['revoked member', 'revoked member'],
    ['revoked admin', 'revoked admin'],
  ])('a %s token gets 401 on every route', async (_what, which) => {
    const token = which !== undefined && tokens[which] ? tokens[which] : which;
    for (const [method, path] of ROUTES) {
      const res = await call(method, path, token);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('Unauthorized');
    }
    if (token) {
      const viaQuery = await fetch(`${r.url}/api/team/events?token=${encodeURIComponent(token)}`);
      expect(viaQuery.status).toBe(401);
    }
  });

  it('ends the open event stream of a member whose token is revoked', async () => {
    const { member, token } = await addMember('Streaming member', 'member');
    const ended = new Promise<string>((resolve, reject) => {
      const req = http.get(`${r.url}/api/team/events?token=${token}`, (res) => {
        expect(res.statusCode).toBe(200);
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          data += c;
          if (data.includes(': connected')) {
            // Connected: now revoke the token.
            void call('POST', `/api/team/members/${member.id}/disable`, ADMIN_TOKEN);
          }
        });
        res.on('end', () => resolve(data));
      });
      req.on('error', reject);
    });
    await expect(ended).resolves.toContain(': connected');
    expect((await call('GET', '/api/team/me', token)).status).toBe(401);
  });
});
