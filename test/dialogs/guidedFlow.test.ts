import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowLibrary, FLOW_BUTTON_PREFIX } from '../../src/flows/flowLibrary.js';
import { startTestAssistant, TestChat, type TestAssistant } from '../helpers/botChat.js';
import { REAL_KNOWLEDGE_DIR } from '../helpers/knowledge.js';

const flows = FlowLibrary.load(path.join(REAL_KNOWLEDGE_DIR, 'flows')).list();

let bot: TestAssistant;
beforeAll(async () => {
  bot = await startTestAssistant();
});
afterAll(() => bot?.close());

const stepText = (flowIndex: number, i: number) => {
  const flow = flows[flowIndex]!;
  return `Bước ${i + 1}/${flow.steps.length}: ${flow.steps[i]!.title}\n\n${flow.steps[i]!.text}`;
};

describe('guided flows', () => {
  it('loads the five flows of the knowledge base', () => {
    expect(flows).toHaveLength(5);
    for (const f of flows) expect(f.steps.length).toBeGreaterThan(2);
  });

  describe.each(flows.map((f, i) => [f.title, i] as const))('"%s"', (title, i) => {
    it('starts from its button, goes on with "Tiếp", back with "Quay lại", and stops with "Dừng"', async () => {
      const c = new TestChat(bot.assistant);
      const [first, ...more] = await c.say(`${FLOW_BUTTON_PREFIX}${title}`);
      expect(more).toEqual([]);
      expect(first!.text).toBe(`Hướng dẫn từng bước: ${title}\n\n${stepText(i, 0)}`);
      expect(first!.buttons).toEqual(['Tiếp', 'Dừng']);

      const [second] = await c.say('Tiếp');
      expect(second!.text).toBe(stepText(i, 1));
      expect(second!.buttons).toEqual(['Tiếp', 'Quay lại', 'Dừng']);

      const [third] = await c.say('tiep theo');
      expect(third!.text).toBe(stepText(i, 2));

      const [back] = await c.say('Quay lại');
      expect(back!.text).toBe(stepText(i, 1));

      const [stopped] = await c.say('Dừng');
      expect(stopped!.text).toMatch(/Mình đã dừng hướng dẫn/);
      // After stopping, "Tiếp" is no longer a flow command.
      const [after] = await c.say('xin chào');
      expect(after!.text).toMatch(/^Chào bạn!/);
    });

    /** A chat at the flow's second step, where a question is typed. */
    const atSecondStep = async () => {
      const c = new TestChat(bot.assistant);
      await c.say(`${FLOW_BUTTON_PREFIX}${title}`);
      await c.say('Tiếp');
      return c;
    };

    it('answers a question typed mid-flow, then shows the same step again', async () => {
      const c = await atSecondStep();
      const replies = await c.say('cách đặt mật khẩu mạnh cho tài khoản');
      expect(replies).toHaveLength(3);
      expect(replies[0]!.text).toMatch(/mật khẩu/i);
      expect(replies[0]!.text).toMatch(/\n\nNguồn: .+/);
      expect(replies[1]!.text).toBe('Mình tiếp tục hướng dẫn nhé:');
      expect(replies[2]!.text).toBe(stepText(i, 1));
      // Still in the flow.
      const [next] = await c.say('Tiếp');
      expect(next!.text).toBe(stepText(i, 2));
    });

    it('names the nearest entries for an unsure question typed mid-flow, and stays in the flow', async () => {
      const replies = await (await atSecondStep()).say('làm lại bằng tốt nghiệp online ở đâu');
      expect(replies).toHaveLength(3);
      expect(replies[0]!.text).toMatch(
        /^Câu này mình chưa chắc đã hiểu đúng ý bạn\. Có thể bạn muốn hỏi:\n- /,
      );
      expect(replies[0]!.text).not.toMatch(/Nguồn:/);
      expect(replies[2]!.text).toBe(stepText(i, 1));
    });
  });

  it('walks to the last step and finishes with "Xong"', async () => {
    const flow = flows[0]!;
    const c = new TestChat(bot.assistant);
    await c.say(`${FLOW_BUTTON_PREFIX}${flow.title}`);
    let last = { text: '', buttons: [] as string[] };
    for (let s = 1; s < flow.steps.length; s++) [last] = (await c.say('Tiếp')) as [typeof last];
    expect(last.text).toBe(stepText(0, flow.steps.length - 1));
    expect(last.buttons).toEqual(['Xong', 'Quay lại']);
    const [done] = await c.say('Xong');
    expect(done!.text).toContain(`Bạn đã đi hết các bước "${flow.title}"`);
    expect(done!.buttons).toEqual(['Gặp tổ công nghệ số']);
  });

  it('starts a flow from one of its trigger phrases typed without diacritics', async () => {
    const flow = flows.find((f) => f.triggers.some((t) => !/[^\x00-\x7F]/.test(t)))!;
    const trigger = flow.triggers.find((t) => !/[^\x00-\x7F]/.test(t))!;
    const [first] = await new TestChat(bot.assistant).say(trigger);
    expect(first!.text.startsWith(`Hướng dẫn từng bước: ${flow.title}`)).toBe(true);
  });

  it('lets "gặp tổ công nghệ số" leave a flow for the team', async () => {
    const c = new TestChat(bot.assistant);
    await c.say(`${FLOW_BUTTON_PREFIX}${flows[1]!.title}`);
    const replies = await c.say('gặp tổ công nghệ số');
    expect(replies.at(-1)!.text).toMatch(/Bạn muốn hỏi Tổ công nghệ số cộng đồng điều gì/);
  });
});
