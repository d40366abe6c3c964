import { describe, expect, it } from 'vitest';
import { sideQuestionNotes, sideQuestionsOf } from '../../src/answer/sideQuestions.js';
import { foldedWords } from '../../src/text/vietnamese.js';
import { useRealAnswerService } from '../helpers/knowledge.js';

describe('side questions: the cost or time asked besides the subject', () => {
  it('hears "does it cost" and "how long" however they are typed', () => {
    for (const q of [
      'dang ky chu ky so o dau, mat tien khong',
      'in mã VietQR dán ở quầy có mất phí ko',
      'mobile money nạp rút ở đâu, có tốn phí hông',
      'ký số từ xa mất phí bao nhiêu 1 tháng',
      'lệ phí làm hộ chiếu hết bao nhiêu tiền',
      'cài VNeID có miễn phí không',
    ]) {
      expect(sideQuestionsOf(q), q).toEqual(['cost']);
    }
    for (const q of [
      'nop ho so xong bao lau thi co ket qua',
      'xin giấy xác nhận tình trạng hôn nhân online mất mấy ngày vậy',
      'vneid bi khoa, khi nao thi duoc mo lai',
    ]) {
      expect(sideQuestionsOf(q), q).toEqual(['duration']);
    }
    expect(sideQuestionsOf('kích hoạt VNeID mức 2 có mất phí không, bao lâu thì xong')).toEqual([
      'cost',
      'duration',
    ]);
  });

  it('does not take a loss, an elapsed time or a plain how-to for a side question', () => {
    for (const q of [
      'bấm vào link lạ thì có bị mất tiền không',
      'hồ sơ nộp mấy ngày rồi mà vẫn thấy đang xử lý',
      'thanh toán học phí không dùng tiền mặt bao nhiêu trường',
      'cách chuyển tiền bằng mã QR',
      'quên mật khẩu VNeID',
    ]) {
      expect(sideQuestionsOf(q), q).toEqual([]);
    }
  });

  it('adds nothing when the passage already speaks to it', () => {
    const q = 'chuyển khoản liên ngân hàng có mất phí không';
    expect(
      sideQuestionNotes(foldedWords(q), 'Nhiều ngân hàng miễn phí chuyển khoản trên ứng dụng.', 'thanh-toan'),
    ).toEqual([]);
    expect(
      sideQuestionNotes(foldedWords(q), 'Mở ứng dụng, chọn Chuyển tiền, nhập số tài khoản.', 'thanh-toan'),
    ).toHaveLength(1);
  });
});

describe('AnswerService: a side question the passage leaves open', () => {
  const answers = useRealAnswerService();

  it('ends the answer with where the fee is found, and never a figure', async () => {
    const answer = await answers().answer({ question: 'đăng ký Viettel Money có mất phí không' });
    expect(answer.answered).toBe(true);
    const paragraphs = answer.body.split('\n\n');
    expect(paragraphs.at(-1)).toMatch(/^Về phí: .*biểu phí/);
    expect(paragraphs.at(-1)).not.toMatch(/\d/);
    // The note comes after the passage and before the sources.
    expect(answer.text.indexOf('Về phí')).toBeLessThan(answer.text.indexOf('Nguồn:'));
  });

  it('says the documents do not give the time, for a procedure and for an app', async () => {
    const dossier = await answers().answer({
      question: 'nộp hồ sơ đăng ký khai sinh cho con trên dịch vụ công rồi bao lâu thì có giấy khai sinh',
    });
    expect(dossier.answered).toBe(true);
    expect(dossier.body).toMatch(/Về thời gian: thời hạn giải quyết tùy từng thủ tục/);

    const locked = await answers().answer({
      question: 'vneid bi khoa do nhap sai mk nhieu lan, bao lau moi mo lai',
    });
    expect(locked.answered).toBe(true);
    expect(locked.body).toMatch(/Về thời gian: tài liệu của mình chưa nói rõ/);
  });

  it('adds nothing when the entry answers the cost itself', async () => {
    const answer = await answers().answer({ question: 'chuyen tien lien ngan hang mat phi ko' });
    expect(answer.answered).toBe(true);
    expect(answer.body).toMatch(/phí/);
    expect(answer.body).not.toMatch(/Về (chi )?phí:/);
  });
});
