import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import type { Config } from '../config.js';
import type { RetrievalResult } from '../retrieval/types.js';
import type { GroundedGenerator, QuestionRewriter } from './answerService.js';
import { toSource } from './extractive.js';
import { markdownToChatText, truncateForPhone } from './plainText.js';
import type { AnswerSource } from './types.js';

/** What the model must answer when the passages do not contain the answer. */
export const NO_ANSWER_TOKEN = 'KHONG_CO_THONG_TIN';

const answerInstructions = (maxChars: number) =>
  [
    'Bạn là Trợ lý Công dân số, hướng dẫn người dân Việt Nam (nhiều người lớn tuổi) dùng dịch vụ công trực tuyến, VNeID, chữ ký số và thanh toán không dùng tiền mặt.',
    'Chỉ dùng thông tin trong các đoạn tài liệu được đánh số bên dưới. Không thêm phí, số điện thoại, thời hạn, địa chỉ web hay bước nào không có trong tài liệu.',
    `Nếu tài liệu không chứa câu trả lời, chỉ trả lời đúng một từ: ${NO_ANSWER_TOKEN}`,
    `Trả lời bằng tiếng Việt dễ hiểu, xưng "mình", gọi người hỏi là "bạn", ngắn gọn (dưới ${maxChars} ký tự), các bước đánh số 1. 2. 3. Không dùng định dạng Markdown như ** hay #.`,
    'Ghi số đoạn tài liệu đã dùng trong ngoặc vuông, ví dụ [1], ở cuối câu liên quan.',
    'Không bao giờ hỏi mã OTP, mật khẩu, số CCCD hay số tài khoản của người dân.',
  ].join('\n');

const REWRITE_INSTRUCTIONS =
  'Viết lại câu hỏi nối tiếp của người dân thành một câu hỏi tiếng Việt đầy đủ, tự hiểu được mà không cần câu trước. Chỉ trả về câu hỏi đã viết lại, không giải thích.';

/**
 * The answer writer and question rewriter backed by an OpenAI-compatible chat model
 * (`ChatOpenAI` from @langchain/openai; OpenAI, Azure, vLLM or Ollama through OPENAI_BASE_URL).
 */
export class GroundedModel implements GroundedGenerator, QuestionRewriter {
  constructor(
    private readonly model: ChatOpenAI,
    private readonly maxChars: number,
    private readonly passages = 4,
  ) {}

  async generate(
    question: string,
    result: RetrievalResult,
    signal: AbortSignal,
  ): Promise<{ body: string; sources: AnswerSource[] } | undefined> {
    const hits = result.hits.slice(0, this.passages);
    const context = hits
      .map(
        (h, i) =>
          `[${i + 1}] ${h.chunk.title}${h.chunk.headingPath.length ? ` > ${h.chunk.headingPath.join(' > ')}` : ''}\n${h.chunk.text}`,
      )
      .join('\n\n');
    const response = await this.model.invoke(
      [
        new SystemMessage(answerInstructions(this.maxChars)),
        new HumanMessage(`Tài liệu:\n${context}\n\nCâu hỏi: ${question}`),
      ],
      { signal },
    );
    const text =
      typeof response.content === 'string'
        ? response.content
        : response.content.map((c) => ('text' in c ? c.text : '')).join('');
    const trimmed = text.trim();
    if (!trimmed || trimmed.includes(NO_ANSWER_TOKEN)) return undefined;
    const cited = [...new Set([...trimmed.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]) - 1))].filter(
      (i) => hits[i],
    );
    const used = cited.length ? cited.map((i) => hits[i]!) : hits.slice(0, 1);
    // Models write Markdown and run long despite the instructions: clean and cut it for a phone.
    const body = truncateForPhone(markdownToChatText(trimmed.replace(/\s*\[\d+\]/g, '')), this.maxChars).text;
    return { body, sources: used.map(toSource) };
  }

  async rewrite(question: string, previousQuestion: string, signal: AbortSignal): Promise<string> {
    const response = await this.model.invoke(
      [
        new SystemMessage(REWRITE_INSTRUCTIONS),
        new HumanMessage(`Câu hỏi trước: ${previousQuestion}\nCâu hỏi nối tiếp: ${question}`),
      ],
      { signal },
    );
    return typeof response.content === 'string' ? response.content : '';
  }
}

export function createGroundedModel(llm: NonNullable<Config['llm']>, maxChars: number): GroundedModel {
  const model = new ChatOpenAI({
    model: llm.model,
    apiKey: llm.apiKey,
    configuration: llm.baseURL ? { baseURL: llm.baseURL } : undefined,
    temperature: 0.1,
    maxRetries: 0,
    timeout: llm.timeoutMs,
  });
  return new GroundedModel(model, maxChars);
}
