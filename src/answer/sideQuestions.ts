import { foldedWords } from '../text/vietnamese.js';

/**
 * Citizens often ask a second, smaller thing in the same message: "kích hoạt VNeID sao, có mất phí
 * không?", "nộp hồ sơ xong bao lâu có kết quả?". The passage chosen for the subject answers the how,
 * and usually says nothing about the cost or the time. Left alone, the reply reads as if the bot
 * ignored half the question; guessing would invent fees or deadlines. So when the passage shown does
 * not touch that side, the answer ends with one honest line on where that figure is found.
 */
export type SideQuestionKind = 'cost' | 'duration';

/** "ko", "hok", "hem"…: the ways a yes/no question ends. */
const NOT = '(?:khong|ko|k|kg|khg|hong|hok|hem|hk|ha|chu|nhi)';

/** On folded words (see `foldedWords`: no diacritics, lowercase, canonical "i"/"y"). */
const ASKS: Record<SideQuestionKind, RegExp> = {
  cost: new RegExp(
    [
      // "có mất phí không", "có tốn tiền hàng năm ko", "có thu phí hem", "mất phí ko"
      // ("bị mất tiền không" asks about a loss, not a price)
      `(?<!\\bbi )(?<!\\bbi co )\\b(?:(?:mat|ton|tinh) (?:phi|le phi|tien|dong nao|xu nao)|(?:thu|lay) (?:phi|le phi))(?: [a-z]+){0,3} ${NOT}\\b`,
      // "có phí không", "có miễn phí không", "free ko"
      `\\bco (?:mien )?phi ${NOT}\\b`,
      `\\b(?:mien phi|free) ${NOT}\\b`,
      // "phí bao nhiêu", "lệ phí nhiêu", "hết bao nhiêu tiền", "tốn bao nhiêu"
      `\\bphi (?:bao )?nhieu\\b`,
      `(?<!\\btien )\\b(?:mat|ton|het|tra|dong) (?:bao nhieu|nhieu tien)\\b`,
      `\\bbao nhieu tien\\b`,
      `\\bphi (?:the nao|ra sao|sao)\\b`,
    ].join('|'),
  ),
  duration: new RegExp(
    [
      // "bao lâu", "mấy ngày", "bao nhiêu ngày", "lâu không", "khi nào có kết quả"
      `\\bbao lau\\b`,
      // ("nộp mấy ngày rồi" tells how long it has been)
      `\\b(?:may|bao nhieu) (?:ngay|hom|tuan|thang|tieng)\\b(?! (?:roi|nay|qua))`,
      `\\blau ${NOT}\\b`,
      `\\b(?:khi nao|chung nao|luc nao|bua nao) (?:thi )?(?:co|xong|nhan|duoc)\\b`,
    ].join('|'),
  ),
};

/** Words of a passage that speaks to that side (then no line is added). */
const ANSWERED: Record<SideQuestionKind, RegExp> = {
  cost: /\b(?:phi|mien phi|mat tien|ton tien|bao nhieu tien|so tien tuy)\b/,
  // How long something takes, not any date or deadline ("trong 60 ngày kể từ ngày sinh" is the
  // citizen's deadline, not how long the commune takes).
  duration:
    /\b(?:bao lau|thoi han giai quyet|thoi gian giai quyet|thoi gian xu li|ngay lam viec|trong ngay|ngay lap tuc|vai giay|vai phut)\b/,
};

/** The side questions a citizen's question asks, in a fixed order. */
export function sideQuestionsOf(question: string): SideQuestionKind[] {
  return sideQuestionsIn(foldedWords(question));
}

/** `sideQuestionsOf` for a question already folded (`foldedWords`). */
function sideQuestionsIn(foldedQuestion: string): SideQuestionKind[] {
  return (Object.keys(ASKS) as SideQuestionKind[]).filter((kind) => ASKS[kind].test(foldedQuestion));
}

/** One short line each: the passage stays within ANSWER_MAX_CHARS, the line comes after it. */
const NOTES: Record<SideQuestionKind, Partial<Record<string, string>> & { other: string }> = {
  cost: {
    'dich-vu-cong':
      'Về phí: mức phí, lệ phí (nếu có) ghi trong thông tin của từng thủ tục trên Cổng Dịch vụ công; mình không có con số chính xác.',
    'thanh-toan':
      'Về phí: tùy ngân hàng, ví điện tử; bạn xem biểu phí trong ứng dụng hoặc hỏi ngân hàng cho chắc.',
    'chu-ky-so':
      'Về phí: giá do từng nhà cung cấp chữ ký số quy định; bạn hỏi nhà cung cấp để biết mức cụ thể.',
    other:
      'Về chi phí: tài liệu của mình chưa nói rõ việc này có mất phí không, nên mình không dám trả lời chắc; bạn có thể hỏi Tổ công nghệ số.',
  },
  duration: {
    'chu-ky-so':
      'Về thời gian: tùy nhà cung cấp chữ ký số; bạn hỏi nhà cung cấp qua kênh chính thức cho chắc.',
    'dich-vu-cong':
      'Về thời gian: thời hạn giải quyết tùy từng thủ tục, ghi trong thông tin thủ tục trên Cổng Dịch vụ công hoặc trên giấy hẹn.',
    other:
      'Về thời gian: tài liệu của mình chưa nói rõ việc này mất bao lâu, nên mình không dám hẹn chắc; bạn có thể hỏi Tổ công nghệ số.',
  },
};

/**
 * The lines to add after an answer whose passage (`body`) leaves a side question of the question
 * (given folded, `foldedWords`, as the answer policy folds it once) unanswered, for the topic of
 * the answer's source; empty when there is nothing to add.
 */
export function sideQuestionNotes(foldedQuestion: string, body: string, topic: string | undefined): string[] {
  const asked = sideQuestionsIn(foldedQuestion);
  if (!asked.length) return [];
  const said = foldedWords(body);
  return asked
    .filter((kind) => !ANSWERED[kind].test(said))
    .map((kind) => NOTES[kind][topic ?? 'other'] ?? NOTES[kind].other);
}
