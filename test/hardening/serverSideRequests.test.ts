import { describe, expect, it } from 'vitest';
import { isLoopbackUrl } from '../../src/channels/botframework/messagesRoute.js';
import { DirectLineClient } from '../helpers/directLineClient.js';
import { messageActivity, startFakeConnector } from '../helpers/fakeConnector.js';
import { appsStoppedAfterEach } from '../helpers/testApp.js';
import { prebuiltDataDir } from '../faults/service.js';

/**
 * "No route lets a client choose a URL the server then calls." The only client-supplied URL the
 * server calls is a Bot Framework activity's serviceUrl (replies, and later the team's answer):
 * with MicrosoftAppId set the adapter requires it to be the one signed in the connector's JWT;
 * without it, /api/messages is local-only (loopback client and loopback serviceUrl). Direct Line
 * and Zalo ignore any serviceUrl a client sends (fixed in-process values). Team webhook URLs are
 * set by admins only (test/team/inbox.test.ts, test/hardening/teamAuth.test.ts); the Zalo API hosts
 * come from the configuration only.
 */
const start = appsStoppedAfterEach();

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const settle = () => new Promise((r) => setTimeout(r, 300));

describe('client-chosen URLs', () => {
  it('recognises loopback service URLs only', () => {
    for (const u of ['http://localhost:3978', 'http://127.0.0.1:9/x', 'http://[::1]:80/'])
      expect(isLoopbackUrl(u), u).toBe(true);
    for (const u of [
      'https://smba.trafficmanager.net/apis/',
      'http://169.254.169.254/latest/meta-data',
      'http://10.0.0.1/',
      'http://localhost.attacker.example/',
      'http://127.0.0.1.nip.io/',
      'not a url',
    ])
      expect(isLoopbackUrl(u), u).toBe(false);
  });

  it('without MicrosoftAppId, /api/messages refuses a non-local serviceUrl or client (403), calling nothing', async () => {
    const attacker = await startFakeConnector();
    try {
      const { url } = await start({ TRUST_PROXY: '1' }, { loadKnowledge: false });
      for (const serviceUrl of ['http://169.254.169.254/latest/', 'https://attacker.example/hook/']) {
        const res = await post(url, messageActivity(serviceUrl, 'xin chào'));
        expect(res.status).toBe(403);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('Forbidden');
      }
      // A remote client behind the (trusted) reverse proxy, even with a loopback serviceUrl.
      const remote = await post(url, messageActivity(attacker.url, 'xin chào'), {
        'x-forwarded-for': '203.0.113.9',
      });
      expect(remote.status).toBe(403);
      await settle();
      expect(attacker.received).toHaveLength(0);
      // The local Emulator case still works.
      const local = await post(url, messageActivity(attacker.url, 'xin chào', 'conv-local'));
      expect(local.status).toBeLessThan(300);
      await attacker.waitForMessages(1);
    } finally {
      await attacker.close();
    }
  });

  it('with MicrosoftAppId, a forged activity naming any serviceUrl gets 401 and nothing is called', async () => {
    const attacker = await startFakeConnector();
    try {
      const { url } = await start(
        { MicrosoftAppId: '00000000-0000-0000-0000-000000000001', MicrosoftAppPassword: 'secret' },
        { loadKnowledge: false },
      );
      const forged = await post(url, messageActivity(attacker.url, 'xin chào'), {
        authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzZXJ2aWNldXJsIjoiaHR0cDovL3gifQ.',
      });
      expect(forged.status).toBe(401);
      expect((await post(url, messageActivity(attacker.url, 'xin chào'))).status).toBe(401);
      await settle();
      expect(attacker.received).toHaveLength(0);
    } finally {
      await attacker.close();
    }
  });

  it('Direct Line ignores a serviceUrl sent by the client: the answer stays in the conversation', async () => {
    const attacker = await startFakeConnector();
    try {
      const { url } = await start({ DATA_DIR: await prebuiltDataDir() });
      const dl = new DirectLineClient(url, 'curious');
      await dl.generate();
      await dl.start();
      const res = await fetch(`${url}/v3/directline/conversations/${dl.conversationId}/activities`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dl.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'message',
          text: 'chữ ký số là gì',
          from: { id: 'curious' },
          serviceUrl: attacker.url,
          relatesTo: { serviceUrl: attacker.url },
        }),
      });
      expect(res.status).toBe(200);
      await dl.waitFor((bot) => bot.some((b) => /Nguồn: /.test(b.text ?? '')));
      await settle();
      expect(attacker.received).toHaveLength(0);
    } finally {
      await attacker.close();
    }
  });
});
