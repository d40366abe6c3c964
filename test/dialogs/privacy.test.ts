import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SENSITIVE_WARNING } from '../../src/bot/citizenBot.js';
import {
  conversationState,
  dumpDatabase,
  startTestAssistant,
  TestChat,
  type TestAssistant,
} from '../helpers/botChat.js';

const CCCD = '001099012345';
const OTP = '482913';

let bot: TestAssistant;
beforeAll(async () => {
  bot = await startTestAssistant();
});
afterAll(() => bot?.close());

describe('personal data sent by a citizen', () => {
  it('warns about an OTP, still answers the question, and keeps no trace of the code', async () => {
    const c = new TestChat(bot.assistant, 'otp-user');
    const replies = await c.say(`ngân hàng gọi xin mã OTP ${OTP} của tôi, có nên đọc cho họ không`);
    expect(replies[0]!.text).toBe(SENSITIVE_WARNING);
    expect(replies).toHaveLength(2);
    expect(replies[1]!.text).toMatch(/OTP/);
    expect(replies[1]!.text).toMatch(/\n\nNguồn: .+/);

    const state = JSON.stringify(await conversationState(bot.assistant, c.conversationId));
    expect(state).toContain('[mã OTP]');
    expect(state).not.toContain(OTP);
  });

  it('warns about a message that is only a secret and answers nothing else', async () => {
    const c = new TestChat(bot.assistant, 'otp-only-user');
    const replies = await c.say(`mã OTP: ${OTP}`);
    expect(replies.map((r) => r.text)).toEqual([SENSITIVE_WARNING]);
  });

  it('warns about a full CCCD number and keeps it out of the transcript, the team inbox and the state', async () => {
    const c = new TestChat(bot.assistant, 'cccd-user');
    const first = await c.say(`gặp tổ công nghệ số`);
    expect(first.at(-1)!.text).toMatch(/Bạn muốn hỏi Tổ công nghệ số cộng đồng điều gì/);

    const warned = await c.say(`số CCCD của tôi là ${CCCD}, đăng nhập VNeID báo sai thông tin thì làm sao`);
    expect(warned[0]!.text).toBe(SENSITIVE_WARNING);
    expect(warned.at(-1)!.text).toMatch(/xã\/phường nào/);
    const [forwarded] = await c.say('phường 7, Vị Thanh');
    expect(forwarded!.text).toMatch(/Mình đã chuyển câu hỏi của bạn/);

    const [stored] = (await bot.assistant.unanswered.list()).filter((q) => q.userId === 'cccd-user');
    expect(stored!.text).toBe('số CCCD của tôi là [số CCCD], đăng nhập VNeID báo sai thông tin thì làm sao');
    expect(JSON.stringify(stored!.transcript)).toContain('[số CCCD]');

    // Nowhere in the database: bot_state (conversation and user state), the conversation's recent
    // lines (redacted there), questions, feedback…
    const everything = await dumpDatabase(bot.assistant);
    expect(everything).toContain('bot_state');
    expect(everything).toContain('recent_turns');
    expect(everything).toContain('questions');
    const lines = await bot.assistant.sql.all<{ text: string }>('SELECT text FROM recent_turns');
    expect(lines.map((l) => l.text)).toContain(
      'số CCCD của tôi là [số CCCD], đăng nhập VNeID báo sai thông tin thì làm sao',
    );
    expect(everything).not.toContain(CCCD);
    expect(everything).not.toContain(OTP);
    // …and not in the database files on disk either (WAL included), with the embedded store.
    if (bot.assistant.sql.dialect === 'sqlite') {
      expect(bot.assistant.db).toBeDefined();
      bot.assistant.db!.pragma('wal_checkpoint(TRUNCATE)');
      for (const file of fs.readdirSync(bot.config.dataDir).filter((f) => f.startsWith('assistant.db'))) {
        const bytes = fs.readFileSync(path.join(bot.config.dataDir, file));
        expect(bytes.includes(Buffer.from(CCCD)), file).toBe(false);
        expect(bytes.includes(Buffer.from(OTP)), file).toBe(false);
      }
    }
  });

  it('keeps a CCCD number out of a 👎 reason', async () => {
    const c = new TestChat(bot.assistant, 'reason-user');
    await c.say('quên mật khẩu VNeID phải làm sao');
    await c.say('👎');
    await c.say(`không đúng, tôi nhập CCCD ${CCCD} rồi mà vẫn lỗi`);
    const rows = (await bot.assistant.feedback.list()).filter((f) => f.conversationId === c.conversationId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.reason).toContain('[số CCCD]');
    expect(JSON.stringify(rows)).not.toContain(CCCD);
  });
});
