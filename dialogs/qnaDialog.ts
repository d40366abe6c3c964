import { ComponentDialog, TextPrompt, WaterfallDialog, type WaterfallStepContext } from 'botbuilder-dialogs';
import { CLARIFY_INTRO } from '../src/answer/answerService.js';
import type { Answer, AnswerSuggestion } from '../src/answer/types.js';
import { FLOW_BUTTON_PREFIX } from '../src/flows/flowLibrary.js';
import type { DialogServices } from './dialogServices.js';
import { FORWARD_DIALOG, type ForwardOptions } from './forwardDialog.js';
import { fold, isNo, isYes, looksLikeFollowUp } from './intents.js';
import { withScamNotice } from './scamNotices.js';
import { FEEDBACK_BUTTONS, withButtons } from './replies.js';
import { emptyConversation, type ConversationData } from './state.js';
import { HANDOFF_BUTTON } from './topics.js';

export const QNA_DIALOG = 'qnaDialog';
const OFFER_PROMPT = 'qnaOfferPrompt';
const CLARIFY_PROMPT = 'qnaClarifyPrompt';
const YES = 'Có, chuyển giúp mình';
const NO = 'Không cần';
/** The last button of a "did you mean" question. */
export const NONE_OF_THESE = 'Không phải các câu trên';
/** A follow-up leans on the previous question only if that was recent. */
const FOLLOW_UP_WINDOW_MS = 30 * 60 * 1000;

export interface QnaOptions {
  question: string;
}

/** Retrieval, then the answer policy; an honest "I don't know" offers the community team. */
export class QnaDialog extends ComponentDialog {
  constructor(private readonly services: DialogServices) {
    super(QNA_DIALOG);
    this.addDialog(new TextPrompt(OFFER_PROMPT));
    this.addDialog(new TextPrompt(CLARIFY_PROMPT));
    this.addDialog(
      new WaterfallDialog(`${QNA_DIALOG}.steps`, [
        this.answerStep.bind(this),
        this.clarifiedStep.bind(this),
        this.offerStep.bind(this),
      ]),
    );
    this.initialDialogId = `${QNA_DIALOG}.steps`;
  }

  private async answerStep(step: WaterfallStepContext) {
    const { question } = step.options as QnaOptions;
    const convo = await this.services.conversationData.get(step.context, emptyConversation());
    const answer = await answerInContext(this.services, question, convo);
    convo.lastQuestion = question;
    convo.lastTopic = answer.topic ?? convo.lastTopic;
    convo.lastUnanswered = answer.answered ? undefined : question;
    if (answer.answered) {
      await sendAnswer(step, this.services, answer, question, convo);
      return step.endDialog();
    }
    const values = step.values as QnaValues;
    values.forward = {
      question,
      reason: 'not_answered',
      confidence: answer.confidence,
      topic: answer.topic ?? convo.lastTopic,
      sources: answer.retrieval.hits
        .slice(0, 3)
        .map((h) => ({ title: h.chunk.title, file: h.chunk.docId, score: h.score })),
    } satisfies ForwardOptions;
    if (answer.mode === 'clarify' && answer.suggestions?.length) {
      // Asked with the words retrieval used: a follow-up carries the previous question's.
      values.clarify = { question: answer.retrieval.query, suggestions: answer.suggestions };
      // The suggestions go on buttons (Zalo numbers them): the text does not list them again.
      const text = `${CLARIFY_INTRO}\n\nBạn bấm chọn câu đúng nhé. Nếu không phải, bạn bấm "${NONE_OF_THESE}" hoặc gõ lại câu hỏi rõ hơn.`;
      return step.prompt(CLARIFY_PROMPT, {
        prompt: withButtons(withScamNotice(question, text), [
          ...answer.suggestions.map((s) => s.label),
          NONE_OF_THESE,
        ]),
      });
    }
    return step.prompt(OFFER_PROMPT, { prompt: offerPrompt(withScamNotice(question, answer.text)) });
  }

  /** After "did you mean": the chosen entry's answer, or the offer of the community team. */
  private async clarifiedStep(step: WaterfallStepContext) {
    const { clarify } = step.values as QnaValues;
    if (!clarify) return step.next(step.result);
    const reply = String(step.result ?? '');
    const chosen = chosenSuggestion(reply, clarify.suggestions);
    if (chosen) {
      const answer = await this.services.answers.answerChosen(clarify.question, chosen.chunkId);
      // The knowledge changed in between: the button's words are asked as a new question.
      if (!answer) return step.endDialog({ reroute: true });
      const convo = await this.services.conversationData.get(step.context, emptyConversation());
      convo.lastUnanswered = undefined;
      convo.lastTopic = answer.topic ?? convo.lastTopic;
      const { question } = step.options as QnaOptions;
      await sendAnswer(step, this.services, answer, question, convo);
      return step.endDialog();
    }
    if (reply === NONE_OF_THESE || isNo(reply)) {
      return step.prompt(OFFER_PROMPT, {
        prompt: offerPrompt('Dạ, vậy mình chưa có sẵn câu trả lời cho câu hỏi của bạn.'),
      });
    }
    return step.endDialog({ reroute: true });
  }

  private async offerStep(step: WaterfallStepContext) {
    const reply = String(step.result ?? '');
    if (reply === YES || isYes(reply))
      return step.replaceDialog(FORWARD_DIALOG, (step.values as QnaValues).forward);
    if (reply === NO || isNo(reply)) {
      await step.context.sendActivity(
        'Dạ vâng. Bạn có thể hỏi mình câu khác, hoặc gõ "gặp tổ công nghệ số" bất cứ lúc nào nhé.',
      );
      return step.endDialog();
    }
    // Something else: a new question. The main dialog routes it.
    return step.endDialog({ reroute: true });
  }
}

interface QnaValues {
  forward?: ForwardOptions;
  clarify?: { question: string; suggestions: AnswerSuggestion[] };
}

function offerPrompt(text: string) {
  return withButtons(
    `${text}\n\nBạn có muốn mình chuyển câu hỏi này tới Tổ công nghệ số cộng đồng ở xã/phường của bạn không? Các thành viên sẽ trả lời bạn ngay trong cuộc trò chuyện này.`,
    [YES, NO],
  );
}

/** The suggestion a reply picks: its button, its words, or its number ("1", "câu 2", "số 3"). */
export function chosenSuggestion(
  reply: string,
  suggestions: readonly AnswerSuggestion[],
): AnswerSuggestion | undefined {
  const folded = fold(reply);
  if (!folded) return undefined;
  const byLabel = suggestions.find((s) => fold(s.label) === folded);
  if (byLabel) return byLabel;
  const number = /^(?:(?:cau|so|chon|y|muc)\s*)?([1-9])$/.exec(folded)?.[1];
  return number ? suggestions[Number(number) - 1] : undefined;
}

/**
 * Answers a question, using the previous question as context when this one leans on it
 * ("còn lệ phí thì sao?").
 */
export async function answerInContext(
  services: DialogServices,
  question: string,
  convo: ConversationData,
): Promise<Answer> {
  // Without an answer to date it (the last question went unanswered), the question is this session's.
  const recent = !convo.lastAnswer || Date.now() - Date.parse(convo.lastAnswer.at) < FOLLOW_UP_WINDOW_MS;
  const previous = recent ? convo.lastQuestion : undefined;
  if (previous && looksLikeFollowUp(question)) {
    const inContext = await services.answers.answer({ question, previousQuestion: previous });
    // The previous question's words can outweigh the new ones ("còn lệ phí thì sao?"): an answer
    // that repeats the passage just shown does not answer the follow-up, so try it on its own.
    const repeats =
      Boolean(convo.lastAnswer?.chunkId) &&
      inContext.retrieval.hits[0]?.chunk.id === convo.lastAnswer?.chunkId;
    if (inContext.answered && !repeats) return inContext;
    if (inContext.answered) {
      const alone = await services.answers.answer({ question });
      return alone.answered ? alone : inContext;
    }
  }
  return services.answers.answer({ question });
}

/** Sends an answer with its sources, feedback buttons and a related guided flow, and remembers it. */
export async function sendAnswer(
  step: WaterfallStepContext,
  services: DialogServices,
  answer: Answer,
  question: string,
  convo: ConversationData,
): Promise<void> {
  const best = answer.retrieval.hits[0];
  // An FAQ entry offers the flow of the guide it condenses.
  const flow = best
    ? (services.flows.relatedTo(best.chunk.docId) ??
      (best.chunk.source ? services.flows.relatedTo(best.chunk.source) : undefined))
    : undefined;
  const buttons: string[] = [...FEEDBACK_BUTTONS];
  if (flow) buttons.push(`${FLOW_BUTTON_PREFIX}${flow.title}`);
  buttons.push(HANDOFF_BUTTON);
  const text = withScamNotice(question, answer.text);
  await step.context.sendActivity(withButtons(text, buttons));
  convo.lastAnswer = {
    id: answer.id,
    question,
    sources: answer.sources,
    chunkId: best?.chunk.id,
    at: new Date().toISOString(),
  };
  await services.conversationData.set(step.context, convo);
}
