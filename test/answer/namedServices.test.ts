import { afterAll, describe, expect, it } from 'vitest';
import { servicesNamed, servicesNotMentioned } from '../../src/answer/namedServices.js';
import { foldedWords } from '../../src/text/vietnamese.js';
import { indexText } from '../../src/retrieval/hybridRetriever.js';
import { CONFIDENCE } from '../../src/retrieval/confidence.js';
import { copySmallKnowledge, removeDir, useRealAnswerService } from '../helpers/knowledge.js';

describe('named services: the app or portal a question names', () => {
  it('recognises them however they are typed', () => {
    expect(servicesNamed('quét mặt trên VNeID không được')).toEqual(['vneid']);
    expect(servicesNamed('tai khoan dinh danh muc 2')).toEqual(['vneid']);
    expect(servicesNamed('quen ma pin token')).toEqual(['digital-signature']);
    expect(servicesNamed('Chữ ký số là gì')).toEqual(['digital-signature']);
    expect(servicesNamed('dong bhyt qua vi dien tu')).toEqual(['health-insurance', 'e-wallet']);
    // Channels and portals are named in passing as often as asked about.
    expect(servicesNamed('trường gửi qua Zalo mã thanh toán học phí')).toEqual([]);
    expect(servicesNamed('tạo Gmail để đăng ký dịch vụ công')).toEqual([]);
    expect(servicesNamed('cách chuyển khoản bằng mã QR')).toEqual([]);
  });

  it('lists those the passage never mentions', () => {
    const bankFaceCheck = 'Xác thực khuôn mặt trong app ngân hàng: giữ máy ngang mặt, chỗ đủ sáng.';
    expect(
      servicesNotMentioned(foldedWords('quét mặt trên VNeID hoài không được'), () => bankFaceCheck),
    ).toEqual(['vneid']);
    expect(
      servicesNotMentioned(foldedWords('quét mặt app ngân hàng không được'), () => bankFaceCheck),
    ).toEqual([]);
    expect(
      servicesNotMentioned(
        foldedWords('VNeID báo lỗi khuôn mặt'),
        () => 'Ứng dụng VNeID: chụp lại ở chỗ sáng.',
      ),
    ).toEqual([]);
  });
});

describe('AnswerService: an entry about another service is not answered from', () => {
  // A knowledge base where the only entry on face checks is the bank one, as it was before
  // the VNeID face-check entry was written.
  let knowledgeDir: string | undefined;
  const answers = useRealAnswerService({
    knowledgeDir: () =>
      (knowledgeDir = copySmallKnowledge([
        'faq/tt-xac-thuc-khuon-mat-ngan-hang.md',
        'faq/vneid-quen-mat-khau.md',
        'guides/vneid-quen-mat-khau.md',
        'guides/tt-chuyen-khoan-vietqr.md',
      ])),
  });
  afterAll(() => removeDir(knowledgeDir));

  it('asks what the citizen means instead of answering a VNeID question from a bank entry', async () => {
    const question =
      'Sao tui quét mặt trên VNeID hoài không được, nó báo "Xác thực khuôn mặt không thành công"';
    const answer = await answers().answer({ question });
    const best = answer.retrieval.hits[0]!;
    // The nearest entry is the bank one, and sure enough on its words alone.
    expect(best.chunk.docId).toBe('faq/tt-xac-thuc-khuon-mat-ngan-hang.md');
    const bar = answer.retrieval.signals.agreement
      ? CONFIDENCE.clarifyBelowWhenLegsAgree
      : CONFIDENCE.clarifyBelow;
    expect(answer.confidence).toBeGreaterThanOrEqual(bar);
    expect(indexText(best.chunk)).not.toMatch(/VNeID/i);
    expect(answer.answered).toBe(false);
    expect(answer.mode).toBe('clarify');
  });

  it('still answers the same words about the bank app from the bank entry', async () => {
    const answer = await answers().answer({
      question:
        'Sao tui quét mặt trên app ngân hàng hoài không được, nó báo "Xác thực khuôn mặt không thành công"',
    });
    expect(answer.answered).toBe(true);
    expect(answer.sources[0]!.file).toBe('faq/tt-xac-thuc-khuon-mat-ngan-hang.md');
  });
});
