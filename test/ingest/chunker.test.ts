import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chunkDocument, type Chunk } from '../../src/ingest/chunker.js';
import { loadDocument, type SourceDocument } from '../../src/ingest/loaders.js';

const root = fileURLToPath(new URL('../fixtures/ingest/', import.meta.url));

function makeDoc(body: string, overrides: Partial<SourceDocument> = {}): SourceDocument {
  return {
    id: 'guides/thu-nghiem.md',
    kind: 'guide',
    format: 'md',
    title: 'Tài liệu thử nghiệm',
    meta: {},
    body,
    contentHash: 'x',
    ...overrides,
  };
}

const paths = (chunks: Chunk[]) => chunks.map((c) => c.headingPath);
const lines = (chunk: Chunk) => chunk.text.split('\n');

describe('chunkDocument: headings', () => {
  it('keeps headings as heading paths, without the document title, and not in the text', async () => {
    const doc = await loadDocument(root, 'guides/vneid-kich-hoat-muc-2.md');
    const chunks = chunkDocument(doc);
    expect(paths(chunks)).toEqual([
      ['Tài khoản định danh điện tử mức 2 là gì'],
      ['Chuẩn bị trước khi kích hoạt VNeID mức 2'],
      ['Các bước kích hoạt tài khoản VNeID mức 2'],
      ['Các bước kích hoạt tài khoản VNeID mức 2', 'Lỗi thường gặp khi kích hoạt VNeID'],
      ['Cần giúp đỡ?'],
    ]);
    for (const chunk of chunks) {
      expect(chunk.text).not.toMatch(/^#/m);
      expect(chunk.docId).toBe(doc.id);
      expect(chunk.text.normalize('NFC')).toBe(chunk.text);
      expect(chunk.headingPath.every((h) => h === h.normalize('NFC'))).toBe(true);
    }
  });

  it('keeps a first-level heading that is not the document title', () => {
    const chunks = chunkDocument(
      makeDoc(`# Phần một\n\n${'Nội dung phần một, đủ dài để đứng riêng. '.repeat(4)}`),
    );
    expect(chunks[0]!.headingPath).toEqual(['Phần một']);
  });

  it('produces no chunk for heading-only sections', () => {
    const body = [
      '# Tài liệu thử nghiệm',
      '## Mục trống',
      '## Mục có nội dung',
      'Nội dung của mục này đủ dài để thành một đoạn riêng, không cần gộp với mục nào khác cả. '.repeat(2),
    ].join('\n\n');
    expect(paths(chunkDocument(makeDoc(body)))).toEqual([['Mục có nội dung']]);
  });

  it('does not take "#" lines inside a code fence for headings', () => {
    const body = '## Lệnh\n\n```\n# không phải tiêu đề\necho xin chao\n```';
    const chunks = chunkDocument(makeDoc(body));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.headingPath).toEqual(['Lệnh']);
    expect(chunks[0]!.text).toContain('# không phải tiêu đề');
  });
});

describe('chunkDocument: short sections', () => {
  const long =
    'Nội dung mục B giải thích chi tiết các bước cần làm để hoàn thành thủ tục trực tuyến. '.repeat(3);
  const body = [
    '## Cha',
    '### A',
    'Mục A rất ngắn.',
    '### B',
    long,
    '### C',
    'Mục C cũng ngắn.',
    '## Mục ngắn cấp cao',
    'Ngắn.',
    '## Cuối',
    long,
  ].join('\n\n');
  const chunks = chunkDocument(makeDoc(body));

  it('merges a short section into the next chunk of the same parent, its heading as a bold line', () => {
    const merged = chunks.find((c) => c.text.includes('Mục A rất ngắn.'))!;
    expect(merged.headingPath).toEqual(['Cha']);
    expect(merged.text).toBe(`**A**\n\nMục A rất ngắn.\n\n**B**\n\n${long.trim()}`);
  });

  it('keeps a short section that has no next section in its parent', () => {
    expect(chunks.find((c) => c.text.includes('Mục C cũng ngắn.'))!.headingPath).toEqual(['Cha', 'C']);
  });

  it('keeps short top-level sections on their own', () => {
    const own = chunks.find((c) => c.text === 'Ngắn.')!;
    expect(own.headingPath).toEqual(['Mục ngắn cấp cao']);
  });

  it('merges a short section intro into its first subsection under its own path', () => {
    const intro = chunkDocument(makeDoc(`## Mục lớn\n\nGiới thiệu ngắn.\n\n### Mục con\n\n${long}`));
    expect(intro).toHaveLength(1);
    expect(intro[0]!.headingPath).toEqual(['Mục lớn']);
    expect(intro[0]!.text).toBe(`Giới thiệu ngắn.\n\n**Mục con**\n\n${long.trim()}`);
  });
});

describe('chunkDocument: sizes and splitting', () => {
  it('splits a long table by rows and repeats its header in every chunk', () => {
    const header = ['| STT | Nhiệm vụ | Đơn vị chủ trì |', '| --- | --- | --- |'];
    const rows = Array.from(
      { length: 30 },
      (_, i) => `| ${i + 1} | Nhiệm vụ chuyển đổi số số ${i + 1} của tỉnh | Sở ngành ${i + 1} |`,
    );
    const chunks = chunkDocument(makeDoc(`## Phụ lục\n\n${[...header, ...rows].join('\n')}`), {
      maxChars: 400,
    });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      expect(lines(chunk).slice(0, 2)).toEqual(header);
      expect(chunk.text.length).toBeLessThanOrEqual(400);
      expect(chunk.headingPath).toEqual(['Phụ lục']);
    }
    // Every row intact, exactly once, in order.
    const seen = chunks.flatMap((c) => lines(c).slice(2));
    expect(seen).toEqual(rows);
  });

  it('keeps the original numbers of a numbered list split over chunks, and never splits an item', () => {
    const steps = Array.from(
      { length: 12 },
      (_, i) => `${i + 1}. Bước ${i + 1}: làm theo hướng dẫn trên màn hình điện thoại của bạn.`,
    );
    const body = `## Các bước\n\nLàm theo các bước sau:\n\n${steps.join('\n')}`;
    const chunks = chunkDocument(makeDoc(body), { maxChars: 250, minChars: 50 });
    expect(chunks.length).toBeGreaterThan(2);
    const items = chunks.flatMap((c) => lines(c).filter((l) => /^\d+\. /.test(l)));
    expect(items).toEqual(steps);
    expect(chunks[1]!.text.startsWith(`${lines(chunks[0]!).length - 1}. `)).toBe(true);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(250);
    // The lead-in line stays with the first steps.
    expect(chunks[0]!.text).toMatch(/^Làm theo các bước sau:\n\n1\. /);
  });

  it('keeps a list item whole even when it alone exceeds maxChars', () => {
    const item = `- ${'Một bước rất dài cần giải thích cẩn thận. '.repeat(10).trim()}`;
    const chunks = chunkDocument(makeDoc(`## Mục\n\n- Bước ngắn.\n${item}\n- Bước cuối.`), { maxChars: 200 });
    expect(chunks.some((c) => lines(c).includes(item))).toBe(true);
  });

  it('keeps nested items with their parent item when they fit', () => {
    const first = `1. ${'Nhiệm vụ thứ nhất được mô tả khá dài. '.repeat(2).trim()}`;
    const parent = '2. Nhiệm vụ thứ hai';
    const children = [
      '   - a) Phát triển nhanh hạ tầng số ở tất cả các xã.',
      '   - b) Phổ cập kỹ năng số cho người dân trong tỉnh.',
      '   - c) Phát triển doanh nghiệp số và hộ kinh doanh số.',
    ];
    const last = `3. ${'Nhiệm vụ thứ ba cũng được mô tả khá dài. '.repeat(2).trim()}`;
    const body = `## Quan điểm\n\n${[first, parent, ...children, last].join('\n')}`;
    const chunks = chunkDocument(makeDoc(body), { maxChars: 200, minChars: 10 });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.some((c) => c.text.includes([parent, ...children].join('\n')))).toBe(true);
  });

  it('splits an oversized paragraph at sentence boundaries only', () => {
    const sentences = Array.from({ length: 20 }, (_, i) => `Câu số ${i + 1} nói về chuyển đổi số ở xã.`);
    const chunks = chunkDocument(makeDoc(`## Mục\n\n${sentences.join(' ')}`), { maxChars: 200 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(200);
      expect(chunk.text).toMatch(/^Câu số \d+ .*ở xã\.$/);
    }
    expect(chunks.map((c) => c.text).join(' ')).toBe(sentences.join(' '));
  });

  it('does not split a paragraph that fits', () => {
    const paragraph = 'Một đoạn văn vừa đủ ngắn. '.repeat(6).trim();
    const body = `## Mục\n\n${paragraph}\n\n${paragraph}\n\n${paragraph}`;
    for (const chunk of chunkDocument(makeDoc(body), { maxChars: 200 })) expect(chunk.text).toBe(paragraph);
  });

  it('numbers parts of the same heading path', () => {
    const paragraph = 'Một đoạn văn khá dài để buộc phải chia thành nhiều phần khác nhau. '.repeat(2).trim();
    const chunks = chunkDocument(makeDoc(`## Mục\n\n${[paragraph, paragraph, paragraph].join('\n\n')}`), {
      maxChars: 200,
    });
    expect(chunks.map((c) => c.partIndex)).toEqual([0, 1, 2]);
  });

  it('rejects inconsistent options', () => {
    expect(() => chunkDocument(makeDoc('x'), { maxChars: 100, minChars: 200 })).toThrow(RangeError);
  });
});

describe('chunkDocument: ids', () => {
  const sectionA = 'Mục A hướng dẫn cách chuẩn bị giấy tờ trước khi đến Bộ phận một cửa của xã. '.repeat(3);
  const sectionB = 'Mục B hướng dẫn cách tra cứu hồ sơ trên Cổng Dịch vụ công quốc gia. '.repeat(3);
  const body = (b: string) => `# Tài liệu thử nghiệm\n\n## Mục A\n\n${sectionA}\n\n## Mục B\n\n${b}`;

  it('computes ids from doc id, heading path and part index', () => {
    const [first] = chunkDocument(makeDoc(body(sectionB)));
    const expected = createHash('sha256').update('guides/thu-nghiem.md\nMục A\n0').digest('hex').slice(0, 16);
    expect(first!.id).toBe(expected);
  });

  it('gives identical chunks and ids across runs, all ids distinct', () => {
    const doc = makeDoc(body(sectionB));
    const once = chunkDocument(doc);
    expect(chunkDocument(doc)).toEqual(once);
    expect(new Set(once.map((c) => c.id)).size).toBe(once.length);
  });

  it('keeps section A unchanged when only section B changes', () => {
    const before = chunkDocument(makeDoc(body(sectionB)));
    const after = chunkDocument(makeDoc(body(`${sectionB} Thêm một câu mới vào mục B.`)));
    const a = (chunks: Chunk[]) => chunks.filter((c) => c.headingPath[0] === 'Mục A');
    expect(a(after)).toEqual(a(before));
    expect(after.find((c) => c.headingPath[0] === 'Mục B')!.text).toContain('Thêm một câu mới');
  });

  it('ids stay stable for the fixture documents', async () => {
    for (const file of [
      'guides/vneid-kich-hoat-muc-2.md',
      'web/thanh-toan-hoc-phi.html',
      'docs/huong-dan-ky-so.docx',
    ]) {
      const first = chunkDocument(await loadDocument(root, file)).map((c) => c.id);
      const second = chunkDocument(await loadDocument(root, file)).map((c) => c.id);
      expect(second).toEqual(first);
    }
  });
});

describe('chunkDocument: FAQ and other formats', () => {
  it('gives a FAQ entry exactly one chunk: the answer', async () => {
    const doc = await loadDocument(root, 'faq/vneid-quen-mat-khau.md');
    const chunks = chunkDocument(doc);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatchObject({ headingPath: [], partIndex: 0, text: doc.body, docId: doc.id });
  });

  it('chunks an HTML page with its table rows under the header', async () => {
    const chunks = chunkDocument(await loadDocument(root, 'web/thanh-toan-hoc-phi.html'), { maxChars: 120 });
    const rows = [
      '| Ứng dụng ngân hàng | Tài khoản ngân hàng \\| mã học sinh |',
      '| Ví điện tử | Ví đã liên kết tài khoản ngân hàng |',
    ];
    for (const row of rows) {
      const chunk = chunks.find((c) => lines(c).includes(row))!;
      expect(lines(chunk).slice(0, 2)).toEqual(['| Kênh | Cần chuẩn bị |', '| --- | --- |']);
      expect(chunk.headingPath.at(-1)).toBe('Các kênh thanh toán');
    }
  });

  it('chunks a DOCX without repeating its title in the heading path', async () => {
    const chunks = chunkDocument(await loadDocument(root, 'docs/huong-dan-ky-so.docx'));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.headingPath).toEqual([]);
    expect(chunks[0]!.text).toContain('3. Chọn ký số và xác nhận trên điện thoại');
  });

  it('returns NFC text for an NFD body', () => {
    const nfd =
      '## Hướng dẫn kích hoạt\n\nĐến Công an xã để được hỗ trợ kích hoạt tài khoản định danh.'.normalize(
        'NFD',
      );
    const [chunk] = chunkDocument(makeDoc(nfd));
    expect(chunk!.headingPath).toEqual(['Hướng dẫn kích hoạt']);
    expect(chunk!.text).toBe(chunk!.text.normalize('NFC'));
    expect(chunk!.text).toContain('Công an xã');
  });
});
