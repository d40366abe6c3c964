/**
 * What opens a reply when the question sounds like a scam: what to do at once after one, or its
 * warning signs while it is on its way. Decided on the accent-folded question, whatever the reply
 * (an answer, "did you mean", or "I don't know").
 */
import { fold } from './intents.js';

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
    // an OTP read out or handed over, told as done ("bảo đọc mã OTP…, bả đọc rồi"); not "nhập
    // OTP rồi mà không được", which is typing it into one's own app
    String.raw`\b(otp|mat khau|mk)\b.*\b(doc|dua|noi|cho) (cho (no|ho|nguoi ta|ong ta|ba ta|ong do|nguoi do) )?(roi|mat roi|xong roi)\b`,
    // a scammer named ("kẻ gian gọi điện…")
    String.raw`\b(ke gian|ke lua dao)\b`,
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

/** What to do at once after a scam, or the warning signs of one on its way, before the reply. */
export function withScamNotice(question: string, text: string): string {
  if (soundsLikeScam(question)) return `${SCAM_SAFETY_STEPS}\n\n${text}`;
  if (soundsLikeScamApproach(question)) return `${SCAM_WARNING_SIGNS}\n\n${text}`;
  return text;
}
