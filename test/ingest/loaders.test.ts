import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDocument, SUPPORTED_EXTENSIONS, UnsupportedFormatError } from '../../src/ingest/loaders.js';

// Fixtures: test/fixtures/ingest (binary ones are made by make-fixtures.py in that folder).
const root = fileURLToPath(new URL('../fixtures/ingest/', import.meta.url));
const raw = (rel: string) => readFileSync(`${root}${rel}`);
const isNfc = (s: string) => s === s.normalize('NFC');

describe('loadDocument: Markdown guide', () => {
  const file = 'guides/vneid-kich-hoat-muc-2.md';

  it('really is stored in NFD (so the NFC checks below mean something)', () => {
    const text = raw(file).toString('utf8');
    expect(isNfc(text)).toBe(false);
  });

  it('reads front matter and body, NFC-normalized', async () => {
    const doc = await loadDocument(root, file);
    expect(doc).toMatchObject({
      id: file,
      kind: 'guide',
      format: 'md',
      title: 'Kích hoạt tài khoản VNeID mức 2'.normalize('NFC'),
      topic: 'vneid',
      updated: '2026-11-23',
      owner: 'Nhóm biên tập Trợ lý Công dân số'.normalize('NFC'),
    });
    expect(doc.meta.updated).toBe('2026-11-23');
    expect(doc.meta.keywords).toEqual(['kích hoạt VNeID', 'kich hoat vneid muc 2']);
    expect(doc.body.startsWith('# Kích hoạt tài khoản VNeID mức 2\n')).toBe(true);
    expect(doc.body).not.toContain('topic: vneid');
    for (const s of [doc.title, doc.body, doc.owner ?? '', ...(doc.meta.keywords as string[])]) {
      expect(isNfc(s)).toBe(true);
    }
  });

  it('hashes the raw bytes', async () => {
    const doc = await loadDocument(root, file);
    expect(doc.contentHash).toBe(createHash('sha256').update(raw(file)).digest('hex'));
  });
});

describe('loadDocument: FAQ entry', () => {
  it('keeps the paraphrased questions and uses the answer as body, without CR', async () => {
    const file = 'faq/vneid-quen-mat-khau.md';
    expect(raw(file).includes('\r\n')).toBe(true);
    const doc = await loadDocument(root, file);
    expect(doc.kind).toBe('faq');
    expect(doc.title).toBe('Quên mật khẩu VNeID thì làm sao?');
    expect(doc.meta.questions).toEqual(['quên mật khẩu VNeID', 'quen mat khau vneid', 'lấy lại mk VNeID']);
    expect(doc.meta.source).toBe('guides/vneid-kich-hoat-muc-2.md');
    expect(doc.body.startsWith('Bạn có thể tự đặt lại mật khẩu')).toBe(true);
    expect(doc.body).toContain('\n3. Nhập mã OTP');
    expect(doc.body).not.toContain('\r');
  });
});

describe('loadDocument: HTML page', () => {
  it('converts headings, lists and tables and drops page chrome', async () => {
    const doc = await loadDocument(root, 'web/thanh-toan-hoc-phi.html');
    expect(doc).toMatchObject({
      kind: 'other',
      format: 'html',
      title: 'Thanh toán học phí không dùng tiền mặt',
    });
    const body = doc.body;
    expect(body).toContain('# Hướng dẫn thanh toán học phí\n');
    expect(body).toContain('\n## Cách nộp học phí qua ứng dụng ngân hàng\n');
    expect(body).toContain('\n### Các kênh thanh toán\n');
    expect(body).toContain('ngân hàng & ví điện tử');
    expect(body).toContain(
      [
        '1. Mở ứng dụng ngân hàng trên điện thoại.',
        '2. Chọn mục thanh toán học phí',
        '   - Tùy ngân hàng, mục này có tên khác nhau.',
        '3. Nhập mã học sinh do nhà trường cung cấp.',
      ].join('\n'),
    );
    expect(body).toContain(
      [
        '| Kênh | Cần chuẩn bị |',
        '| --- | --- |',
        '| Ứng dụng ngân hàng | Tài khoản ngân hàng \\| mã học sinh |',
        '| Ví điện tử | Ví đã liên kết tài khoản ngân hàng |',
      ].join('\n'),
    );
    expect(body).toContain('- Giữ lại biên lai điện tử.');
    for (const dropped of ['do-not-index', 'font-family', 'Trang chủ', 'Bản quyền', 'DOCTYPE']) {
      expect(body).not.toContain(dropped);
    }
  });
});

describe('loadDocument: DOCX', () => {
  it('keeps the heading, the numbered list and the table', async () => {
    const doc = await loadDocument(root, 'docs/huong-dan-ky-so.docx');
    expect(doc).toMatchObject({ kind: 'other', format: 'docx', title: 'Hướng dẫn ký số hồ sơ trực tuyến' });
    expect(doc.body).toContain('# Hướng dẫn ký số hồ sơ trực tuyến\n');
    expect(doc.body).toContain('Bạn cần có chữ ký số cá nhân còn hiệu lực trước khi ký hồ sơ.');
    expect(doc.body).toContain(
      '1. Chuẩn bị chữ ký số\n2. Mở hồ sơ trên Cổng Dịch vụ công quốc gia\n3. Chọn ký số và xác nhận trên điện thoại',
    );
    expect(doc.body).toContain(
      '| Loại chữ ký số | Thiết bị |\n| --- | --- |\n| USB token | Máy tính |\n| Ký số từ xa | Điện thoại |',
    );
    expect(isNfc(doc.body)).toBe(true);
  });
});

describe('loadDocument: PDF', () => {
  it('extracts the text of a text PDF', async () => {
    const doc = await loadDocument(root, 'docs/mau.pdf');
    expect(doc).toMatchObject({ kind: 'other', format: 'pdf', title: 'Huong dan nop ho so truc tuyen' });
    expect(doc.body).toContain('Huong dan nop ho so truc tuyen');
    expect(doc.body).toContain('Buoc 1: Dang nhap Cong Dich vu cong quoc gia.');
  });

  it('rejects a broken PDF with an error naming the file', async () => {
    await expect(loadDocument(root, 'docs/hong.pdf')).rejects.toThrow(/docs\/hong\.pdf/);
  });
});

describe('loadDocument: other cases', () => {
  it('reads plain text, taking the first line as title', async () => {
    const doc = await loadDocument(root, 'notes/ghi-chu.txt');
    expect(doc).toMatchObject({ kind: 'other', format: 'txt', title: 'Ghi chú tập huấn Tổ công nghệ số' });
    expect(doc.body).toBe(
      'Ghi chú tập huấn Tổ công nghệ số\n\nBuổi tập huấn hướng dẫn người dân cài đặt VNeID.\nMang theo điện thoại đã sạc pin.',
    );
  });

  it('normalizes the id to a POSIX path relative to the root', async () => {
    const doc = await loadDocument(root, './faq/../faq/vneid-quen-mat-khau.md');
    expect(doc.id).toBe('faq/vneid-quen-mat-khau.md');
  });

  it('refuses unsupported file types, naming the file', async () => {
    const attempt = loadDocument(root, 'docs/bang-tinh.xlsx');
    await expect(attempt).rejects.toBeInstanceOf(UnsupportedFormatError);
    await expect(attempt).rejects.toThrow(/docs\/bang-tinh\.xlsx/);
  });

  it('names a missing file in the error', async () => {
    await expect(loadDocument(root, 'guides/khong-co.md')).rejects.toThrow(/guides\/khong-co\.md/);
  });

  it('lists the supported extensions', () => {
    expect([...SUPPORTED_EXTENSIONS].sort()).toEqual(
      ['.docx', '.htm', '.html', '.markdown', '.md', '.pdf', '.txt'].sort(),
    );
  });
});
