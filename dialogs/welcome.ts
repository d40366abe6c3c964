import type { Activity } from 'botbuilder';
import { TOPIC_MENUS, HANDOFF_BUTTON } from './topics.js';
import { withButtons } from './replies.js';

export const WELCOME_BUTTONS = [
  TOPIC_MENUS['dich-vu-cong'].label,
  TOPIC_MENUS['chu-ky-so'].label,
  TOPIC_MENUS['thanh-toan'].label,
  HANDOFF_BUTTON,
];

/** The greeting on a new conversation (web chat), a Zalo follow, "menu" and "bắt đầu lại". */
export function welcomeMessage(brandName: string): Partial<Activity> {
  return withButtons(
    [
      `Xin chào! Mình là ${brandName} 👋`,
      'Mình hướng dẫn bạn: dùng dịch vụ công trực tuyến và VNeID, chữ ký số, thanh toán không dùng tiền mặt và cách tránh lừa đảo.',
      'Bạn cứ gõ câu hỏi (có dấu hay không dấu đều được) hoặc chọn một chủ đề bên dưới. Câu nào mình chưa chắc, mình sẽ chuyển cho Tổ công nghệ số cộng đồng trả lời bạn.',
      'Lưu ý: đừng gửi mã OTP, mật khẩu hay số tài khoản cho bất kỳ ai, kể cả mình.',
    ].join('\n\n'),
    WELCOME_BUTTONS,
  );
}
