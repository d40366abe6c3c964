import { TurnContext } from 'botbuilder';
import { ComponentDialog, TextPrompt, WaterfallDialog, type WaterfallStepContext } from 'botbuilder-dialogs';
import { redactPii } from '../src/privacy/redact.js';
import type { UnansweredQuestion } from '../src/unanswered/unansweredLog.js';
import type { DialogServices } from './dialogServices.js';
import { isNo } from './intents.js';
import { emptyConversation } from './state.js';

export const FORWARD_DIALOG = 'forwardDialog';
const QUESTION_PROMPT = 'forwardQuestionPrompt';
const COMMUNE_PROMPT = 'forwardCommunePrompt';

export interface ForwardOptions {
  question?: string;
  reason: UnansweredQuestion['reason'];
  confidence?: number;
  sources?: UnansweredQuestion['sources'];
  topic?: string;
}

/**
 * Hands a question to the commune's community digital technology team: asks for the question
 * if there is none, for the xã/phường the first time, stores it durably, and only then tells the
 * citizen it was forwarded.
 */
export class ForwardDialog extends ComponentDialog {
  constructor(private readonly services: DialogServices) {
    super(FORWARD_DIALOG);
    this.addDialog(new TextPrompt(QUESTION_PROMPT));
    this.addDialog(
      new TextPrompt(COMMUNE_PROMPT, async (prompt) => {
        const value = prompt.recognized.value?.trim() ?? '';
        if (value.length >= 2 && value.length <= 120) return true;
        if (prompt.attemptCount < 3) {
          await prompt.context.sendActivity(
            'Bạn gõ giúp mình tên xã/phường nhé, ví dụ: "phường Vị Thanh" hoặc "xã Long Mỹ".',
          );
          return false;
        }
        return true;
      }),
    );
    this.addDialog(
      new WaterfallDialog(`${FORWARD_DIALOG}.steps`, [
        this.questionStep.bind(this),
        this.communeStep.bind(this),
        this.storeStep.bind(this),
      ]),
    );
    this.initialDialogId = `${FORWARD_DIALOG}.steps`;
  }

  private async questionStep(step: WaterfallStepContext) {
    const options = step.options as ForwardOptions;
    if (options.question) return step.next(options.question);
    return step.prompt(QUESTION_PROMPT, {
      prompt:
        'Bạn muốn hỏi Tổ công nghệ số cộng đồng điều gì? Bạn gõ câu hỏi vào đây, mình sẽ chuyển nguyên văn cho tổ nhé.',
    });
  }

  private async communeStep(step: WaterfallStepContext) {
    (step.values as { question?: string }).question = String(step.result ?? '');
    const profile = await this.services.userProfile.get(step.context, {});
    if (profile.commune) return step.next(profile.commune);
    return step.prompt(COMMUNE_PROMPT, {
      prompt:
        'Bạn đang ở xã/phường nào (và tỉnh/thành phố nào)? Mình cần biết để chuyển đúng Tổ công nghệ số cộng đồng nơi bạn ở. Mình sẽ nhớ để lần sau không hỏi lại.',
    });
  }

  private async storeStep(step: WaterfallStepContext) {
    const options = step.options as ForwardOptions;
    const profile = await this.services.userProfile.get(step.context, {});
    const answer = String(step.result ?? '').trim();
    const commune =
      profile.commune ?? (isNo(answer) || !answer ? undefined : redactPii(answer).text.slice(0, 120));
    if (commune && !profile.commune) {
      profile.commune = commune;
      await this.services.userProfile.set(step.context, profile);
    }
    const convo = await this.services.conversationData.get(step.context, emptyConversation());
    const activity = step.context.activity;
    try {
      await this.services.unanswered.log({
        text: redactPii((step.values as { question: string }).question).text,
        channel: activity.channelId,
        conversationId: activity.conversation.id,
        userId: activity.from.id,
        reference: TurnContext.getConversationReference(activity),
        commune,
        topic: options.topic ?? convo.lastTopic,
        reason: options.reason,
        confidence: options.confidence,
        sources: options.sources,
        transcript: await this.services.recentTurns.recent(step.context),
      });
    } catch (err) {
      this.services.logger.error({ err }, 'could not store a forwarded question');
      await step.context.sendActivity(
        'Xin lỗi, mình chưa chuyển được câu hỏi do lỗi hệ thống. Bạn vui lòng thử lại sau ít phút, hoặc liên hệ trực tiếp Bộ phận một cửa của Ủy ban nhân dân xã/phường nhé.',
      );
      return step.endDialog({ forwarded: false });
    }
    // Forwarded: a later "gặp người thật" must not send the same question to the team again.
    if (convo.lastUnanswered) {
      convo.lastUnanswered = undefined;
      await this.services.conversationData.set(step.context, convo);
    }
    const where = commune ? ` ${commune}` : '';
    await step.context.sendActivity(
      `Mình đã chuyển câu hỏi của bạn tới Tổ công nghệ số cộng đồng${where}. Khi các thành viên trả lời, câu trả lời sẽ hiện ngay trong cuộc trò chuyện này. Trong lúc chờ, bạn vẫn có thể hỏi mình việc khác.`,
    );
    return step.endDialog({ forwarded: true });
  }
}
