import type { Answer } from '../src/answer/types.js';
import { ComponentDialog, TextPrompt, WaterfallDialog, type WaterfallStepContext } from 'botbuilder-dialogs';
import type { DialogServices } from './dialogServices.js';
import { detectIntent, fold } from './intents.js';
import { answerInContext } from './qnaDialog.js';
import { withButtons } from './replies.js';
import { emptyConversation } from './state.js';

export const GUIDED_FLOW_DIALOG = 'guidedFlowDialog';
const STEP_PROMPT = 'guidedFlowStepPrompt';
const NEXT = 'Tiếp';
const BACK = 'Quay lại';
const STOP = 'Dừng';
const DONE = 'Xong';

export interface GuidedFlowOptions {
  flowId: string;
  index?: number;
}

/**
 * A step-by-step walkthrough defined as data (knowledge/flows/*.yaml): one step at a time with
 * "Tiếp", "Quay lại", "Dừng"; a question typed mid-flow is answered and the flow resumes.
 */
export class GuidedFlowDialog extends ComponentDialog {
  constructor(private readonly services: DialogServices) {
    super(GUIDED_FLOW_DIALOG);
    this.addDialog(new TextPrompt(STEP_PROMPT));
    this.addDialog(
      new WaterfallDialog(`${GUIDED_FLOW_DIALOG}.steps`, [
        this.showStep.bind(this),
        this.handleStep.bind(this),
      ]),
    );
    this.initialDialogId = `${GUIDED_FLOW_DIALOG}.steps`;
  }

  private async showStep(step: WaterfallStepContext) {
    const { flowId, index = 0 } = step.options as GuidedFlowOptions;
    const flow = this.services.flows.get(flowId);
    if (!flow) {
      await step.context.sendActivity(
        'Xin lỗi, hướng dẫn này hiện không còn. Bạn gõ câu hỏi để mình trả lời nhé.',
      );
      return step.endDialog();
    }
    const s = flow.steps[index]!;
    const last = index === flow.steps.length - 1;
    const intro = index === 0 ? `Hướng dẫn từng bước: ${flow.title}\n\n` : '';
    const buttons = last ? [DONE, ...(index > 0 ? [BACK] : [])] : [NEXT, ...(index > 0 ? [BACK] : []), STOP];
    return step.prompt(STEP_PROMPT, {
      prompt: withButtons(`${intro}Bước ${index + 1}/${flow.steps.length}: ${s.title}\n\n${s.text}`, buttons),
    });
  }

  private async handleStep(step: WaterfallStepContext) {
    const options = step.options as GuidedFlowOptions;
    const index = options.index ?? 0;
    const flow = this.services.flows.get(options.flowId)!;
    const reply = String(step.result ?? '').trim();
    const f = fold(reply);
    if (
      reply === NEXT ||
      reply === DONE ||
      /^(tiep|tiep theo|tiep tuc|next|ok|oke|xong|roi|da xong|lam xong roi|duoc roi)$/.test(f)
    ) {
      if (index + 1 >= flow.steps.length) {
        await step.context.sendActivity(
          withButtons(
            `Bạn đã đi hết các bước "${flow.title}". Chúc bạn làm thành công! Nếu còn vướng, bạn cứ hỏi mình hoặc gặp Tổ công nghệ số cộng đồng nhé.`,
            ['Gặp tổ công nghệ số'],
          ),
        );
        return step.endDialog();
      }
      return step.replaceDialog(this.id, { flowId: flow.id, index: index + 1 });
    }
    if (reply === BACK || /^(quay lai|lui lai|tro lai|back|buoc truoc)$/.test(f)) {
      return step.replaceDialog(this.id, { flowId: flow.id, index: Math.max(0, index - 1) });
    }
    if (reply === STOP || /^(dung|dung lai|thoi|huy|thoat|stop|ket thuc|khong can nua)$/.test(f)) {
      await step.context.sendActivity('Mình đã dừng hướng dẫn. Bạn muốn hỏi gì thêm cứ nhắn nhé.');
      return step.endDialog();
    }
    const intent = detectIntent(reply);
    if (intent.kind === 'handoff' || intent.kind === 'restart' || intent.kind === 'menu')
      return step.endDialog({ reroute: true });
    if (intent.kind === 'question') {
      // A question mid-flow: answer it, then resume at the same step.
      const convo = await this.services.conversationData.get(step.context, emptyConversation());
      const answer = await answerInContext(this.services, `${reply}`, {
        ...convo,
        lastQuestion: flow.title,
        lastAnswer: undefined,
      });
      await step.context.sendActivity(midFlowReply(answer));
      await step.context.sendActivity('Mình tiếp tục hướng dẫn nhé:');
    }
    return step.replaceDialog(this.id, { flowId: flow.id, index });
  }
}

/** The reply to a question typed mid-flow; the flow's buttons stay the only ones on screen. */
function midFlowReply(answer: Answer): string {
  if (answer.answered) return answer.text;
  const suggestions = answer.suggestions ?? [];
  if (answer.mode === 'clarify' && suggestions.length) {
    const list = suggestions.map((s) => `- ${s.label}`).join('\n');
    return `Câu này mình chưa chắc đã hiểu đúng ý bạn. Có thể bạn muốn hỏi:\n${list}\nKhi xong hướng dẫn, bạn gõ lại câu đó, hoặc gõ "gặp tổ công nghệ số" để hỏi người thật nhé.`;
  }
  return 'Câu này mình chưa có thông tin chính xác. Khi xong hướng dẫn, bạn có thể gõ "gặp tổ công nghệ số" để hỏi người thật nhé.';
}
