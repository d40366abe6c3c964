import type { StatePropertyAccessor, TurnContext } from 'botbuilder';
import {
  ComponentDialog,
  DialogSet,
  DialogTurnStatus,
  WaterfallDialog,
  type DialogContext,
  type DialogState,
  type DialogTurnResult,
  type WaterfallStepContext,
} from 'botbuilder-dialogs';
import { markdownToChatText, truncateForPhone } from '../src/answer/plainText.js';
import type { DialogServices } from './dialogServices.js';
import { FEEDBACK_DIALOG, FeedbackDialog } from './feedbackDialog.js';
import { FORWARD_DIALOG, ForwardDialog, type ForwardOptions } from './forwardDialog.js';
import { GUIDED_FLOW_DIALOG, GuidedFlowDialog } from './guidedFlowDialog.js';
import { detectIntent, type OutOfScopeCategory } from './intents.js';
import { QNA_DIALOG, QnaDialog, type QnaOptions } from './qnaDialog.js';
import { withButtons } from './replies.js';
import { emptyConversation } from './state.js';
import { HANDOFF_BUTTON, TOPIC_MENUS } from './topics.js';
import { WELCOME_BUTTONS, welcomeMessage } from './welcome.js';

export const MAIN_DIALOG = 'mainDialog';
/**
 * The turn-state key under which botbuilder-dialogs' DialogStateManager keeps its configuration
 * (memory scopes and path resolvers) for the turn (memory/dialogStateManager.js).
 */
const STATE_MANAGER_CONFIGURATION = 'DialogStateManagerConfiguration';
/** Retrieval confidence above which a message that looked out of scope is answered anyway. */
export const OUT_OF_SCOPE_OVERRIDE = 0.75;
const ROUTE = `${MAIN_DIALOG}.route`;

export const OWN_DOSSIER_TEXT =
  'Mình là trợ lý tự động nên không xem được hồ sơ của riêng bạn. Bạn tự tra cứu được bằng mã hồ sơ, mình hướng dẫn nhé:';
/** Asked for the citizen who wants their own dossier checked: the knowledge's way to track one. */
const TRACK_DOSSIER_QUESTION = 'Làm sao xem hồ sơ dịch vụ công đã nộp đến đâu rồi?';

const OUT_OF_SCOPE_TEXT: Record<OutOfScopeCategory, string> = {
  weather: 'thời tiết',
  prices: 'giá cả, tỷ giá hay lãi suất',
  lottery: 'xổ số',
  medical: 'sức khỏe, bệnh và thuốc (bạn nên hỏi bác sĩ hoặc trạm y tế)',
  legal: 'tư vấn pháp lý, tranh chấp (bạn nên hỏi Ủy ban nhân dân xã/phường hoặc luật sư)',
  entertainment: 'giải trí',
  politics: 'chính trị, thời sự',
  jobs: 'tuyển dụng, việc làm',
  hacking: 'truy cập tài khoản của người khác (việc này có thể vi phạm pháp luật)',
  contacts: 'thông tin liên lạc riêng của cán bộ (bạn hỏi trực tiếp Ủy ban nhân dân xã/phường nhé)',
};

/**
 * The router: greetings, thanks and small talk answered briefly; menu and restart; a wish to talk
 * to a person goes to the team; feedback, topics and guided flows; everything else to Q&A.
 */
export class MainDialog extends ComponentDialog {
  constructor(private readonly services: DialogServices) {
    super(MAIN_DIALOG);
    this.addDialog(new QnaDialog(services));
    this.addDialog(new ForwardDialog(services));
    this.addDialog(new FeedbackDialog(services));
    this.addDialog(new GuidedFlowDialog(services));
    this.addDialog(new WaterfallDialog(ROUTE, [this.routeStep.bind(this), this.afterChildStep.bind(this)]));
    this.initialDialogId = ROUTE;
  }

  /**
   * The dialog state manager's configuration, built by botbuilder on the first turn and reused
   * afterwards, as DialogManager reuses its `stateConfiguration`: building it makes a fresh set of
   * memory scopes through the component registry on every turn.
   */
  private stateConfiguration: unknown;

  /** Runs the dialog stack for one incoming message. */
  async run(context: TurnContext, dialogState: StatePropertyAccessor<DialogState>): Promise<void> {
    const dialogSet = new DialogSet(dialogState);
    dialogSet.add(this);
    if (this.stateConfiguration) context.turnState.set(STATE_MANAGER_CONFIGURATION, this.stateConfiguration);
    const dc = await dialogSet.createContext(context);
    this.stateConfiguration ??= context.turnState.get(STATE_MANAGER_CONFIGURATION);
    const result = await dc.continueDialog();
    if (result.status === DialogTurnStatus.empty) await dc.beginDialog(this.id);
  }

  /** Commands that interrupt whatever dialog is waiting for an answer. */
  protected override async onContinueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const text = dc.context.activity.text ?? '';
    const intent = detectIntent(text);
    if (intent.kind === 'restart' || intent.kind === 'menu') {
      await dc.cancelAllDialogs();
      if (intent.kind === 'restart') await this.forget(dc.context);
      await dc.context.sendActivity(welcomeMessage(this.services.brandName));
      return { status: DialogTurnStatus.complete };
    }
    const waiting = dc.activeDialog?.id;
    if (intent.kind === 'handoff' && waiting !== FORWARD_DIALOG && waiting !== FEEDBACK_DIALOG) {
      await dc.cancelAllDialogs();
      return dc.beginDialog(this.id);
    }
    return super.onContinueDialog(dc);
  }

  /** "Bắt đầu lại": the conversation's memory and its recent lines are forgotten. */
  private async forget(context: TurnContext): Promise<void> {
    await this.services.conversationData.set(context, emptyConversation());
    await this.services.recentTurns.clear(context);
  }

  private async routeStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const text = (step.context.activity.text ?? '').trim();
    const intent = detectIntent(text);
    const say = (t: string, buttons?: string[]) => step.context.sendActivity(withButtons(t, buttons));
    switch (intent.kind) {
      case 'greeting':
        await say(
          'Chào bạn! Mình có thể giúp gì cho bạn hôm nay? Bạn gõ câu hỏi hoặc chọn một chủ đề nhé.',
          WELCOME_BUTTONS,
        );
        return step.endDialog();
      case 'thanks':
        await say('Không có gì ạ! Khi cần, bạn cứ nhắn cho mình nhé. Chúc bạn một ngày tốt lành.');
        return step.endDialog();
      case 'smalltalk':
        await say(intent.reply);
        return step.endDialog();
      case 'menu':
      case 'restart':
        if (intent.kind === 'restart') await this.forget(step.context);
        await step.context.sendActivity(welcomeMessage(this.services.brandName));
        return step.endDialog();
      case 'handoff': {
        const convo = await this.services.conversationData.get(step.context, emptyConversation());
        const options: ForwardOptions = {
          question: convo.lastUnanswered,
          reason: 'handoff',
          topic: convo.lastTopic,
        };
        convo.lastUnanswered = undefined;
        await say(
          'Dạ, mình sẽ chuyển bạn tới Tổ công nghệ số cộng đồng, là những người thật ở địa phương hỗ trợ người dân.',
        );
        return step.beginDialog(FORWARD_DIALOG, options);
      }
      case 'feedback':
        return step.beginDialog(FEEDBACK_DIALOG, { helpful: intent.helpful });
      case 'topic': {
        const menu = TOPIC_MENUS[intent.topic];
        await say(menu.intro, [...menu.questions, HANDOFF_BUTTON]);
        return step.endDialog();
      }
      case 'next_step':
        return this.nextPart(step);
      case 'own_dossier':
        // Only the agency handling a dossier sees it; the citizen can look it up with its code.
        await say(OWN_DOSSIER_TEXT);
        return step.beginDialog(QNA_DIALOG, { question: TRACK_DOSSIER_QUESTION } satisfies QnaOptions);
      case 'out_of_scope': {
        // Keywords can mislead ("gọi giả danh tòa án"): a confident answer from the guides wins.
        const attempt = await this.services.answers.answer({ question: text });
        if (attempt.answered && attempt.confidence >= OUT_OF_SCOPE_OVERRIDE)
          return step.beginDialog(QNA_DIALOG, { question: text });
        const convo = await this.services.conversationData.get(step.context, emptyConversation());
        convo.lastUnanswered = text;
        await say(
          `Xin lỗi bạn, câu hỏi về ${OUT_OF_SCOPE_TEXT[intent.category]} nằm ngoài phạm vi của mình. Mình chỉ hướng dẫn về dịch vụ công trực tuyến, VNeID, chữ ký số, thanh toán không dùng tiền mặt và an toàn trên mạng. Nếu bạn vẫn muốn hỏi người thật, bấm "Gặp tổ công nghệ số".`,
          [HANDOFF_BUTTON, ...WELCOME_BUTTONS.slice(0, 3)],
        );
        return step.endDialog();
      }
      case 'vague':
        await say(
          'Bạn cần hướng dẫn về việc gì ạ? Bạn chọn một chủ đề dưới đây, hoặc gõ rõ hơn một chút, ví dụ: "cách kích hoạt VNeID mức 2" hay "đóng học phí qua ngân hàng".',
          WELCOME_BUTTONS,
        );
        return step.endDialog();
      case 'question': {
        const flow = this.services.flows.match(text);
        if (flow) return step.beginDialog(GUIDED_FLOW_DIALOG, { flowId: flow.id, index: 0 });
        return step.beginDialog(QNA_DIALOG, { question: text });
      }
    }
  }

  private async afterChildStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const result = step.result as { reroute?: boolean } | undefined;
    // A child dialog got a message it does not handle (a new question): route it afresh.
    if (result?.reroute) return step.replaceDialog(ROUTE);
    return step.endDialog();
  }

  /** "Bước tiếp theo?": the next part of the guide the last answer came from. */
  private async nextPart(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const convo = await this.services.conversationData.get(step.context, emptyConversation());
    const next = convo.lastAnswer?.chunkId
      ? this.services.knowledge.nextChunk(convo.lastAnswer.chunkId)
      : undefined;
    if (!next) {
      if (convo.lastQuestion)
        return step.beginDialog(QNA_DIALOG, { question: `${convo.lastQuestion} bước tiếp theo` });
      await step.context.sendActivity(
        withButtons(
          'Bạn muốn xem tiếp hướng dẫn nào ạ? Bạn gõ câu hỏi hoặc chọn chủ đề nhé.',
          WELCOME_BUTTONS,
        ),
      );
      return step.endDialog();
    }
    const heading = next.headingPath.at(-1);
    const body = truncateForPhone(markdownToChatText(next.text), 700).text;
    const section = heading ? `, mục "${heading}"` : '';
    await step.context.sendActivity(
      withButtons(`${heading ? `${heading}:\n` : ''}${body}\n\nNguồn: ${next.title}${section}`, [
        'Bước tiếp theo',
        HANDOFF_BUTTON,
      ]),
    );
    convo.lastAnswer = { ...convo.lastAnswer!, chunkId: next.id, at: new Date().toISOString() };
    await this.services.conversationData.set(step.context, convo);
    return step.endDialog();
  }
}
