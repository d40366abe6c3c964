/**
 * Many FAQ entries open with the verdict of the yes/no question they were written for: "Được.",
 * "Có.", "Không.", "Chưa.". The same entry also answers how-to and either-or questions ("kết quả
 * gửi về bưu điện hay phải lên lấy?"), where a bare "Được." answers nothing that was asked and
 * reads as a yes to the wrong thing. So the bare verdict is kept only when the question asks
 * yes or no. A verdict with its condition ("Được, nếu bạn có tài khoản mức 2") is always kept.
 */

/** The ways a yes/no question is closed ("không", "ko", "hông", "hok"…), on folded words. */
const NOT = '(?:khong|ko|k|kg|khg|hong|hok|hem|hk)';
/** Particles that may follow it: "được không ạ", "có phải không vậy". */
const TAIL = '(?: (?:a|ad|vay|z|nhe|nha|nhi|ta|the|ha|ban|em|anh|chi|ak|ah))*';

const YES_NO = new RegExp(
  [
    // "có … không", "được không", "phải không", "nên … không", "bị … không", "có … chưa"
    `\\b(?:co|duoc|dc|phai|nen|can|bi|da|la) (?:[a-z0-9]+ ){0,20}?(?:${NOT}|chua)\\b`,
    // "… không?" at the end, "đã duyệt chưa", "ký trên điện thoại được ạ", "dc hả"
    `\\b(?:${NOT}|chua|duoc|dc)${TAIL}$`,
    `\\b(?:duoc|dc) (?:ha|ak|ah)\\b`,
    // "có phải …", "liệu …", "được chứ"
    `\\b(?:co phai|lieu|phai chang)\\b`,
    `\\b(?:duoc|dc|co) chu\\b`,
  ].join('|'),
);

/** True when the question (folded words, see `foldedWords`) asks yes or no. */
export function asksYesOrNo(foldedQuestion: string): boolean {
  return YES_NO.test(foldedQuestion);
}

const BARE_VERDICT = /^(?:Được|Có|Không|Chưa|Đúng|Không được)\.\s+(?=\S)/u;

/** `body` without its opening bare verdict when the question asked no yes/no. */
export function withoutUnaskedVerdict(foldedQuestion: string, body: string): string {
  if (!BARE_VERDICT.test(body) || asksYesOrNo(foldedQuestion)) return body;
  return body.replace(BARE_VERDICT, '');
}
