import { describe, expect, it } from 'vitest';
import { asksYesOrNo, withoutUnaskedVerdict } from '../../src/answer/verdictOpening.js';
import { foldedWords } from '../../src/text/vietnamese.js';
import { useRealAnswerService } from '../helpers/knowledge.js';

const yesNo = (q: string) => asksYesOrNo(foldedWords(q));

describe('a passage opening with a bare "Được." answers only a yes/no question', () => {
  it('hears a yes/no question however it is typed', () => {
    for (const q of [
      'đổi bằng lái qua mạng được không',
      'co doi bang lai online dc ko a',
      'ký số trên điện thoại được ạ',
      'trạm y tế có nhận thanh toán QR chưa',
      'có phải đổi bằng lái ở công an không vậy',
      'hồ sơ đã duyệt chưa',
      'thẻ BHYT trên VNeID đi khám được hông',
    ]) {
      expect(yesNo(q), q).toBe(true);
    }
  });

  it('does not take a how-to or an either-or question for one', () => {
    for (const q of [
      'Hồ sơ đổi giấy phép lái xe nộp online xong, kết quả gửi về bưu điện hay phải lên lấy?',
      'đổi bằng lái online thế nào',
      'lam sao dang ky tam tru tren vneid',
      'nộp hồ sơ khai sinh ở đâu',
    ]) {
      expect(yesNo(q), q).toBe(false);
    }
  });

  it('drops the bare verdict for other questions and keeps a verdict with its condition', () => {
    const how = foldedWords('kết quả gửi về bưu điện hay phải lên lấy');
    expect(withoutUnaskedVerdict(how, 'Được. Bạn nộp trực tuyến trên dichvucong.gov.vn.')).toBe(
      'Bạn nộp trực tuyến trên dichvucong.gov.vn.',
    );
    expect(withoutUnaskedVerdict(how, 'Không. Khi hỏi trợ lý, không bao giờ gửi mật khẩu.')).toBe(
      'Khi hỏi trợ lý, không bao giờ gửi mật khẩu.',
    );
    const conditional = 'Được, nếu bạn có tài khoản VNeID mức 2.';
    expect(withoutUnaskedVerdict(how, conditional)).toBe(conditional);
    const asked = foldedWords('nộp online được không');
    expect(withoutUnaskedVerdict(asked, 'Được. Bạn nộp trực tuyến.')).toBe('Được. Bạn nộp trực tuyến.');
  });
});

describe('AnswerService: the verdict an entry opens with', () => {
  const answers = useRealAnswerService();

  it('keeps "Được." for the yes/no question and drops it for a how-to answered by the same entry', async () => {
    const asked = await answers().answer({ question: 'đi khám bệnh đưa thẻ BHYT trên VNeID được không' });
    const how = await answers().answer({ question: 'đi khám bệnh dùng thẻ BHYT trên VNeID như thế nào' });
    expect(asked.answered && how.answered).toBe(true);
    expect(how.sources[0]?.file).toBe(asked.sources[0]?.file);
    expect(asked.body.startsWith('Được. ')).toBe(true);
    expect(how.body.startsWith('Được')).toBe(false);
    expect(how.body).toBe(asked.body.replace(/^Được\. /, ''));
  });
});
