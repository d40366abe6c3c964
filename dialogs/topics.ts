import type { TopicId } from './intents.js';

/** The assistant's three topics (plus online safety), with starter questions shown as buttons. */
export const TOPIC_MENUS: Record<TopicId, { label: string; intro: string; questions: string[] }> = {
  'dich-vu-cong': {
    label: 'Dịch vụ công trực tuyến',
    intro:
      'Về dịch vụ công trực tuyến, bạn muốn hỏi việc nào? Bạn chọn bên dưới hoặc gõ câu hỏi của mình nhé.',
    questions: [
      'Cổng Dịch vụ công quốc gia là gì?',
      'Đăng nhập Cổng Dịch vụ công bằng VNeID thế nào?',
      'Cách nộp hồ sơ trực tuyến',
      'Tra cứu hồ sơ đã nộp ở đâu?',
      'Kích hoạt tài khoản VNeID mức 2',
    ],
  },
  'chu-ky-so': {
    label: 'Chữ ký số',
    intro: 'Về chữ ký số, bạn muốn biết điều gì? Bạn chọn bên dưới hoặc gõ câu hỏi nhé.',
    questions: [
      'Chữ ký số là gì?',
      'Đăng ký chữ ký số thế nào?',
      'Ký số từ xa trên điện thoại',
      'Dùng chữ ký số trên dịch vụ công',
      'Giữ an toàn cho chữ ký số',
    ],
  },
  'thanh-toan': {
    label: 'Thanh toán không dùng tiền mặt',
    intro: 'Về thanh toán không dùng tiền mặt, bạn cần hướng dẫn việc nào?',
    questions: [
      'Mở tài khoản ngân hàng trên điện thoại',
      'Chuyển tiền bằng mã VietQR',
      'Đóng học phí qua ứng dụng ngân hàng',
      'Chuyển khoản nhầm thì làm sao?',
      'Mobile Money là gì?',
    ],
  },
  'an-toan': {
    label: 'An toàn trên mạng',
    intro: 'Về an toàn khi dùng điện thoại và tài khoản, bạn muốn biết điều gì?',
    questions: [
      'Có nên cho người khác mã OTP không?',
      'Nhận cuộc gọi tự xưng công an thì làm gì?',
      'Vừa bị lừa đảo chuyển tiền phải làm gì?',
      'Cách đặt mật khẩu mạnh',
    ],
  },
};

export const HANDOFF_BUTTON = 'Gặp tổ công nghệ số';
