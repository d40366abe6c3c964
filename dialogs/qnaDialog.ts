import { ComponentDialog, TextPrompt, WaterfallDialog, type WaterfallStepContext } from 'botbuilder-dialogs';
import { CLARIFY_INTRO } from '../src/answer/answerService.js';
import type { Answer, AnswerSuggestion } from '../src/answer/types.js';
import { FLOW_BUTTON_PREFIX } from '../src/flows/flowLibrary.js';
import type { DialogServices } from './dialogServices.js';
import { FORWARD_DIALOG, type ForwardOptions } from './forwardDialog.js';
import { fold, isNo, isYes, looksLikeFollowUp } from './intents.js';
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

/**
 * A scam named, or what a citizen does or sees when caught by one: a link opened, a password or an
 * OTP given away, an app installed from a stranger, a phone taken over, an account emptied (on
 * folded text).
 */
const SCAM = new RegExp(
  [
    // "mất tiền" alone is also "costs money" ("có mất tiền không"): only a loss counts
    String.raw`\b(lua dao|bi lua|lua tien|bi mat tien|mat het tien|mat tien roi|chiem doat|gia danh|gia mao|bi hack|bi chiem tai khoan)\b`,
    String.raw`\b(bi rut het|bi rut sach|bi dieu khien|bi chiem quyen)\b`,
    String.raw`\b(lo|da|vua|moi) (bam|nhan|an|click|mo) (vao )?(link|duong link|duong dan)\b`,
    String.raw`\b(lo|da|vua) (doc|dua|gui|nhap) (ma )?(otp|mat khau|mk)\b`,
    String.raw`\b(lo|da|vua) cai (app|ung dung|file)\b.*\b(la|nguoi ta gui|theo link)\b`,
  ].join('|'),
);
const LINK = /\b(link|duong link|duong dan)\b/;
const TYPED = /\b(nhap|dien|khai|gui)\b/;
const SECRET = /\b(the|otp|mat khau|mk|so tai khoan|stk)\b/;
const DONE = /\b(lo|da|vua|roi)\b/;

/**
 * Card details, a password or an OTP typed into a link, once done ("lỡ", "đã", "vừa", "rồi"): in
 * that order, found with one pass each (a long message costs no backtracking).
 */
function gaveDetailsToLink(folded: string): boolean {
  const link = LINK.exec(folded);
  if (!link || !DONE.test(folded)) return false;
  const afterLink = folded.slice(link.index);
  const typed = TYPED.exec(afterLink);
  return typed !== null && SECRET.test(afterLink.slice(typed.index));
}

/** An app installed or a link opened, then told as done: "qua link họ gửi, tui cài rồi". */
const DONE_AFTER_LINK = /\b(cai|tai|bam|nhan|mo)( app| ung dung| vao| no)? (roi|xong)\b/;

function actedOnLink(folded: string): boolean {
  const link = LINK.exec(folded);
  return link !== null && DONE_AFTER_LINK.test(folded.slice(link.index));
}

/**
 * Asking whether one could be scammed ("có bị lừa kiểu gì không", "sợ bị lừa", "cho khỏi bị lừa")
 * is not telling a scam. ("lo" is also "lỡ", so it is not among them.)
 */
const RISK_QUESTION =
  /\b(co the|co|de|se|lieu co|so|ngai|tranh|khoi) bi (lua|mat tien)\b|\bbi (lua|mat tien) (kieu gi|khong|ko|hong|hok|k|chu)\b/g;

/** True when a question sounds like a scam, named or told (see SCAM and gaveDetailsToLink). */
function soundsLikeScam(question: string): boolean {
  const folded = fold(question).replace(RISK_QUESTION, ' ');
  return SCAM.test(folded) || gaveDetailsToLink(folded) || actedOnLink(folded);
}

/**
 * The approach before the scam: someone passing for an official, a bank or the power company
 * ("tự xưng cán bộ thuế", "mạo danh công an") wanting a link opened, an app installed, money or a
 * code; or an app to install from a link sent to the citizen (on folded text).
 */
const POSING =
  /\b(tu xung|xung la|xung danh|mao danh|tu nhan la|gia lam)\b|\bxung (cong an|can bo|nhan vien|ngan hang|dien luc|thue|bhxh|bao hiem|to cong nghe so|toa an|vien kiem sat|buu dien)\b/;
const WANTS =
  /\b(link|duong link|duong dan|cai (app|ung dung|dat)|tai (app|ung dung)|chuyen (tien|khoan)|otp|ma xac (thuc|nhan)|mat khau|cap nhat thong tin|dinh danh lai)\b/;
const LINK_TO_INSTALL =
  /\b(gui|nhan|kem) (cho )?(toi |tui |minh |em )?(link|duong link|duong dan) (cai|tai|cap nhat)|\blink cai dat\b|\bcai (app|ung dung) (theo|qua|tu|bang) (link|duong link|duong dan)\b/;

/** A message with a link to open, and the citizen asking whether it is genuine. */
const CLICK_LINK = /\b(bam|nhan|click|truy cap|vao) (vao )?(link|duong link|duong dan)\b/;
const IS_IT_REAL =
  /\b(co phai|phai) (that|thiet|lua)\b|\b(that|thiet) (khong|ko|hong|hok|k)\b|\b(co nen|nen) (bam|nhan|vao|lam)\b/;

function soundsLikeScamApproach(question: string): boolean {
  const folded = fold(question);
  return (
    (POSING.test(folded) && WANTS.test(folded)) ||
    LINK_TO_INSTALL.test(folded) ||
    (CLICK_LINK.test(folded) && IS_IT_REAL.test(folded))
  );
}

export const SCAM_WARNING_SIGNS =
  '⚠️ Đây là dấu hiệu lừa đảo thường gặp: người tự xưng công an, cán bộ thuế, ngân hàng, điện lực… nhắn tin hay gọi điện bắt bấm đường link, cài ứng dụng, chuyển tiền hoặc đọc mã OTP. Bạn đừng bấm, đừng cài, đừng chuyển tiền; hãy tự liên hệ lại cơ quan đó qua số điện thoại hoặc địa chỉ chính thức để hỏi cho chắc.';

export const SCAM_SAFETY_STEPS =
  '⚠️ Nếu bạn vừa bị lừa hoặc nghi bị lừa, hãy làm ngay:\n1. Gọi ngay ngân hàng (số tổng đài in trên thẻ hoặc trong ứng dụng chính thức) để khóa tài khoản, thẻ.\n2. Không chuyển thêm tiền, không đọc mã OTP hay mật khẩu cho bất kỳ ai.\n3. Báo công an nơi gần nhất (khẩn cấp gọi 113) và giữ lại tin nhắn, số điện thoại, biên lai chuyển tiền.';

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
        prompt: withButtons(withSafetySteps(question, text), [
          ...answer.suggestions.map((s) => s.label),
          NONE_OF_THESE,
        ]),
      });
    }
    return step.prompt(OFFER_PROMPT, { prompt: offerPrompt(withSafetySteps(question, answer.text)) });
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

/** A question that sounds like a scam, answered or not, opens with what to do right away. */
/** What to do at once after a scam, or the warning signs of one on its way, before the reply. */
function withSafetySteps(question: string, text: string): string {
  if (soundsLikeScam(question)) return `${SCAM_SAFETY_STEPS}\n\n${text}`;
  if (soundsLikeScamApproach(question)) return `${SCAM_WARNING_SIGNS}\n\n${text}`;
  return text;
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
  const text = withSafetySteps(question, answer.text);
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
