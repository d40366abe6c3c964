import { describe, expect, it } from 'vitest';
import { MessageFactory } from 'botbuilder';
import { OPTIONS_INTRO, splitText, toZaloParts } from '../../src/channels/zalo/messages.js';
import { verifyZaloSignature, zaloMac } from '../../src/channels/zalo/signature.js';
import { eventKey } from '../../src/channels/zalo/types.js';
import { activityFromEvent } from '../../src/channels/zalo/zaloAdapter.js';

describe('Zalo signature', () => {
  // The reference's test vector (§3.2).
  const appId = '1234567890123456789';
  const secret = 'OASecretExample123';
  const raw = Buffer.from(
    '{"app_id":"1234567890123456789","sender":{"id":"5510185758261927916"},"user_id_by_app":"3611371994410983884","recipient":{"id":"1646843870823903717"},"event_name":"user_send_text","message":{"text":"Xin chào","msg_id":"e2a641af6661713b2874"},"timestamp":"1717061839659"}',
    'utf8',
  );
  const expected = 'mac=9e7853152f0b9337972474c76f847b3ed61703be2c7f05911dbc38fa56d74241';
  const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;

  it('matches the reference test vector', () => {
    expect(`mac=${zaloMac(appId, raw, '1717061839659', secret)}`).toBe(expected);
    expect(verifyZaloSignature({ rawBody: raw, header: expected, body, appId, oaSecretKey: secret })).toEqual(
      {
        ok: true,
        timestampFrom: 'body',
      },
    );
  });

  it('rejects a missing, malformed or wrong signature, a wrong secret and another app id', () => {
    const v = (header: string | undefined, o: Partial<Parameters<typeof verifyZaloSignature>[0]> = {}) =>
      verifyZaloSignature({ rawBody: raw, header, body, appId, oaSecretKey: secret, ...o });
    expect(v(undefined)).toMatchObject({ ok: false, reason: 'missing' });
    expect(v('mac=xyz')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(v(expected.replace(/.$/, '0'))).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(v(expected, { oaSecretKey: 'app-secret-instead' })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
    expect(v(expected, { rawBody: Buffer.from(JSON.stringify(body, null, 1)) })).toMatchObject({ ok: false });
    expect(v(expected, { appId: '1' })).toMatchObject({ ok: false, reason: 'app_id' });
  });

  it('accepts the X-ZEvent-Timestamp header as a fallback timestamp only', () => {
    const b = { ...body, timestamp: '1' };
    const r = Buffer.from(JSON.stringify(b));
    const header = `mac=${zaloMac(appId, r, '999', secret)}`;
    expect(verifyZaloSignature({ rawBody: r, header, body: b, appId, oaSecretKey: secret })).toMatchObject({
      ok: false,
    });
    expect(
      verifyZaloSignature({
        rawBody: r,
        header,
        body: b,
        appId,
        oaSecretKey: secret,
        headerTimestamp: '999',
      }),
    ).toEqual({ ok: true, timestampFrom: 'header' });
  });
});

describe('splitting and numbered options', () => {
  it('keeps short text whole and splits long text at paragraphs, in order, within the limit', () => {
    expect(splitText('Xin chào')).toEqual(['Xin chào']);
    const paragraphs = Array.from(
      { length: 12 },
      (_, i) => `Đoạn ${i + 1}. ${'Nội dung hướng dẫn. '.repeat(18).trim()}`,
    );
    const text = paragraphs.join('\n\n');
    const parts = splitText(text, 2000);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(2000);
    for (const p of parts) expect(p).toMatch(/^Đoạn \d+\./); // cut at paragraph starts
    expect(parts.join('\n\n')).toBe(text);
  });

  it('falls back to sentence, then word, then hard cuts', () => {
    const sentences = 'Câu này là một câu khá dài để thử. '.repeat(100).trim();
    const parts = splitText(sentences, 500);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(500);
      expect(p.endsWith('.')).toBe(true);
    }
    expect(parts.join(' ')).toBe(sentences);
    const word = 'a'.repeat(1200);
    expect(splitText(word, 500).map((p) => p.length)).toEqual([500, 500, 200]);
    const emoji = '😀'.repeat(300); // surrogate pairs are never cut
    for (const p of splitText(emoji, 101)) expect(p.length % 2).toBe(0);
  });

  it('lists suggested actions as numbered options after the text', () => {
    const a = MessageFactory.suggestedActions(['Chữ ký số', 'Gặp tổ công nghệ số'], 'Bạn chọn nhé');
    const { parts, options } = toZaloParts(a);
    expect(options).toEqual(['Chữ ký số', 'Gặp tổ công nghệ số']);
    expect(parts).toEqual([
      { text: `Bạn chọn nhé\n\n${OPTIONS_INTRO}\n1. Chữ ký số\n2. Gặp tổ công nghệ số` },
    ]);
    expect(toZaloParts(a, { buttonTemplates: true }).parts[0]!.buttons).toEqual(options);
  });
});

describe('Zalo events to activities', () => {
  const o = { fallbackOaId: 'app' };
  it('makes a message with string ids, the user as conversation and the OA as recipient', () => {
    const e = {
      event_name: 'user_send_text',
      app_id: '1',
      sender: { id: '5510185758261927916' },
      recipient: { id: '1646843870823903717' },
      message: { text: 'Helo', msg_id: 'e2a641af6661713b2874' },
      timestamp: '1717061839659',
    };
    const r = activityFromEvent(e, o);
    expect(r.kind).toBe('activity');
    if (r.kind !== 'activity') return;
    expect(r.activity).toMatchObject({
      type: 'message',
      channelId: 'zalo',
      id: 'e2a641af6661713b2874',
      text: 'Helo',
      conversation: { id: '5510185758261927916' },
      from: { id: '5510185758261927916' },
      recipient: { id: '1646843870823903717' },
    });
    expect(eventKey(e)).toBe('msg:e2a641af6661713b2874');
  });

  it('maps a number to the option offered, follow to members added, images to a text-less message', () => {
    const text = {
      event_name: 'user_send_text',
      sender: { id: 'u1' },
      recipient: { id: 'oa' },
      message: { text: ' 2 ' },
    };
    const r = activityFromEvent(text, {
      ...o,
      pickOption: (_u, t) => (t.trim() === '2' ? 'Chữ ký số' : undefined),
    });
    expect(r.kind === 'activity' && r.activity.text).toBe('Chữ ký số');

    const follow = {
      event_name: 'follow',
      oa_id: 'oa',
      follower: { id: 'u2' },
      source: 'zalo',
      timestamp: '1',
    };
    const f = activityFromEvent(follow, o);
    expect(f.kind === 'activity' && f.activity).toMatchObject({
      type: 'conversationUpdate',
      membersAdded: [{ id: 'u2' }],
      recipient: { id: 'oa' },
    });
    expect(eventKey(follow)).toBe('evt:follow:1:u2');

    const image = {
      event_name: 'user_send_image',
      sender: { id: 'u3' },
      recipient: { id: 'oa' },
      message: {
        msg_id: 'x',
        text: 'caption',
        attachments: [{ type: 'image', payload: { url: 'https://i' } }],
      },
    };
    const i = activityFromEvent(image, o);
    expect(i.kind === 'activity' && i.activity).toMatchObject({ type: 'message', text: '' });

    for (const name of [
      'oa_send_text',
      'user_seen_message',
      'user_received_message',
      'anonymous_send_text',
    ]) {
      expect(
        activityFromEvent({ event_name: name, sender: { id: 'oa' }, recipient: { id: 'u' } }, o).kind,
      ).toBe('ignore');
    }
  });
});
