import { describe, expect, it } from 'vitest';
import { suggestionLabel, suggestionsFrom } from '../../src/answer/suggestions.js';
import type { IndexedChunk, RetrievalResult } from '../../src/retrieval/types.js';

const chunk = (over: Partial<IndexedChunk>): IndexedChunk => ({
  id: 'guides/x.md#1',
  docId: 'guides/x.md',
  kind: 'guide',
  title: 'Khi bị lừa đảo qua mạng: cần làm gì ngay để giữ tiền và báo cho cơ quan chức năng',
  headingPath: [],
  text: '',
  embedHash: '',
  ...over,
});

describe('suggestion labels ("Có phải bạn muốn hỏi…" buttons)', () => {
  it('names a guide section with its guide when both fit on a button', () => {
    const label = suggestionLabel(
      chunk({ title: 'Mở tài khoản ngân hàng', headingPath: ['Cài đặt đăng nhập'] }),
    );
    expect(label).toBe('Mở tài khoản ngân hàng: Cài đặt đăng nhập');
  });

  it('keeps a section that says what it is about, and never a bare step of an unseen guide', () => {
    const about = suggestionLabel(
      chunk({ headingPath: ['Xác thực khuôn mặt khi chuyển khoản số tiền lớn'] }),
    );
    expect(about).toBe('Xác thực khuôn mặt khi chuyển khoản số tiền lớn');
    const step = suggestionLabel(chunk({ headingPath: ['Bước 5: Báo cho người thân và bạn bè'] }));
    expect(step).not.toMatch(/^Bước/);
    expect(step.startsWith('Khi bị lừa đảo qua mạng')).toBe(true);
    expect(step.length).toBeLessThanOrEqual(80);
    expect(step.endsWith('…')).toBe(true);
  });

  it('shows an FAQ entry as its question', () => {
    const faq = chunk({ kind: 'faq', title: 'Quên mật khẩu VNeID thì làm sao?', headingPath: ['Hỏi đáp'] });
    expect(suggestionLabel(faq)).toBe('Quên mật khẩu VNeID thì làm sao?');
  });
});

describe('which entries are offered ("Có phải bạn muốn hỏi…")', () => {
  const faq = (name: string, title: string, source?: string) =>
    chunk({ id: `faq/${name}.md#0`, docId: `faq/${name}.md`, kind: 'faq', title, source });
  const guide = (name: string, title: string, section: string) =>
    chunk({ id: `guides/${name}.md#${section}`, docId: `guides/${name}.md`, title, headingPath: [section] });
  const offered = (...chunks: IndexedChunk[]) =>
    suggestionsFrom({
      hits: chunks.map((c, i) => ({ chunk: c, score: 1 / (i + 1), ranks: {} })),
    } as unknown as RetrievalResult).map((s) => s.file);

  it('offers two FAQ entries that condense the same guide, but not that guide beside them', () => {
    const tracking = 'guides/dvc-tra-cuu-ho-so.md';
    expect(
      offered(
        faq('dvc-ho-so-bi-tu-choi', 'Hồ sơ bị từ chối thì có nộp lại được không?', tracking),
        guide('dvc-tra-cuu-ho-so', 'Tra cứu hồ sơ', 'Khi hồ sơ bị yêu cầu bổ sung'),
        faq('dvc-tra-cuu-ho-so-bo-sung', 'Hồ sơ bị yêu cầu bổ sung thì làm gì?', tracking),
        faq('vneid-quen-mat-khau', 'Quên mật khẩu VNeID thì làm sao?', 'guides/vneid-quen-mat-khau.md'),
      ),
    ).toEqual([
      'faq/dvc-ho-so-bi-tu-choi.md',
      'faq/dvc-tra-cuu-ho-so-bo-sung.md',
      'faq/vneid-quen-mat-khau.md',
    ]);
  });

  it('offers one section of a guide, and no FAQ entry condensing a guide already offered', () => {
    expect(
      offered(
        guide('tt-vien-phi', 'Đóng viện phí không dùng tiền mặt', 'Quét mã QR tại quầy thu ngân'),
        guide('tt-vien-phi', 'Đóng viện phí không dùng tiền mặt', 'Lỗi thường gặp khi đóng viện phí'),
        faq('tt-vien-phi', 'Đóng viện phí bằng app ngân hàng được không?', 'guides/tt-vien-phi.md'),
        faq(
          'tt-hoa-don-dien-nuoc',
          'Trả tiền điện qua app ngân hàng thế nào?',
          'guides/tt-hoa-don-dien-nuoc.md',
        ),
      ),
    ).toEqual(['guides/tt-vien-phi.md', 'faq/tt-hoa-don-dien-nuoc.md']);
  });
});
