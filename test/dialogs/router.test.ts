import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NON_TEXT_TEXT } from '../../src/bot/citizenBot.js';
import { TOPIC_MENUS } from '../../dialogs/topics.js';
import { OWN_DOSSIER_TEXT } from '../../dialogs/mainDialog.js';
import { dumpDatabase, startTestAssistant, TestChat, type TestAssistant } from '../helpers/botChat.js';

const FOUR_BUTTONS = [
  'Dịch vụ công trực tuyến',
  'Chữ ký số',
  'Thanh toán không dùng tiền mặt',
  'Gặp tổ công nghệ số',
];

let bot: TestAssistant;
beforeAll(async () => {
  bot = await startTestAssistant();
});
afterAll(() => bot?.close());

const chat = (userId?: string) => new TestChat(bot.assistant, userId);

describe('welcome', () => {
  it('greets a citizen who opens the chat, with the four buttons', async () => {
    const replies = await chat().join();
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toMatch(/^Xin chào! Mình là Trợ lý Công dân số/);
    expect(replies[0]!.text).toMatch(/đừng gửi mã OTP/);
    expect(replies[0]!.buttons).toEqual(FOUR_BUTTONS);
  });

  it('says nothing when only the bot joins', async () => {
    expect(await chat().join(['bot'])).toEqual([]);
  });
});

describe('router', () => {
  it('answers a greeting briefly, with the topics', async () => {
    for (const hello of ['xin chào', 'chao ban', 'Hello']) {
      const [reply, ...more] = await chat().say(hello);
      expect(more).toEqual([]);
      expect(reply!.text).toMatch(/^Chào bạn!/);
      expect(reply!.buttons).toEqual(FOUR_BUTTONS);
    }
  });

  it('answers thanks', async () => {
    const [reply] = await chat().say('cảm ơn bạn nhiều');
    expect(reply!.text).toMatch(/^Không có gì/);
    expect(reply!.text).not.toMatch(/Nguồn:/);
  });

  it('shows the menu on "menu"', async () => {
    const [reply] = await chat().say('menu');
    expect(reply!.text).toMatch(/Mình là Trợ lý Công dân số/);
    expect(reply!.buttons).toEqual(FOUR_BUTTONS);
  });

  it('shows the starter questions of a topic button', async () => {
    const [reply] = await chat().say('Chữ ký số');
    expect(reply!.text).toBe(TOPIC_MENUS['chu-ky-so'].intro);
    expect(reply!.buttons).toEqual([...TOPIC_MENUS['chu-ky-so'].questions, 'Gặp tổ công nghệ số']);
  });

  it('"bắt đầu lại" leaves a question in progress and starts over', async () => {
    const c = chat('restart-user');
    const asked = await c.say('gap nhan vien');
    expect(asked.at(-1)!.text).toMatch(/Bạn muốn hỏi Tổ công nghệ số cộng đồng điều gì/);

    const restarted = await c.say('bắt đầu lại');
    expect(restarted).toHaveLength(1);
    expect(restarted[0]!.buttons).toEqual(FOUR_BUTTONS);
    // The next message is routed afresh, not taken as the question for the team.
    const [hello] = await c.say('xin chào');
    expect(hello!.text).toMatch(/^Chào bạn!/);
    expect((await bot.assistant.unanswered.list()).filter((q) => q.userId === 'restart-user')).toEqual([]);
  });

  it('hands "gap nhan vien" to the community team: asks the question and the commune, then stores it', async () => {
    const c = chat('handoff-user');
    const first = await c.say('gap nhan vien');
    expect(first.map((r) => r.text)).toEqual([
      expect.stringMatching(/chuyển bạn tới Tổ công nghệ số cộng đồng/),
      expect.stringMatching(/Bạn muốn hỏi Tổ công nghệ số cộng đồng điều gì/),
    ]);
    const [communePrompt] = await c.say('Tôi muốn được hướng dẫn trực tiếp cách cài VNeID cho mẹ');
    expect(communePrompt!.text).toMatch(/xã\/phường nào/);
    const [done] = await c.say('xã Long Mỹ, Hậu Giang');
    expect(done!.text).toMatch(
      /Mình đã chuyển câu hỏi của bạn tới Tổ công nghệ số cộng đồng xã Long Mỹ, Hậu Giang/,
    );

    const stored = (await bot.assistant.unanswered.list()).filter((q) => q.userId === 'handoff-user');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      text: 'Tôi muốn được hướng dẫn trực tiếp cách cài VNeID cho mẹ',
      commune: 'xã Long Mỹ, Hậu Giang',
      reason: 'handoff',
      status: 'open',
      conversationId: c.conversationId,
    });
  });

  it('asks what the citizen needs when the message is too vague', async () => {
    const [reply] = await chat().say('hướng dẫn mình với');
    expect(reply!.text).toMatch(/^Bạn cần hướng dẫn về việc gì/);
    expect(reply!.buttons).toEqual(FOUR_BUTTONS);
    expect(reply!.text).not.toMatch(/Nguồn:/);
  });

  it.each([
    ['xổ số hôm nay', 'xổ số'],
    // Folded, "Tổng Bí thư" reads like "bị thu hồi" of a signing certificate: not an answer.
    ['Đại hội Đảng năm nay ai lên làm Tổng Bí thư vậy mấy chú?', 'chính trị, thời sự'],
  ])('declines an out-of-scope question politely and does not answer it: %s', async (question, topic) => {
    const c = chat('oos-user');
    const replies = await c.say(question);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toMatch(
      new RegExp(`^Xin lỗi bạn, câu hỏi về ${topic} nằm ngoài phạm vi của mình`),
    );
    expect(replies[0]!.text).not.toMatch(/Nguồn:/);
    expect(replies[0]!.buttons).toContain('Gặp tổ công nghệ số');
    expect((await bot.assistant.unanswered.list()).filter((q) => q.userId === 'oos-user')).toEqual([]);
  });

  it("says it cannot see a citizen's own dossier and shows how to look it up with its code", async () => {
    const replies = await chat().say(
      'Hồ sơ cấp đổi giấy phép lái xe của tui mã số H12.34-250612-0045 đã duyệt chưa ad kiểm tra giùm',
    );
    expect(replies[0]!.text).toBe(OWN_DOSSIER_TEXT);
    expect(replies[1]!.text).toMatch(/mã hồ sơ/);
    expect(replies[1]!.text).toMatch(/Nguồn: Hỏi đáp "Làm sao xem hồ sơ dịch vụ công đã nộp đến đâu rồi\?"/);
    // Asking how to do something with a dossier is an ordinary question.
    const [howTo] = await chat().say('xem giúp tôi cách nộp hồ sơ khai sinh cho con trên mạng');
    expect(howTo!.text).not.toBe(OWN_DOSSIER_TEXT);
  });

  it('asks politely for a shorter message when it is longer than MAX_MESSAGE_CHARS, and keeps none of it', async () => {
    const c = chat('long-user');
    const long = `${'Tôi muốn hỏi về chữ ký số. '.repeat(200)}`.slice(0, bot.config.maxMessageChars + 1);
    const replies = await c.say(long);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toMatch(/dài quá/);
    expect(replies[0]!.text).toContain(String(bot.config.maxMessageChars));
    expect(await dumpDatabase(bot.assistant)).not.toContain(long.slice(0, 200));
    // A message of exactly the limit is read.
    const [answer] = await c.say(`chữ ký số là gì ${'?'.repeat(bot.config.maxMessageChars - 16)}`);
    expect(answer!.text).not.toMatch(/dài quá/);
  });

  it('asks for text when a message has none (a sticker or an image)', async () => {
    const replies = await chat().send({
      type: 'message',
      attachments: [{ contentType: 'image/png', contentUrl: 'https://example.test/a.png' }],
    });
    expect(replies.map((r) => r.text)).toEqual([NON_TEXT_TEXT]);
  });
});
