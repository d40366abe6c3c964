import { describe, expect, it } from 'vitest';
import { suggestionLabel } from '../../src/answer/suggestions.js';
import type { IndexedChunk } from '../../src/retrieval/types.js';

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
