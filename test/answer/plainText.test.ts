import { describe, expect, it } from 'vitest';
import { composeExtractive } from '../../src/answer/extractive.js';
import { markdownToChatText, truncateForPhone } from '../../src/answer/plainText.js';
import type { IndexedChunk, RetrievalHit, RetrievalResult } from '../../src/retrieval/types.js';

const MARKUP = /\*\*|__|`|^#{1,6}\s|\]\(|^\s*[-*+]\s|^>\s|\|/m;

describe('markdownToChatText', () => {
  it('removes Markdown markup and keeps the words', () => {
    const text = markdownToChatText(
      [
        '## Kích hoạt VNeID',
        '',
        'Bạn cần **thẻ căn cước** và _số điện thoại chính chủ_. Gõ `dichvucong.gov.vn`.',
        '> Lưu ý: không đưa mã OTP cho ai.',
        'Xem [hướng dẫn](https://dichvucong.gov.vn/huong-dan) và ![ảnh](a.png) tại https://vneid.gov.vn.',
      ].join('\n'),
    );
    expect(text).not.toMatch(MARKUP);
    expect(text).toContain('Kích hoạt VNeID');
    expect(text).toContain('Bạn cần thẻ căn cước và số điện thoại chính chủ. Gõ dichvucong.gov.vn.');
    expect(text).toContain('Lưu ý: không đưa mã OTP cho ai.');
    expect(text).toContain('hướng dẫn (https://dichvucong.gov.vn/huong-dan)');
    expect(text).not.toContain('a.png');
  });

  it('keeps numbered steps and turns bullets into •', () => {
    const text = markdownToChatText('1. Mở ứng dụng.\n2. Bấm **Đăng nhập**.\n- Mẹo một\n* Mẹo hai');
    expect(text.split('\n')).toEqual(['1. Mở ứng dụng.', '2. Bấm Đăng nhập.', '• Mẹo một', '• Mẹo hai']);
  });

  it('turns table rows into "a – b" lines and drops the separator', () => {
    const text = markdownToChatText('| Nhà cung cấp | Giá |\n| --- | ---: |\n| VNPT | 1.000.000 đ |');
    expect(text.split('\n')).toEqual(['Nhà cung cấp – Giá', 'VNPT – 1.000.000 đ']);
  });

  it('collapses runs of blank lines', () => {
    expect(markdownToChatText('a\n\n\n\nb\n')).toBe('a\n\nb');
  });
});

describe('truncateForPhone', () => {
  it('leaves short text alone', () => {
    expect(truncateForPhone('Ngắn gọn.', 100)).toEqual({ text: 'Ngắn gọn.', truncated: false });
  });

  it('cuts between numbered steps, within the limit, and marks the cut', () => {
    const steps = Array.from(
      { length: 20 },
      (_, i) => `${i + 1}. Bước số ${i + 1}: làm theo hướng dẫn trên màn hình.`,
    );
    const { text, truncated } = truncateForPhone(steps.join('\n'), 300);
    expect(truncated).toBe(true);
    expect(text.length).toBeLessThanOrEqual(300);
    expect(text.endsWith('\n…')).toBe(true);
    const kept = text.split('\n').slice(0, -1);
    expect(kept.length).toBeGreaterThan(3);
    expect(kept).toEqual(steps.slice(0, kept.length));
  });

  it('cuts one long paragraph at a sentence end', () => {
    const sentence = 'Người dân mang thẻ căn cước đến Công an cấp xã để đăng ký tài khoản định danh mức 2. ';
    const { text } = truncateForPhone(sentence.repeat(20).trim(), 400);
    expect(text.length).toBeLessThanOrEqual(400);
    expect(text).toMatch(/mức 2\.\n…$/);
  });

  it('cuts at a word boundary when there is no sentence end', () => {
    const words = 'chuyển khoản bằng mã VietQR '.repeat(40).trim();
    const { text } = truncateForPhone(words, 200);
    expect(text.length).toBeLessThanOrEqual(200);
    const body = text.replace(/\n…$/, '');
    expect(words.startsWith(body)).toBe(true);
    expect(words[body.length]).toBe(' ');
  });
});

function chunk(
  id: string,
  docId: string,
  heading: string[],
  text: string,
  kind: IndexedChunk['kind'] = 'guide',
): IndexedChunk {
  return { id, docId, kind, title: `Tiêu đề ${docId}`, headingPath: heading, text, embedHash: id };
}

function result(chunks: IndexedChunk[]): RetrievalResult {
  const hits: RetrievalHit[] = chunks.map((c, i) => ({
    chunk: c,
    score: 0.05 - i * 0.001,
    ranks: { lexical: i + 1 },
  }));
  return {
    query: 'q',
    normalized: 'q',
    expansions: [],
    hits,
    legs: { lexical: [], vector: [], faq: [] },
    confidence: 0.9,
    signals: { coverage: 1, vectorSimilarity: 0.5, faqSimilarity: 0, faqBest: 0, agreement: 1 },
  };
}

describe('composeExtractive', () => {
  it('answers with the best passage under its section heading, without markup, with its source', () => {
    const composed = composeExtractive(
      result([chunk('a', 'guides/a.md', ['Các bước'], '1. Mở **ứng dụng**.\n2. Bấm `Đăng nhập`.')]),
      700,
    );
    expect(composed.body).toBe('Các bước:\n1. Mở ứng dụng.\n2. Bấm Đăng nhập.');
    expect(composed.sources).toEqual([
      { title: 'Tiêu đề guides/a.md', file: 'guides/a.md', section: 'Các bước', score: 0.05 },
    ]);
  });

  it('adds the next passage of the same guide when the best one is short, but not an FAQ entry', () => {
    const composed = composeExtractive(
      result([
        chunk('a', 'guides/a.md', ['Chuẩn bị'], 'Mang thẻ căn cước.'),
        chunk('f', 'faq/a.md', [], 'Câu hỏi thường gặp.', 'faq'),
        chunk('o', 'guides/b.md', ['Khác'], 'Hướng dẫn khác.'),
        chunk('b', 'guides/a.md', ['Các bước'], '1. Đến Công an cấp xã.'),
      ]),
      700,
    );
    expect(composed.body).toBe('Chuẩn bị:\nMang thẻ căn cước.\n\nCác bước:\n1. Đến Công an cấp xã.');
    expect(composed.sources.map((s) => s.section)).toEqual(['Chuẩn bị', 'Các bước']);
  });

  it('stays within maxChars, keeps whole steps and ends with "…" when cut', () => {
    const steps = Array.from(
      { length: 40 },
      (_, i) => `${i + 1}. Bước ${i + 1}: kiểm tra thông tin rồi bấm **Tiếp tục**.`,
    );
    const composed = composeExtractive(
      result([chunk('a', 'guides/a.md', ['Các bước'], steps.join('\n'))]),
      500,
    );
    expect(composed.body.length).toBeLessThanOrEqual(500);
    expect(composed.body.endsWith('…')).toBe(true);
    expect(composed.body).not.toMatch(MARKUP);
    for (const line of composed.body.split('\n').slice(1, -1))
      expect(line).toMatch(/^\d+\. Bước \d+: .*Tiếp tục\.$/);
  });

  it('is empty without hits', () => {
    expect(composeExtractive(result([]), 700)).toEqual({ body: '', sources: [] });
  });
});
