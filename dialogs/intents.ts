import { foldedWords } from '../src/text/vietnamese.js';

/**
 * Rule-based routing of a citizen's message. Patterns run on accent-folded text, so "gặp người
 * thật" and "gap nguoi that" are the same.
 */
export type Intent =
  | { kind: 'greeting' }
  | { kind: 'thanks' }
  | { kind: 'smalltalk'; reply: string }
  | { kind: 'menu' }
  | { kind: 'restart' }
  | { kind: 'handoff' }
  | { kind: 'feedback'; helpful: boolean }
  | { kind: 'topic'; topic: TopicId }
  | { kind: 'next_step' }
  | { kind: 'out_of_scope'; category: OutOfScopeCategory }
  | { kind: 'own_dossier' }
  | { kind: 'vague' }
  | { kind: 'question' };

export type TopicId = 'dich-vu-cong' | 'chu-ky-so' | 'thanh-toan' | 'an-toan';
export type OutOfScopeCategory =
  | 'weather'
  | 'prices'
  | 'lottery'
  | 'medical'
  | 'legal'
  | 'entertainment'
  | 'politics'
  | 'jobs'
  | 'hacking'
  | 'contacts';

/** Folded words (see `foldedWords`): what every pattern here matches against. */
export const fold = foldedWords;

const GREETING =
  /^(xin chao|chao|hello|hi|helo|alo|a lo|hey|kinh chao)( (ban|em|anh|chi|ad|admin|bot|tro li|shop|ca nha|moi nguoi|buoi sang|buoi toi))*( a| nhe| nha)?$/;
const THANKS =
  /^((ok|oke|vang|da|uh|u|duoc roi|hay qua|tot qua)\s)*(cam on|cam on nhieu|thank|thanks|thank you|tks|thanks you|camon|cam on ban|cam on em|cam on nhe)( (ban|em|anh|chi|ad|nhieu|nhe|nha|a))*$/;
const ACK =
  /^(ok|oke|okay|vang|da|uh|u|um|hieu roi|da hieu|duoc roi|roi|ok roi|tot|hay)( (a|nhe|nha|ban|em))*$/;
const BOT_IDENTITY =
  /\b(ban la ai|em la ai|ban la (nguoi|bot|may)|co phai (nguoi|bot|may)|ai dang tra loi)\b/;
const MENU =
  /^(menu|help|tro giup|giup do|danh muc|chuc nang|ban lam duoc gi|ban giup duoc gi|em giup duoc gi|huong dan su dung)$/;
const RESTART = /^(bat dau lai|lam lai|restart|start|bat dau|quay ve dau|reset|\/start)$/;
const HANDOFF =
  /\b(gap|noi chuyen voi|lien he|chuyen (cho|sang|toi|den)|goi|can|muon gap|ket noi( voi)?) (nguoi that|nguoi|nhan vien|can bo|to cong nghe so|to cns|to cnscd|tu van vien|tong dai vien|admin|ad)\b|\b(human|agent|nguoi that)\b|^gap to cong nghe so$/;
const NEXT_STEP =
  /^((con |the |vay )?(buoc )?(tiep|tiep theo|tiep nua|sau do|buoc sau|buoc tiep theo|roi sao nua|roi lam gi nua|xong roi lam gi|tiep di|tiep tuc|xem tiep))( (thi sao|la gi|nhu the nao|sao|a|nhe|di))*\??$/;

const TOPICS: [RegExp, TopicId][] = [
  [/^(dich vu cong( truc tuyen)?|dvc)$/, 'dich-vu-cong'],
  [/^(chu ki so|cks)$/, 'chu-ky-so'],
  [/^(thanh toan( khong dung tien mat)?|ttkdtm)$/, 'thanh-toan'],
  [/^(an toan( tren mang)?|lua dao|chong lua dao)$/, 'an-toan'],
];

const OUT_OF_SCOPE: [RegExp, OutOfScopeCategory][] = [
  [
    // "bão số 3", not "nó báo số thuê bao…" (a phone number has more than two digits)
    // "mưa" folds like "mua" (buy): rain only with a day ("mai Đà Nẵng có mưa không")
    /\b(thoi tiet|du bao thoi tiet|troi (co )?mua|nhiet do (hom nay|ngay mai)|bao so \d{1,2}|con bao|ap thap)\b|\b(mai|ngay mai|hom nay|toi nay|chieu nay|sang nay|dem nay|tuan nay|cuoi tuan)\b.*\b(co|se|con) mua (khong|ko|hong|k|to|lon|nhieu)\b/,
    'weather',
  ],
  [
    // "đô la" folds like "đó là": only with a price word
    /\b(gia vang|vang (sjc|9999|nhan)|ti gia|(gia|doi|mua|ban) do la|do la (mi|uc|hom nay)|usd|gia do|chung khoan|co phieu|gia lua|gia heo|gia ca phe|gia xang|bitcoin|tien ao|lai suat)\b/,
    'prices',
  ],
  // "vé số" folds like "(gửi) về số (cũ)", "còn đề" like "còn để": only in a lottery phrase
  [
    /\b(xo so|xs|xs(mn|mb|mt|kt)|lo de|danh de|(mua|ban|do|trung|to|tam) ve so|ve so (kien thiet|trung|hom nay|mien)|vietlott|soi cau)\b/,
    'lottery',
  ],
  [
    // "bị sót" (left out) folds like "bị sốt", "đâu hông" (where, not) like "đau họng"
    /\b(uong thuoc|thuoc (gi|nao)|lieu (dung|luong)|trieu chung|(bi )?sot (cao|nhe|ret|xuat huyet|\d{2})|dau (bung|lung|rang|da day)|bi (dau|nhuc) (dau|hong)|nhuc dau|chong mat|chua benh|benh gi|benh (tieu duong|huyet ap|gut)|co thai|mang thai|tiem vac xin cho be)\b/,
    'medical',
  ],
  [
    // a tax rate is the law's; filing tax online is in scope (ONLINE_WAY below)
    /\b(ly hon|tranh chap (dat|dat dai|nha|tai san|ranh gioi|loi di)|khoi kien|kien tung|di kien|kien ra (dau|toa)|thua ke|chia tai san|luat su|hop dong mua ban dat|cap so do|lam so do|so hong|ban an|thue suat|bac thue|bieu thue)\b|\bthue\b.*\bbao nhieu (phan tram|%)/,
    'legal',
  ],
  [
    /\b(chinh tri|dang phai|bau cu|tong thong|chu tich nuoc|chu tich quoc hoi|thu tuong (nghi|noi)|bieu tinh|tong bi thu|dai hoi dang|bo chinh tri|ban chap hanh trung uong|uy vien trung uong)\b/,
    'politics',
  ],
  [
    /\b(tuyen dung|xin viec|tim viec|viec lam|thi cong chuc|thi vien chuc|luong (cong chuc|giao vien)|nop don xin viec)\b/,
    'jobs',
  ],
  [
    /\b(hack|be khoa|xem trom|doc trom|theo doi (dien thoai|tin nhan)|lay mat khau) .*\b(nguoi khac|cua (no|ban trai|ban gai|vo|chong|nguoi yeu)|nguoi ta)\b/,
    'hacking',
  ],
  [
    // a named official's number; not "zalo của bà tôi" (a relative's account)
    /\b(so dien thoai|sdt|so dt|zalo|dia chi nha)( rieng| ca nhan| di dong)? (cua )?((ong|ba|anh|chi|chu|co) )?(chu tich|pho chu tich|bi thu|truong cong an|can bo|giam doc)\b/,
    'contacts',
  ],
  [
    // "tử vi" folds like "(chuyển) từ ví", "phim" like "(bấm) phím", so both only in a phrase
    /\b(bong da|ti so|xem tu vi|tu vi (nam|thang|hom nay|tuoi|tron doi)|la so tu vi|cung hoang dao|boi toan|xem tuoi|phong thuy|nau an|cong thuc nau|bai hat|(xem|coi|bo|tap|tai) phim|phim (hay|gi|moi|bo|truyen|han)|(choi|tai) game|game (gi|hay|nao)|truyen cuoi|ke chuyen cuoi)\b/,
    'entertainment',
  ],
];

/**
 * What keeps an out-of-scope word from declining an in-scope question: a scam ("việc làm thêm
 * online… có phải lừa không", "vé số online"), or the online way of doing it ("nộp hồ sơ cấp sổ
 * đỏ trên dịch vụ công", "hợp đồng mua bán đất ký số được không"). "lúa" (rice) folds like
 * "lừa" (cheat), so a scam is "bị lừa", "lừa đảo", "có phải lừa".
 */
const SCAM_TALK = /\b((co )?phai lua|bi lua|lua dao|gia mao|chiem doat)\b/;
const ONLINE_WAY =
  /\b(truc tuyen|online|qua mang|tren mang|dich vu cong|dvc|vneid|chu ki so|ki so|cks|app|ung dung)\b/;
const IN_SCOPE_ANCHOR: Partial<Record<OutOfScopeCategory, RegExp>> = {
  prices: SCAM_TALK,
  lottery: SCAM_TALK,
  jobs: SCAM_TALK,
  entertainment: SCAM_TALK,
  legal: new RegExp(`${SCAM_TALK.source}|${ONLINE_WAY.source}`),
};

/**
 * "Check my dossier for me": the citizen takes the assistant for the officer handling their
 * dossier. A dossier (hồ sơ) and either a request to look it up for them ("kiểm tra giùm", "xem
 * giúp") or its status asked with its code ("mã số H12.34-… đã duyệt chưa").
 */
const DOSSIER = /\b(ho so|hs)\b/;
const LOOK_UP_FOR_ME = /\b(kiem tra|xem|tra|tra cuu|check|coi|ktra)( lai)? (giup|gium|dum|ho(?! so))\b/;
const STATUS = /\b(duyet chua|xong chua|co ket qua chua|den dau roi|toi dau roi|sao roi)\b/;
/** Asking how to do something ("xem giúp cách nộp hồ sơ") is a question, not a look-up. */
const HOW_TO = /\b(cach|lam sao|the nao|nhu nao|huong dan|can (giay to )?gi)\b/;
// Folded, a code such as 000.00.12.H47-251201-0001 keeps its date and number: "251201 0001".
const DOSSIER_CODE = /\b(ma (so|ho so)|so ho so)\b|\b\d{6} \d{3,}\b/;

/** Words that carry no subject; a message made only of these is too vague to answer. */
const GENERIC = new Set(
  'huong dan giup chi cho toi minh em anh chi ban voi hoi cach lam sao the nao nhu nao a oi nhe nha di can muon biet thong tin van de cai nay do viec gi ve duoc khong co the xin vui long hay cu la may cau hoi tu van ho tro ad admin bot nay kia dum giup do'.split(
    ' ',
  ),
);

export function detectIntent(text: string): Intent {
  const f = fold(text);
  const trimmed = text.trim();
  if (trimmed === '👍' || /^👍/.test(trimmed) || f === 'huu ich') return { kind: 'feedback', helpful: true };
  if (trimmed === '👎' || /^👎/.test(trimmed) || f === 'chua huu ich' || f === 'khong huu ich')
    return { kind: 'feedback', helpful: false };
  if (!f) return { kind: 'vague' };
  if (RESTART.test(f)) return { kind: 'restart' };
  if (MENU.test(f)) return { kind: 'menu' };
  if (HANDOFF.test(f)) return { kind: 'handoff' };
  if (GREETING.test(f)) return { kind: 'greeting' };
  if (THANKS.test(f)) return { kind: 'thanks' };
  if (ACK.test(f)) return { kind: 'smalltalk', reply: 'Dạ vâng. Bạn cần hỏi thêm gì cứ nhắn cho mình nhé.' };
  if (BOT_IDENTITY.test(f)) {
    return {
      kind: 'smalltalk',
      reply:
        'Mình là Trợ lý Công dân số, một trợ lý tự động. Mình trả lời theo tài liệu hướng dẫn chính thức; câu nào chưa chắc, mình chuyển cho Tổ công nghệ số cộng đồng trả lời bạn.',
    };
  }
  for (const [re, topic] of TOPICS) if (re.test(f)) return { kind: 'topic', topic };
  if (NEXT_STEP.test(f)) return { kind: 'next_step' };
  if (
    DOSSIER.test(f) &&
    !HOW_TO.test(f) &&
    (LOOK_UP_FOR_ME.test(f) || (STATUS.test(f) && DOSSIER_CODE.test(f)))
  )
    return { kind: 'own_dossier' };
  for (const [re, category] of OUT_OF_SCOPE)
    if (re.test(f) && !IN_SCOPE_ANCHOR[category]?.test(f)) return { kind: 'out_of_scope', category };
  const content = f.split(' ').filter((t) => t && !GENERIC.has(t));
  if (content.length === 0) return { kind: 'vague' };
  return { kind: 'question' };
}

/** Phrases that make a question lean on the previous one ("còn lệ phí thì sao?"). */
const FOLLOW_UP =
  /(^(con|the con|vay|vay con|the|roi|neu vay|the thi)\b)|\b(thi sao|cai do|cai nay|viec do|viec nay|cho do|o do|nhu vay|lam vay|nhu tren|no co|no la|duoc khong|dc khong|khong a)\b/;

export function looksLikeFollowUp(text: string): boolean {
  const f = fold(text);
  const content = f.split(' ').filter((t) => t && !GENERIC.has(t));
  return FOLLOW_UP.test(f) || content.length <= 2;
}

export function isYes(text: string): boolean {
  return (
    /^(co|vang|da|ok|oke|dong y|duoc|chuyen|chuyen giup|chuyen di|co chuyen|yes|u|uh|chuyen giup minh|co, chuyen giup minh|nho chuyen giup)( .*)?$/.test(
      fold(text),
    ) && !isNo(text)
  );
}

export function isNo(text: string): boolean {
  return /^(khong|ko|k|thoi|khong can|khong can dau|no|khoi|de sau|bo qua)( .*)?$/.test(fold(text));
}
