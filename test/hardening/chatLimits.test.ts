import { describe, expect, it } from 'vitest';
import { TOO_FAST_TEXT, TOO_LONG_TEXT } from '../../src/bot/citizenBot.js';
import { DirectLineClient } from '../helpers/directLineClient.js';
import { appsStoppedAfterEach } from '../helpers/testApp.js';

const start = appsStoppedAfterEach();

async function citizen(url: string, userId: string): Promise<DirectLineClient> {
  const dl = new DirectLineClient(url, userId);
  await dl.generate();
  await dl.start();
  await dl.waitFor((bot) => bot.some((b) => /Xin chào/.test(b.text ?? '')));
  return dl;
}

describe('chat limits through Direct Line', () => {
  it('answers a message that is too long with a polite Vietnamese request, not an answer', async () => {
    const { url } = await start({ MAX_MESSAGE_CHARS: '100' });
    const dl = await citizen(url, 'long-writer');
    const posted = await dl.post(`cho mình hỏi về chữ ký số ${'rất '.repeat(60)}dài`);
    expect(posted.status).toBe(200);
    const all = await dl.waitFor((bot) => bot.some((b) => b.text === TOO_LONG_TEXT(100)));
    const replies = all.filter((a) => a.from.role === 'bot' && a.type === 'message').slice(1);
    expect(replies.map((b) => b.text)).toEqual([TOO_LONG_TEXT(100)]);
    expect(TOO_LONG_TEXT(100)).toMatch(/dài quá.*ngắn gọn/s);
  });

  it('slows down a flooding user without running the dialogs, and other users are not affected', async () => {
    const { url } = await start({ CHAT_MESSAGES_PER_MINUTE: '3' });
    const flooder = await citizen(url, 'flooder');
    const other = await citizen(url, 'neighbour');

    for (let i = 0; i < 6; i++) expect((await flooder.post(`chu ky so la gi ${i}`)).status).toBe(200);
    const all = await flooder.waitFor((bot) => bot.filter((b) => b.text === TOO_FAST_TEXT).length >= 3);
    const replies = all.filter((a) => a.from.role === 'bot' && a.type === 'message').slice(1);
    // Three messages within the budget are answered (with sources); the rest get only the brake.
    expect(replies.filter((b) => b.text === TOO_FAST_TEXT)).toHaveLength(3);
    expect(replies.filter((b) => /Nguồn: /.test(b.text ?? '')).length).toBeGreaterThanOrEqual(3);
    expect(replies.at(-1)!.text).toBe(TOO_FAST_TEXT);

    // Another citizen, meanwhile, still gets normal answers.
    expect((await other.post('lam sao kich hoat vneid muc 2')).status).toBe(200);
    const theirs = await other.waitFor((bot) => bot.some((b) => /Nguồn: /.test(b.text ?? '')));
    const otherReplies = theirs.filter((a) => a.from.role === 'bot' && a.type === 'message');
    expect(otherReplies.some((b) => b.text === TOO_FAST_TEXT)).toBe(false);
  });
});
