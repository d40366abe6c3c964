import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLARIFY_INTRO, NOT_ANSWERED_TEXT } from '../../src/answer/answerService.js';
import { NONE_OF_THESE } from '../../dialogs/qnaDialog.js';
import { SCAM_SAFETY_STEPS, SCAM_WARNING_SIGNS } from '../../dialogs/scamNotices.js';
import { startTestAssistant, TestChat, type TestAssistant } from '../helpers/botChat.js';

let bot: TestAssistant;
beforeAll(async () => {
  bot = await startTestAssistant();
});
afterAll(() => bot?.close());

const chat = (userId?: string) => new TestChat(bot.assistant, userId);
const sourcesLine = (text: string) => text.split('\n').find((l) => l.startsWith('Nguồn: ')) ?? '';
const UNKNOWN = 'thủ tục nhận nuôi chó mèo ở nước ngoài thế nào';

describe('answers', () => {
  it('answers a question with its source and the feedback buttons', async () => {
    const replies = await chat().say('làm sao kích hoạt tài khoản VNeID mức 2');
    expect(replies).toHaveLength(1);
    const [answer] = replies;
    expect(answer!.text).toMatch(/kích hoạt/i);
    expect(answer!.text).toMatch(/\n\nNguồn: .+/);
    expect(sourcesLine(answer!.text)).toMatch(/VNeID mức 2/);
    expect(answer!.text).not.toMatch(/\*\*|^#/m);
    expect(answer!.buttons).toEqual([
      '👍 Hữu ích',
      '👎 Chưa hữu ích',
      'Hướng dẫn từng bước: Kích hoạt tài khoản VNeID mức 2',
      'Gặp tổ công nghệ số',
    ]);
  });

  it('answers the same question typed without diacritics from the same source', async () => {
    const [accented] = await chat().say('làm sao kích hoạt tài khoản VNeID mức 2');
    const [plain] = await chat().say('lam sao kich hoat tai khoan vneid muc 2');
    expect(sourcesLine(plain!.text)).toBe(sourcesLine(accented!.text));
  });

  it('answers a follow-up in the context of the previous question', async () => {
    const c = chat();
    const [first] = await c.say('cách nộp hồ sơ trực tuyến');
    expect(sourcesLine(first!.text)).toMatch(/[Nn]ộp hồ sơ trực tuyến/);
    expect(sourcesLine(first!.text)).not.toMatch(/lệ phí/);

    const [followUp] = await c.say('còn lệ phí thì sao?');
    expect(sourcesLine(followUp!.text)).toMatch(/lệ phí/);
    expect(followUp!.text).toMatch(/thanh toán/i);
    expect(followUp!.text).not.toBe(first!.text);
  });

  it('shows the next part of the guide on "bước tiếp theo"', async () => {
    const c = chat();
    const [first] = await c.say('cách chụp ảnh và scan giấy tờ để nộp hồ sơ trực tuyến');
    const [next] = await c.say('bước tiếp theo');
    expect(next!.text).toMatch(/\n\nNguồn: .+/);
    expect(next!.text).not.toBe(first!.text);
  });

  it('answers plain questions about renewing a signature or money arriving without a scam warning', async () => {
    // Both once matched paraphrases filed under scam FAQs and opened with "Rất có thể là lừa đảo".
    const [renewal] = await chat().say('cks cua toi sap het han roi thi gia han o dau a');
    expect(renewal!.text.split('\n')[0]).not.toMatch(/lừa đảo/i);
    expect(renewal!.text).toMatch(/nhà cung cấp/);
    expect(sourcesLine(renewal!.text)).toMatch(/gia hạn/i);

    const [arrived] = await chat().say('lam sao biet con gui tien vao tai khoan cho minh chua');
    expect(arrived!.text).not.toMatch(/lừa đảo|chuyển nhầm/i);
    expect(arrived!.text).toMatch(/lịch sử giao dịch/);
  });

  it('leads with the safety steps when the citizen was scammed', async () => {
    const [reply] = await chat().say('tôi vừa bị lừa đảo chuyển tiền phải làm gì');
    expect(reply!.text.startsWith(SCAM_SAFETY_STEPS)).toBe(true);
    expect(reply!.text).toMatch(/113/);
    expect(reply!.text).toMatch(/\n\nNguồn: .+/);
  });

  it('leads with the safety steps when the citizen tells what a scam did, without saying "lừa đảo"', async () => {
    for (const question of [
      'em lo bam vao link tin nhan bao dien luc cat dien, nhap thong tin the roi, gio phai lam j',
      'tôi lỡ đọc mã OTP cho người ta rồi',
      'tai app la tu link roi dien thoai bi dieu khien, tien trong tk bi rut het',
      // the code asked for, then read out: told in two clauses
      'Mẹ tôi có người gọi bảo đọc mã OTP để nhận quà khuyến mãi, bà đọc cho nó rồi, giờ làm gì',
      'ke gian goi dien gia giong con tui xin tien, tui gui roi',
    ]) {
      const [reply] = await chat().say(question);
      expect(reply!.text.startsWith(SCAM_SAFETY_STEPS)).toBe(true);
    }
    // Installed from the link, told after the fact: the steps come first.
    const [installed] = await chat().say(
      'Hồi sáng có người gọi xưng công an phường, kêu cài app VNeID qua link họ gửi Zalo, tui cài rồi mà giờ mới thấy nghi. Phải làm gì liền?',
    );
    expect(installed!.text.startsWith(SCAM_SAFETY_STEPS)).toBe(true);
    // Asking what something costs ("có mất tiền không") or whether one could be scammed is not a
    // scam story.
    for (const question of [
      'CKS co mat tien hang nam ko',
      'Muốn nhờ tổ công nghệ số hướng dẫn cài app thì liên hệ ở đâu, có mất tiền không',
      'bán bưởi qua Zalo, khách chuyển khoản trước thì đưa stk hay mã QR, có bị lừa kiểu gì không',
    ]) {
      const [reply] = await chat().say(question);
      expect(reply!.text.startsWith(SCAM_SAFETY_STEPS)).toBe(false);
    }
    // Asking where to type an OTP, or typing it into one's own app, is not a scam story.
    for (const question of [
      'nhập mã OTP ở đâu khi chuyển khoản',
      'tui nhap ma OTP roi ma chuyen khoan van bao loi',
    ]) {
      const [reply] = await chat().say(question);
      expect(reply!.text.startsWith(SCAM_SAFETY_STEPS)).toBe(false);
    }
  });

  it('warns of the signs of a scam on its way: someone posing as an official wants a link opened or an app installed', async () => {
    for (const question of [
      'nhan tin zalo 1 so tu xung can bo thue noi ho kinh doanh phai cai app thue moi, gui link cai dat, co nen cai khong',
      'Có người xưng là công an phường gọi bảo tôi cập nhật thông tin định danh lai qua đường link',
      'co nguoi gui link cai dat ung dung dich vu cong moi, bam vao co sao khong',
    ]) {
      const [reply] = await chat().say(question);
      expect(reply!.text.startsWith(SCAM_WARNING_SIGNS)).toBe(true);
      expect(reply!.text.startsWith(SCAM_SAFETY_STEPS)).toBe(false);
    }
    // A text message with a link, asked about, shows the signs too.
    const [sms] = await chat().say(
      'Có tin nhắn ghi "Điện lực: Quý khách chậm thanh toán, bấm link evn-thanhtoan.vn để tránh bị cắt điện", có phải thiệt không',
    );
    expect(sms!.text.startsWith(SCAM_WARNING_SIGNS)).toBe(true);
    // Installing the tax app itself, or a real officer's advice, is an ordinary question.
    for (const question of [
      'cài ứng dụng eTax Mobile thế nào',
      'cán bộ thuế hướng dẫn tôi khai thuế qua mạng, làm sao',
    ]) {
      const [reply] = await chat().say(question);
      expect(reply!.text.startsWith(SCAM_WARNING_SIGNS)).toBe(false);
    }
  });
});

describe('feedback', () => {
  it('stores 👍 for the last answer, with its question and sources', async () => {
    const c = chat('feedback-up');
    const [answer] = await c.say('quên mật khẩu VNeID phải làm sao');
    const [thanks] = await c.say('👍 Hữu ích');
    expect(thanks!.text).toMatch(/Cảm ơn bạn đã phản hồi/);

    const rows = (await bot.assistant.feedback.list()).filter((f) => f.conversationId === c.conversationId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      helpful: true,
      question: 'quên mật khẩu VNeID phải làm sao',
      channel: 'test',
    });
    expect(rows[0]!.reason).toBeUndefined();
    expect(sourcesLine(answer!.text)).toContain(rows[0]!.sources[0]!.title);
  });

  it('stores 👎 with the reason the citizen gives, redacted', async () => {
    const c = chat('feedback-down');
    await c.say('chuyển khoản nhầm tài khoản thì làm sao');
    const [askReason] = await c.say('👎 Chưa hữu ích');
    expect(askReason!.text).toMatch(/chưa đúng hay chưa đủ ở chỗ nào/);
    expect(askReason!.buttons).toEqual(['Bỏ qua', 'Gặp tổ công nghệ số']);
    const [thanks] = await c.say('chưa nói gọi số nào, số của tôi là 0912345678');
    expect(thanks!.text).toMatch(/đã ghi nhận góp ý/);

    const rows = (await bot.assistant.feedback.list()).filter((f) => f.conversationId === c.conversationId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.helpful).toBe(false);
    expect(rows[0]!.question).toBe('chuyển khoản nhầm tài khoản thì làm sao');
    expect(rows[0]!.reason).toMatch(/^chưa nói gọi số nào/);
    expect(rows[0]!.reason).not.toContain('0912345678');
  });

  it('stores 👎 without a reason when the citizen skips it', async () => {
    const c = chat('feedback-skip');
    await c.say('VietQR là gì');
    await c.say('👎');
    const [ok] = await c.say('Bỏ qua');
    expect(ok!.text).toMatch(/cảm ơn bạn/i);
    const rows = (await bot.assistant.feedback.list()).filter((f) => f.conversationId === c.conversationId);
    expect(rows.map((r) => [r.helpful, r.reason])).toEqual([[false, undefined]]);
  });

  it('keeps a reason that starts with "không" and takes a bare "không" as no reason', async () => {
    const c = chat('feedback-khong');
    await c.say('mobile money là gì');
    await c.say('👎');
    const [noted] = await c.say('không đúng với nhà mạng của tôi');
    expect(noted!.text).toMatch(/đã ghi nhận góp ý/);
    await c.say('👎');
    const [skipped] = await c.say('không');
    expect(skipped!.text).toMatch(/cảm ơn bạn/i);
    const rows = (await bot.assistant.feedback.list()).filter((f) => f.conversationId === c.conversationId);
    expect(rows.map((r) => r.reason)).toEqual(['không đúng với nhà mạng của tôi', undefined]);
  });

  it('stores nothing for 👍 before any answer', async () => {
    const c = chat('feedback-none');
    const [reply] = await c.say('👍');
    expect(reply!.text).toMatch(/Bạn cứ gõ câu hỏi/);
    expect(
      (await bot.assistant.feedback.list()).filter((f) => f.conversationId === c.conversationId),
    ).toEqual([]);
  });
});

describe('a question the assistant cannot answer', () => {
  it('is forwarded to the commune team when the citizen agrees, with the commune and redacted text', async () => {
    const c = chat('forward-user');
    const [offer] = await c.say(`${UNKNOWN}, gọi tôi số 0912345678`);
    expect(offer!.text.startsWith(NOT_ANSWERED_TEXT)).toBe(true);
    expect(offer!.text).not.toMatch(/Nguồn:/);
    expect(offer!.buttons).toEqual(['Có, chuyển giúp mình', 'Không cần']);

    const [communePrompt] = await c.say('Có, chuyển giúp mình');
    expect(communePrompt!.text).toMatch(/xã\/phường nào/);
    // Nothing is stored, nor promised, before the commune is known.
    expect((await bot.assistant.unanswered.list()).filter((q) => q.userId === 'forward-user')).toEqual([]);

    const [forwarded] = await c.say('phường Vị Thanh, Hậu Giang');
    expect(forwarded!.text).toMatch(
      /^Mình đã chuyển câu hỏi của bạn tới Tổ công nghệ số cộng đồng phường Vị Thanh/,
    );

    const stored = (await bot.assistant.unanswered.list()).filter((q) => q.userId === 'forward-user');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      commune: 'phường Vị Thanh, Hậu Giang',
      reason: 'not_answered',
      status: 'open',
    });
    expect(stored[0]!.text).toMatch(new RegExp(`^${UNKNOWN}`));
    expect(stored[0]!.text).not.toContain('0912345678');
    expect(stored[0]!.confidence).toBeLessThan(0.3);
    expect(stored[0]!.reference.conversation?.id).toBe(c.conversationId);
    expect(stored[0]!.transcript?.some((t) => t.from === 'user' && t.text.startsWith(UNKNOWN))).toBe(true);

    // The second forward does not ask for the commune again.
    await c.say('con bò nhà tôi bị lạc mất rồi thì báo ai');
    const [again] = await c.say('có');
    expect(again!.text).toMatch(
      /^Mình đã chuyển câu hỏi của bạn tới Tổ công nghệ số cộng đồng phường Vị Thanh/,
    );
    const both = (await bot.assistant.unanswered.list()).filter((q) => q.userId === 'forward-user');
    expect(both).toHaveLength(2);

    // Asking for a person afterwards does not send the same question to the team a third time.
    const handoff = await c.say('gặp nhân viên');
    expect(handoff.at(-1)!.text).toMatch(/Bạn muốn hỏi Tổ công nghệ số cộng đồng điều gì/);
    expect((await bot.assistant.unanswered.list()).filter((q) => q.userId === 'forward-user')).toHaveLength(
      2,
    );
  });

  it('is not forwarded when the citizen declines', async () => {
    const c = chat('decline-user');
    await c.say(UNKNOWN);
    const [reply] = await c.say('Không cần');
    expect(reply!.text).toMatch(/hỏi mình câu khác/);
    expect((await bot.assistant.unanswered.list()).filter((q) => q.userId === 'decline-user')).toEqual([]);
  });

  it('takes a new question typed instead of yes/no as a new question', async () => {
    const c = chat('reroute-user');
    await c.say(UNKNOWN);
    const [answer] = await c.say('quên mật khẩu VNeID phải làm sao');
    expect(answer!.text).toMatch(/\n\nNguồn: .+/);
    expect((await bot.assistant.unanswered.list()).filter((q) => q.userId === 'reroute-user')).toEqual([]);
  });
});

describe('a question the assistant is not sure about', () => {
  // Reissuing a school diploma is not in the knowledge; asked at 0.53.
  const UNSURE = 'làm lại bằng tốt nghiệp online ở đâu';
  // Asked at 0.54; one of the nearest entries (documents asked for afterwards) is the right one.
  const SUPPLEMENT = 'cán bộ xã nói hồ sơ chưa đủ, tui phải làm chi tiếp';

  it('asks "did you mean" with the nearest entries as buttons, not an answer from one of them', async () => {
    const [reply] = await chat().say(UNSURE);
    expect(reply!.text.startsWith(CLARIFY_INTRO)).toBe(true);
    expect(reply!.text).not.toMatch(/Nguồn:|ứng dụng ngân hàng|hóa đơn/);
    expect(reply!.buttons.at(-1)).toBe(NONE_OF_THESE);
    const suggestions = reply!.buttons.slice(0, -1);
    expect(suggestions.length).toBeGreaterThanOrEqual(1);
    expect(suggestions.length).toBeLessThanOrEqual(3);
    // The suggestions are the buttons, not listed again in the text (Zalo numbers the buttons).
    for (const s of suggestions) expect(reply!.text).not.toContain(s);
  });

  it('answers from the suggestion the citizen taps, with its source and the feedback buttons', async () => {
    const c = chat('clarify-tap');
    const [asked] = await c.say(SUPPLEMENT);
    const supplement = asked!.buttons.find((b) => /bổ sung/i.test(b));
    expect(supplement).toBeDefined();
    const [answer] = await c.say(supplement!);
    expect(answer!.text).toMatch(/bổ sung/i);
    expect(answer!.text).toMatch(/\n\nNguồn: .+/);
    expect(answer!.buttons.slice(0, 2)).toEqual(['👍 Hữu ích', '👎 Chưa hữu ích']);

    // 👍 is recorded for the question the citizen asked, answered from the entry they chose.
    await c.say('👍 Hữu ích');
    const stored = (await bot.assistant.feedback.list()).filter((f) => f.conversationId === c.conversationId);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ helpful: true, question: SUPPLEMENT });
  });

  it('takes the number of a suggestion typed instead of a tap', async () => {
    const c = chat();
    const [asked] = await c.say(SUPPLEMENT);
    const [answer] = await c.say('2');
    const second = asked!.buttons[1]!;
    expect(answer!.text).toMatch(/\n\nNguồn: .+/);
    expect(answer!.text.split('\n')[0]).not.toBe(CLARIFY_INTRO);
    // The section the second button names is what was answered.
    const section = second.split(': ').at(-1)!;
    expect(answer!.text).toContain(section);
  });

  it('offers the community team when none of the suggestions fits, and forwards the question asked', async () => {
    const c = chat('clarify-none');
    await c.say(UNSURE);
    const [offer] = await c.say(NONE_OF_THESE);
    expect(offer!.text).toMatch(/chuyển câu hỏi này tới Tổ công nghệ số cộng đồng/);
    expect(offer!.buttons).toEqual(['Có, chuyển giúp mình', 'Không cần']);
    const [communePrompt] = await c.say('Có, chuyển giúp mình');
    expect(communePrompt!.text).toMatch(/xã\/phường nào/);
    await c.say('xã Long Mỹ');
    const stored = (await bot.assistant.unanswered.list()).filter((q) => q.userId === 'clarify-none');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ text: UNSURE, reason: 'not_answered', commune: 'xã Long Mỹ' });
    expect(stored[0]!.confidence).toBeGreaterThanOrEqual(0.3);
    expect(stored[0]!.sources?.length).toBeGreaterThan(0);
  });

  it('takes a new question typed instead of a choice as a new question', async () => {
    const c = chat('clarify-reroute');
    await c.say(UNSURE);
    const [answer] = await c.say('quên mật khẩu VNeID phải làm sao');
    expect(sourcesLine(answer!.text)).toMatch(/VNeID/);
    expect((await bot.assistant.unanswered.list()).filter((q) => q.userId === 'clarify-reroute')).toEqual([]);
  });

  it('still leads with the safety steps when an unsure question sounds like a scam', async () => {
    const [reply] = await chat().say('tôi bị hack zalo rồi bị lừa tiền');
    expect(reply!.text.startsWith(SCAM_SAFETY_STEPS)).toBe(true);
    expect(reply!.text).toContain(CLARIFY_INTRO);
  });
});
