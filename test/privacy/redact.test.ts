import { describe, expect, it } from 'vitest';
import { luhnValid, PII_KINDS, PII_PLACEHOLDERS, redactPii, type PiiKind } from '../../src/privacy/redact.js';

/** [message, expected text after redaction, expected kinds] */
type Case = [string, string, PiiKind[]];

function expectRedacted([input, text, kinds]: Case) {
  const r = redactPii(input);
  expect(r.text, input).toBe(text);
  expect(r.kinds, input).toEqual(kinds);
}

describe('redactPii: CCCD / CMND', () => {
  it.each<Case>([
    ['số cccd của tôi là 001099012345', 'số cccd của tôi là [số CCCD]', ['cccd']],
    ['So CCCD cua toi la 001099012345 nha', 'So CCCD cua toi la [số CCCD] nha', ['cccd']],
    ['001099012345', '[số CCCD]', ['cccd']],
    ['căn cước 0010 9901 2345 bị mờ', 'căn cước [số CCCD] bị mờ', ['cccd']],
    ['CMND số 123456789 cấp năm 2010', 'CMND số [số CCCD] cấp năm 2010', ['cccd']],
    ['tài khoản VNeID của tôi là 001099012345', 'tài khoản VNeID của tôi là [số CCCD]', ['cccd']],
    ['số định danh 079 199 012 345.', 'số định danh [số CCCD].', ['cccd']],
  ])('%s', (...c) => expectRedacted(c));
});

describe('redactPii: phone numbers', () => {
  it.each<Case>([
    ['sdt 0912 345 678', 'sdt [số điện thoại]', ['phone']],
    ['SĐT của mẹ tôi: 0912345678, gọi giúp', 'SĐT của mẹ tôi: [số điện thoại], gọi giúp', ['phone']],
    ['gọi 0912.345.678 hoặc 0987-654-321', 'gọi [số điện thoại] hoặc [số điện thoại]', ['phone']],
    ['số của tôi +84 912 345 678', 'số của tôi [số điện thoại]', ['phone']],
    ['+84912345678', '[số điện thoại]', ['phone']],
    ['(+84) 912 345 678', '[số điện thoại]', ['phone']],
    ['84912345678', '[số điện thoại]', ['phone']],
    ['zalo 0345678901 nhé', 'zalo [số điện thoại] nhé', ['phone']],
    ['ĐT bàn: 028 3822 1234', 'ĐT bàn: [số điện thoại]', ['phone']],
    ['024.3825.1234', '[số điện thoại]', ['phone']],
    ['tôi sinh năm 1990 0912345678', 'tôi sinh năm 1990 [số điện thoại]', ['phone']],
    ['0912 345 678 năm 2025', '[số điện thoại] năm 2025', ['phone']],
    ['sdt:0912345678.', 'sdt:[số điện thoại].', ['phone']],
  ])('%s', (...c) => expectRedacted(c));
});

describe('redactPii: e-mail', () => {
  it.each<Case>([
    ['email của tôi là nguyenvana@gmail.com nhé', 'email của tôi là [email] nhé', ['email']],
    ['gửi về NguyenVanA@Gmail.COM.', 'gửi về [email].', ['email']],
    ['a.b+hoso@so-tttt.haugiang.gov.vn', '[email]', ['email']],
    ['thư gửi trần.thị.bình@example.vn', 'thư gửi [email]', ['email']],
  ])('%s', (...c) => expectRedacted(c));
});

describe('redactPii: bank accounts', () => {
  it.each<Case>([
    ['stk 0123456789 vietcombank', 'stk [số tài khoản] vietcombank', ['bank_account']],
    ['STK: 0123 4567 89 - VCB', 'STK: [số tài khoản] - VCB', ['bank_account']],
    [
      'số tài khoản của tôi là 19036789012345 techcombank',
      'số tài khoản của tôi là [số tài khoản] techcombank',
      ['bank_account'],
    ],
    ['so tai khoan 1903 6789 0123 45', 'so tai khoan [số tài khoản]', ['bank_account']],
    ['chuyển vào tk 123456789 giúp mình', 'chuyển vào tk [số tài khoản] giúp mình', ['bank_account']],
    ['stk 0912345678 mb bank', 'stk [số tài khoản] mb bank', ['bank_account']],
    ['stk 123.456.789', 'stk [số tài khoản]', ['bank_account']],
    ['account 88001234', 'account [số tài khoản]', ['bank_account']],
    ['chuyển nhầm vào 0123456789 agribank', 'chuyển nhầm vào [số tài khoản] agribank', ['bank_account']],
    ['4111111111111112', '[số tài khoản]', ['bank_account']],
    ['stk 1234567890 ngân hàng BIDV', 'stk [số tài khoản] ngân hàng BIDV', ['bank_account']],
    ['stk 12345678 Đông Á', 'stk [số tài khoản] Đông Á', ['bank_account']],
    ['stk 0123456789 k nhớ chi nhánh', 'stk [số tài khoản] k nhớ chi nhánh', ['bank_account']],
  ])('%s', (...c) => expectRedacted(c));
});

describe('redactPii: card numbers', () => {
  it.each<Case>([
    ['thẻ 4111 1111 1111 1111 bị khóa', 'thẻ [số thẻ] bị khóa', ['card']],
    ['4111-1111-1111-1111', '[số thẻ]', ['card']],
    ['4111111111111111', '[số thẻ]', ['card']],
    ['số thẻ ATM 9704 0000 0000 0018', 'số thẻ ATM [số thẻ]', ['card']],
    ['the atm 9704000000000018123', 'the atm [số thẻ]', ['card']],
  ])('%s', (...c) => expectRedacted(c));
});

describe('redactPii: OTP codes', () => {
  it.each<Case>([
    ['mã OTP 123456', 'mã OTP [mã OTP]', ['otp']],
    ['OTP: 482913 có hiệu lực 5 phút', 'OTP: [mã OTP] có hiệu lực 5 phút', ['otp']],
    ['ma otp la 1234', 'ma otp la [mã OTP]', ['otp']],
    ['Mã xác nhận của bạn là 246810', 'Mã xác nhận của bạn là [mã OTP]', ['otp']],
    ['ma xac thuc 12345678', 'ma xac thuc [mã OTP]', ['otp']],
    ['code 654321 nhập ở đâu', 'code [mã OTP] nhập ở đâu', ['otp']],
    ['mã 5678 hết hạn rồi', 'mã [mã OTP] hết hạn rồi', ['otp']],
    ['otp 123 456', 'otp [mã OTP]', ['otp']],
    ['mã OTP 1234 ngay đây', 'mã OTP [mã OTP] ngay đây', ['otp']],
    ['mã OTP 123456 k nhận được', 'mã OTP [mã OTP] k nhận được', ['otp']],
  ])('%s', (...c) => expectRedacted(c));
});

describe('redactPii: passwords', () => {
  it.each<Case>([
    ['mk là abc@123', 'mk là [mật khẩu]', ['password']],
    ['mật khẩu: Abc@12345', 'mật khẩu: [mật khẩu]', ['password']],
    ['MAT KHAU cua toi la matkhau123 nhe', 'MAT KHAU cua toi la [mật khẩu] nhe', ['password']],
    ['mật khẩu VNeID của mình là Hoa@2024!', 'mật khẩu VNeID của mình là [mật khẩu]', ['password']],
    ['pass 12345678', 'pass [mật khẩu]', ['password']],
    ['password: hunter22', 'password: [mật khẩu]', ['password']],
    ['passcode=998877', 'passcode=[mật khẩu]', ['password']],
    ['mã pin 1234', 'mã pin [mật khẩu]', ['password']],
    ['pin: 0000', 'pin: [mật khẩu]', ['password']],
    ['mật mã là 112233', 'mật mã là [mật khẩu]', ['password']],
    ['mk:Hoa_Mai', 'mk:[mật khẩu]', ['password']],
    ['mk mới là "xuan 2025" nhé', 'mk mới là [mật khẩu] nhé', ['password']],
    ["mật khẩu là 'abc 123'", 'mật khẩu là [mật khẩu]', ['password']],
    ['mật khẩu thẻ là abc123', 'mật khẩu thẻ là [mật khẩu]', ['password']],
    ['mk ngân hàng của tôi là số 123456', 'mk ngân hàng của tôi là số [mật khẩu]', ['password']],
  ])('%s', (...c) => expectRedacted(c));
});

describe('redactPii: ordinary text and numbers stay', () => {
  it.each([
    'Kế hoạch số 128/KH-UBND ngày 04/7/2022 của UBND tỉnh Hậu Giang',
    'KH 190/KH-UBND HG chỉ tiêu hồ sơ trực tuyến toàn trình tối thiểu bao nhiêu %?',
    'ngày 04/07/2022, hoặc 4.7.2022, lúc 10:30',
    'học phí 500.000 đồng, còn viện phí 1.250.000đ',
    'vay 10 triệu, lãi 1,5%/tháng, 95,5% hộ gia đình',
    'dự toán 1.250.000.000 đồng, tổng 100.000.000.000',
    'chuyển 5000000 cho con',
    'tài khoản bị trừ 1.500.000 mà chưa thấy về',
    'mục tiêu năm 2025 và 2030, giai đoạn 2021-2025, 2021 - 2030',
    'gọi tổng đài 1900 1234 hoặc 18001091',
    'dịch vụ công mức độ 4, VNeID mức 2, 4G, 2FA, 500k, 50tr',
    'mã hồ sơ 000.30.27.H12-220101-0001',
    'Điều 5 Khoản 2 Nghị định 13/2023/NĐ-CP',
    'mã OTP có hiệu lực 5 phút, nhập sai 3 lần bị khóa',
    'mã OTP gửi năm 2024 còn dùng được không',
    'tôi quên mã OTP và số tài khoản của tôi bị khóa',
    'quên mật khẩu VNeID thì làm sao?',
    'mật khẩu là gì',
    'mat khau la gi vay',
    'đổi mật khẩu như thế nào',
    'mk bao nhiêu ký tự',
    'mật khẩu phải có ít nhất 8 ký tự, gồm chữ hoa, số và ký tự đặc biệt',
    'mật khẩu là dãy số bí mật',
    'mật khẩu 6 số',
    'hết pin rồi, pin điện thoại yếu quá',
    'pass qua bước này kiểu gì',
    'mk thế nào là mạnh',
    'Mật khẩu mạnh: dài, có chữ hoa, chữ thường, số, ký hiệu',
    'Quên passcode: đăng nhập, chọn quên passcode, nhập OTP',
    'nên có **mật khẩu riêng**.',
    'Nhập mật khẩu Wi-Fi (thường dán ở cục phát Wi-Fi)',
    'một cặp khóa mật mã: khóa bí mật dùng để ký',
    'chứng minh nhân dân cũ có dùng được không',
    'email là gì, cách tạo email',
    'quét mã QR để thanh toán',
    'https://dichvucong.gov.vn/p/home/dvc-chi-tiet-thu-tuc-hanh-chinh.html?ma_thu_tuc=1.001234',
    '',
  ])('%s', (input) => {
    expect(redactPii(input)).toEqual({ text: input, kinds: [] });
  });
});

describe('redactPii: messages with several items', () => {
  it('redacts each item and reports each kind once, in a fixed order', () => {
    const input =
      'Em tên Lan, sđt 0912 345 678, email lan.nguyen@gmail.com, CCCD 001099012345. ' +
      'Hôm qua chuyển 500.000 đồng vào stk 0123456789 thì bị lừa lấy mã OTP 654321, ' +
      'mk là Lan@1990, thẻ 4111 1111 1111 1111, số khác 0987654321.';
    const r = redactPii(input);
    expect(r.text).toBe(
      'Em tên Lan, sđt [số điện thoại], email [email], CCCD [số CCCD]. ' +
        'Hôm qua chuyển 500.000 đồng vào stk [số tài khoản] thì bị lừa lấy mã OTP [mã OTP], ' +
        'mk là [mật khẩu] thẻ [số thẻ], số khác [số điện thoại].',
    );
    expect(r.kinds).toEqual(['cccd', 'phone', 'email', 'bank_account', 'card', 'otp', 'password']);
    for (const digits of [
      '0912',
      '345 678',
      '001099012345',
      '0123456789',
      '654321',
      'Lan@1990',
      '4111',
      '0987654321',
    ]) {
      expect(r.text).not.toContain(digits);
    }
  });

  it('is idempotent: redacting redacted text changes nothing', () => {
    for (const input of [
      'mk là abc@123, mã OTP 123456, stk 0123456789',
      'mật khẩu: [mật khẩu] và pin là [mã OTP]',
      'số cccd của tôi là 001099012345, sdt 0912 345 678, email a@b.vn',
    ]) {
      const once = redactPii(input).text;
      expect(redactPii(once).text).toBe(once);
      expect(redactPii(once).kinds).toEqual([]);
    }
  });
});

describe('redactPii: Unicode robustness', () => {
  it('handles NFD input and returns NFC text', () => {
    const input = 'Mật khẩu của tôi là Bí_Mật99, số CCCD 001099012345'.normalize('NFD');
    const r = redactPii(input);
    expect(r.text).toBe('Mật khẩu của tôi là [mật khẩu] số CCCD [số CCCD]');
    expect(r.kinds).toEqual(['cccd', 'password']);
  });

  it('sees through zero-width characters hidden in a number', () => {
    const r = redactPii('sdt 0912\u200B345\u200B678');
    expect(r.text).toBe('sdt [số điện thoại]');
    expect(r.kinds).toEqual(['phone']);
  });

  it('still finds personal data inside a URL', () => {
    expect(redactPii('https://example.vn/tra-cuu?phone=0912345678').text).toBe(
      'https://example.vn/tra-cuu?phone=[số điện thoại]',
    );
  });

  it('keeps the surrounding text intact, including emoji and line breaks', () => {
    const r = redactPii('Chào bạn 👋\nsdt mình 0912345678 😊\nCảm ơn!');
    expect(r.text).toBe('Chào bạn 👋\nsdt mình [số điện thoại] 😊\nCảm ơn!');
  });

  it('handles a long message quickly', () => {
    const chunk = 'Tôi đóng học phí 1.500.000 đồng năm 2025 theo 128/KH-UBND, sdt 0912345678. ';
    const input = chunk.repeat(100);
    const t0 = performance.now();
    const r = redactPii(input);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(r.text.match(/\[số điện thoại\]/g)).toHaveLength(100);
    expect(r.text).toContain('1.500.000 đồng năm 2025 theo 128/KH-UBND');
  });
});

describe('placeholders and helpers', () => {
  it('has a Vietnamese placeholder for every kind', () => {
    expect(Object.keys(PII_PLACEHOLDERS).sort()).toEqual([...PII_KINDS].sort());
    expect(PII_PLACEHOLDERS).toEqual({
      cccd: '[số CCCD]',
      phone: '[số điện thoại]',
      email: '[email]',
      bank_account: '[số tài khoản]',
      card: '[số thẻ]',
      otp: '[mã OTP]',
      password: '[mật khẩu]',
    });
  });

  it('checks card numbers with Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('9704000000000018')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });
});
