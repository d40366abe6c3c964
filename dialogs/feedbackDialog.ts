import { ComponentDialog, TextPrompt, WaterfallDialog, type WaterfallStepContext } from 'botbuilder-dialogs';
import { redactPii } from '../src/privacy/redact.js';
import type { DialogServices } from './dialogServices.js';
import { FORWARD_DIALOG, type ForwardOptions } from './forwardDialog.js';
import { detectIntent, fold } from './intents.js';
import { withButtons } from './replies.js';
import { emptyConversation } from './state.js';
import { HANDOFF_BUTTON } from './topics.js';

export const FEEDBACK_DIALOG = 'feedbackDialog';
const REASON_PROMPT = 'feedbackReasonPrompt';
const SKIP = 'Bỏ qua';
/** Declining to give a reason; "không đúng…" or "không có số tiền" is a reason, not a refusal. */
const NO_REASON =
  /^(khong|ko|k|no|thoi|khoi|bo qua|de sau|khong can|khong can dau|khong co gi|khong sao)( a| nhe| nha| ban)?$/;

/** 👍/👎 on the last answer; 👎 asks for an optional reason. Stored with the answer and its sources. */
export class FeedbackDialog extends ComponentDialog {
  constructor(private readonly services: DialogServices) {
    super(FEEDBACK_DIALOG);
    this.addDialog(new TextPrompt(REASON_PROMPT));
    this.addDialog(
      new WaterfallDialog(`${FEEDBACK_DIALOG}.steps`, [
        this.recordStep.bind(this),
        this.reasonStep.bind(this),
      ]),
    );
    this.initialDialogId = `${FEEDBACK_DIALOG}.steps`;
  }

  private async recordStep(step: WaterfallStepContext) {
    const { helpful } = step.options as { helpful: boolean };
    const convo = await this.services.conversationData.get(step.context, emptyConversation());
    const last = convo.lastAnswer;
    if (!last) {
      await step.context.sendActivity('Cảm ơn bạn! Bạn cứ gõ câu hỏi, mình sẵn sàng giúp.');
      return step.endDialog();
    }
    const id = await this.services.feedback.record({
      answerId: last.id,
      helpful,
      question: last.question,
      sources: last.sources.map(({ title, file, section }) => ({ title, file, section })),
      channel: step.context.activity.channelId,
      conversationId: step.context.activity.conversation.id,
    });
    if (helpful) {
      await step.context.sendActivity('Cảm ơn bạn đã phản hồi! Bạn cần hỏi thêm gì cứ nhắn cho mình nhé.');
      return step.endDialog();
    }
    (step.values as { feedbackId?: string }).feedbackId = id;
    return step.prompt(REASON_PROMPT, {
      prompt: withButtons(
        'Cảm ơn bạn đã cho biết. Câu trả lời chưa đúng hay chưa đủ ở chỗ nào? Bạn gõ vài chữ để mình cải thiện, hoặc bấm "Bỏ qua".',
        [SKIP, HANDOFF_BUTTON],
      ),
    });
  }

  private async reasonStep(step: WaterfallStepContext) {
    const text = String(step.result ?? '').trim();
    if (detectIntent(text).kind === 'handoff') {
      const convo = await this.services.conversationData.get(step.context, emptyConversation());
      const options: ForwardOptions = { question: convo.lastAnswer?.question, reason: 'not_answered' };
      return step.replaceDialog(FORWARD_DIALOG, options);
    }
    if (!text || text === SKIP || NO_REASON.test(fold(text))) {
      await step.context.sendActivity('Dạ, cảm ơn bạn.');
      return step.endDialog();
    }
    await this.services.feedback.addReason(
      (step.values as { feedbackId: string }).feedbackId,
      redactPii(text).text.slice(0, 1000),
    );
    await step.context.sendActivity(
      withButtons(
        'Cảm ơn bạn, mình đã ghi nhận góp ý để các cán bộ rà soát. Nếu cần người thật giúp ngay, bạn bấm "Gặp tổ công nghệ số".',
        [HANDOFF_BUTTON],
      ),
    );
    return step.endDialog();
  }
}
