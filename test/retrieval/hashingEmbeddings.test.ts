import { describe, expect, it } from 'vitest';
import { HashingEmbeddings } from '../../src/retrieval/hashingEmbeddings.js';

const cosine = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: readonly number[]) => Math.sqrt(cosine(a, a));

describe('HashingEmbeddings', () => {
  const embeddings = new HashingEmbeddings();
  const sim = (a: string, b: string) => cosine(embeddings.embed(a), embeddings.embed(b));

  it('is deterministic: the same text gives the same vector, across instances and calls', async () => {
    const text = 'Cách kích hoạt tài khoản VNeID mức 2';
    const again = new HashingEmbeddings();
    expect(embeddings.embed(text)).toEqual(again.embed(text));
    expect(await embeddings.embedQuery(text)).toEqual(embeddings.embed(text));
    const [doc] = await again.embedDocuments([text]);
    expect(doc).toEqual(embeddings.embed(text));
  });

  it('gives the same vector sparse as dense: its non-zero values, in dimension order', () => {
    const texts = [
      'Cách kích hoạt tài khoản VNeID mức 2',
      'chu ky so tu xa',
      'CKS',
      '',
      'ạ ạ ạ',
      'quên quên quên mật khẩu',
    ];
    for (const text of texts) {
      const dense = embeddings.embed(text);
      const { indices, values } = embeddings.embedSparse(text);
      const nonZero = [...dense.keys()].filter((d) => dense[d] !== 0);
      expect([...indices], text).toEqual(nonZero);
      expect([...values], text).toEqual(nonZero.map((d) => dense[d]));
    }
  });

  it('returns unit-length vectors of the configured size', () => {
    for (const text of ['chữ ký số', 'Chuyển khoản bằng mã VietQR qua ứng dụng ngân hàng', 'VNeID']) {
      const v = embeddings.embed(text);
      expect(v).toHaveLength(2048);
      expect(norm(v)).toBeCloseTo(1, 6);
    }
    const small = new HashingEmbeddings({ dimensions: 256 });
    expect(small.embed('chữ ký số')).toHaveLength(256);
    expect(small.modelId).not.toBe(embeddings.modelId);
  });

  it('gives an all-zero vector (not NaN) for text with no content words', () => {
    for (const text of ['', '   ', '?!']) {
      const v = embeddings.embed(text);
      expect(v.every((x) => x === 0)).toBe(true);
    }
  });

  it('puts text typed without diacritics, in NFD, or with kí/ký on the same point', () => {
    expect(sim('chữ ký số', 'chu ky so')).toBeCloseTo(1, 6);
    expect(sim('chữ ký số', 'chữ kí số')).toBeCloseTo(1, 6);
    expect(sim('chữ ký số', 'chữ ký số'.normalize('NFD'))).toBeCloseTo(1, 6);
    expect(sim('Kích hoạt VNeID mức 2', 'KICH HOAT vneid MUC 2')).toBeCloseTo(1, 6);
  });

  it('keeps a one-letter typo close and unrelated text far', () => {
    const typos: [string, string][] = [
      ['chuyển khoản bằng mã VietQR', 'chuyển khoản bằng mã VietQE'],
      ['quên mật khẩu VNeID', 'quên mật khẩu VNeIF'],
      ['đăng ký chữ ký số từ xa', 'đăng ký chữ ký số từ xaa'],
    ];
    const unrelated: [string, string][] = [
      ['chữ ký số', 'giá vàng hôm nay bao nhiêu'],
      ['chuyển khoản bằng mã VietQR', 'dự báo thời tiết ngày mai'],
      ['quên mật khẩu VNeID', 'kết quả xổ số miền nam'],
    ];
    for (const [a, b] of typos) expect(sim(a, b), `${a} ~ ${b}`).toBeGreaterThan(0.6);
    for (const [a, b] of unrelated) expect(sim(a, b), `${a} ~ ${b}`).toBeLessThan(0.15);
  });

  it('ranks a related question above an unrelated one', () => {
    const question = 'quen mat khau vneid thi lam sao';
    expect(sim(question, 'Các bước lấy lại mật khẩu VNeID trên ứng dụng')).toBeGreaterThan(
      sim(question, 'Chuyển tiền bằng mã VietQR trong ứng dụng ngân hàng'),
    );
  });
});
