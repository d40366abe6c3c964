import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectIntent } from '../../dialogs/intents.js';

const SWEEPS = 'docs/quality/blind-sweeps-2026-12-05';

/** The blind sweeps' questions their reviewers judged in scope (every verdict but out of scope). */
function inScopeSweepQuestions(): { where: string; question: string }[] {
  const out: { where: string; question: string }[] = [];
  for (const file of fs.readdirSync(SWEEPS).filter((f) => f.endsWith('.tsv'))) {
    const rows = fs.readFileSync(path.join(SWEEPS, file), 'utf8').split('\n').slice(1);
    for (const row of rows.filter(Boolean)) {
      const [n, verdict, , , , question] = row.split('\t');
      if (!verdict || !question || /oos/i.test(verdict)) continue;
      out.push({ where: `${file}:${n}`, question });
    }
  }
  return out;
}

describe('detectIntent: out-of-scope words that fold like everyday words', () => {
  it('never declines as out of scope a question the blind sweeps judged in scope', () => {
    const questions = inScopeSweepQuestions();
    expect(questions.length).toBeGreaterThan(800);
    const declined = questions
      .filter(({ question }) => detectIntent(question).kind === 'out_of_scope')
      .map(({ where, question }) => `${where} ${question}`);
    expect(declined).toEqual([]);
  });

  it.each([
    ['mã OTP gửi về số cũ, giờ muốn đổi về số của tôi', 'vé số'],
    ['kích hoạt VNeID nó báo số thuê bao không chính chủ', 'bão số'],
    ['cái đó là gì vậy', 'đô la'],
    ['chuyển tiền từ ví điện tử về ngân hàng', 'tử vi'],
    ['điện thoại bấm phím có làm VNeID được không', 'phim'],
    ['hồ sơ bị sót giấy tờ thì bổ sung sao', 'bị sốt'],
    ['tìm mục đó ở đâu hông thấy', 'đau họng'],
    ['zalo của bà tôi bị nhắn tin quảng cáo vay tiền', "an official's Zalo"],
    ['việc làm thêm online thả tim được trả tiền có phải lừa không', 'việc làm'],
    ['chữ ký số cá nhân ký hợp đồng mua bán đất được không', 'hợp đồng mua bán đất'],
    ['mai tui ra xã có mua được thẻ BHYT không', 'rain'],
    ['nộp thuế thu nhập cá nhân online thế nào', 'a tax rate'],
  ])('"%s" is a question (not %s)', (question) => {
    expect(detectIntent(question)).toEqual({ kind: 'question' });
  });

  it.each([
    ['xổ số miền nam hôm nay', 'lottery'],
    ['xs hau giang thu 7 tuan roi ve so may', 'lottery'],
    ['mua vé số kiến thiết ở đâu', 'lottery'],
    ['bão số 3 vào đâu', 'weather'],
    ['giá đô la Mỹ hôm nay', 'prices'],
    ['xem tử vi năm 2027', 'entertainment'],
    ['có phim gì hay không', 'entertainment'],
    ['bị sốt 39 độ uống paracetamol mấy viên', 'medical'],
    ['tui bị đau họng uống thuốc gì', 'medical'],
    ['làm sổ đỏ mất bao lâu', 'legal'],
    ['số điện thoại của chủ tịch xã', 'contacts'],
    ['cho xin sdt rieng cua ong chu tich xa', 'contacts'],
    ['mai o hue co mua khong', 'weather'],
    ['tranh chấp ranh giới đất với hàng xóm thì kiện ra đâu', 'legal'],
    ['thuế thu nhập cá nhân bậc 2 bao nhiêu phần trăm', 'legal'],
  ])('"%s" is out of scope (%s)', (question, category) => {
    expect(detectIntent(question)).toEqual({ kind: 'out_of_scope', category });
  });
});
