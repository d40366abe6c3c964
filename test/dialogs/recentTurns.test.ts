import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationState, startTestAssistant, TestChat, type TestAssistant } from '../helpers/botChat.js';

let bot: TestAssistant;
beforeAll(async () => {
  bot = await startTestAssistant();
});
afterAll(() => bot?.close());

const forwardedTranscript = async (userId: string) => {
  const [q] = (await bot.assistant.unanswered.list()).filter((x) => x.userId === userId);
  return (q?.transcript ?? []).map((t) => `${t.from}: ${t.text.slice(0, 40)}`);
};

describe("the conversation's recent lines, the team's context of a forwarded question", () => {
  it('go with the question in order: what the citizen asked and what the bot answered', async () => {
    const c = new TestChat(bot.assistant, 'context-user');
    await c.say('quên mật khẩu VNeID thì làm sao');
    await c.say('gặp người thật');
    await c.say('vẫn không lấy lại được mật khẩu');
    await c.say('phường 7, Vị Thanh');
    const lines = await forwardedTranscript('context-user');
    expect(lines[0]).toBe('user: quên mật khẩu VNeID thì làm sao');
    expect(lines[1]).toMatch(/^bot: /);
    expect(lines).toContain('user: gặp người thật');
    expect(lines).toContain('user: vẫn không lấy lại được mật khẩu');
    expect(lines.at(-1)).toBe('user: phường 7, Vị Thanh');
    // They are not carried in the conversation state every turn loads and writes.
    const state = JSON.stringify(await conversationState(bot.assistant, c.conversationId));
    expect(state).toContain('ConversationData');
    expect(state).not.toContain('transcript');
    expect(state).not.toContain('phường 7, Vị Thanh');
  });

  it('start again after "bắt đầu lại"', async () => {
    const c = new TestChat(bot.assistant, 'restart-user');
    await c.say('chuyển khoản nhầm thì làm sao');
    await c.say('bắt đầu lại');
    await c.say('gặp người thật');
    await c.say('hỏi về chữ ký số');
    await c.say('phường 7, Vị Thanh');
    const lines = await forwardedTranscript('restart-user');
    expect(lines.some((l) => l.includes('chuyển khoản nhầm'))).toBe(false);
    expect(lines).toContain('user: gặp người thật');
  });

  it('are dropped from a conversation state written by an older version', async () => {
    const c = new TestChat(bot.assistant, 'legacy-user');
    await c.say('quên mật khẩu VNeID');
    const row = await bot.assistant.sql.get<{ key: string; value: string }>(
      'SELECT key, value FROM bot_state WHERE key LIKE ?',
      [`%/conversations/${c.conversationId}/%`],
    );
    const value = JSON.parse(row!.value) as { ConversationData: Record<string, unknown> };
    value.ConversationData.transcript = [{ from: 'user', text: 'câu cũ', at: '2026-01-01T00:00:00.000Z' }];
    await bot.assistant.sql.run('UPDATE bot_state SET value = ? WHERE key = ?', [
      JSON.stringify(value),
      row!.key,
    ]);
    await c.say('cảm ơn');
    const state = JSON.stringify(await conversationState(bot.assistant, c.conversationId));
    expect(state).toContain('ConversationData');
    expect(state).not.toContain('câu cũ');
  });
});
