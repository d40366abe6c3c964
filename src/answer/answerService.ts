import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { PII_PLACEHOLDERS } from '../privacy/redact.js';
import { CONFIDENCE } from '../retrieval/confidence.js';
import { indexText } from '../retrieval/hybridRetriever.js';
import type { RetrievalResult, Retriever } from '../retrieval/types.js';
import { foldedWords } from '../text/vietnamese.js';
import { composeExtractive, formatSources, toSource } from './extractive.js';
import { servicesNotMentioned } from './namedServices.js';
import { sideQuestionNotes } from './sideQuestions.js';
import { withoutUnaskedVerdict } from './verdictOpening.js';
import { suggestionsFrom } from './suggestions.js';
import type { Answer, AnswerSource } from './types.js';

/** Writes an answer from retrieved passages with a language model; see `groundedGenerator.ts`. */
export interface GroundedGenerator {
  /** Returns undefined when the passages do not contain the answer. */
  generate(
    question: string,
    result: RetrievalResult,
    signal: AbortSignal,
  ): Promise<{ body: string; sources: AnswerSource[] } | undefined>;
}

export interface AnswerServiceOptions {
  retriever: Retriever;
  maxChars: number;
  logger: Logger;
  generator?: GroundedGenerator;
  rewriter?: QuestionRewriter;
  /** Time budget for the model; past it the extractive answer is used. */
  generatorTimeoutMs?: number;
  answerThreshold?: number;
  /** Below this confidence the offline answer asks which entry the citizen means (`clarify`). */
  clarifyBelow?: number;
  /** The same, when the lexical and vector legs agree on the best document. */
  clarifyBelowWhenLegsAgree?: number;
}

export interface AnswerRequest {
  question: string;
  /** The citizen's previous question, when this one is a follow-up ("còn lệ phí thì sao?"). */
  previousQuestion?: string;
}

/** Rewrites a follow-up into a question that stands alone (with a model; see `groundedGenerator.ts`). */
export interface QuestionRewriter {
  rewrite(question: string, previousQuestion: string, signal: AbortSignal): Promise<string>;
}

const PLACEHOLDERS = new RegExp(
  Object.values(PII_PLACEHOLDERS)
    .map((p) => p.replace(/[[\]]/g, '\\$&'))
    .join('|'),
  'g',
);

/**
 * Personal data was replaced by placeholders before the question got here ("gọi tôi số [số điện
 * thoại]"); the placeholder's words are not what the citizen asked about and must not be searched.
 */
function withoutPlaceholders(text: string): string {
  return text.replace(PLACEHOLDERS, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * The passage fitted to the question: without a bare "Được." the question did not ask for
 * (`withoutUnaskedVerdict`), then the lines of `sideQuestionNotes` (the cost or time the passage
 * does not give).
 */
function fittedToQuestion(foldedQuestion: string, body: string, topic: string | undefined): string {
  const passage = withoutUnaskedVerdict(foldedQuestion, body);
  return [passage, ...sideQuestionNotes(foldedQuestion, passage, topic)].join('\n\n');
}

export const NOT_ANSWERED_TEXT =
  'Mình chưa có thông tin chính xác về câu hỏi này nên không dám trả lời sai cho bạn.';

export const CLARIFY_INTRO =
  'Mình chưa chắc đã hiểu đúng ý bạn. Có phải bạn muốn hỏi một trong những điều này không?';

/**
 * The answer policy: retrieve, decide whether the passages answer the question, then write the
 * answer (with a configured model, or extractively offline), always with its sources.
 */
export class AnswerService {
  private readonly threshold: number;
  private readonly clarifyBelow: number;
  private readonly clarifyBelowWhenLegsAgree: number;

  constructor(private readonly options: AnswerServiceOptions) {
    this.threshold = options.answerThreshold ?? CONFIDENCE.answerThreshold;
    this.clarifyBelow = options.clarifyBelow ?? CONFIDENCE.clarifyBelow;
    this.clarifyBelowWhenLegsAgree =
      options.clarifyBelowWhenLegsAgree ?? Math.min(this.clarifyBelow, CONFIDENCE.clarifyBelowWhenLegsAgree);
  }

  async answer(request: AnswerRequest): Promise<Answer> {
    const question = withoutPlaceholders(request.question);
    const previous = request.previousQuestion && withoutPlaceholders(request.previousQuestion);
    const query = previous ? await this.standalone(question, previous) : question;
    const retrieval = await this.options.retriever.retrieve(query, { k: 5 });
    const id = randomUUID();
    const best = retrieval.hits[0];
    if (!best || retrieval.confidence < this.threshold) return this.notAnswered(id, retrieval);
    const topic = best.chunk.topic;
    // Folded once for the checks below that read the citizen's words (named services, side questions).
    const folded = foldedWords(question);
    // Between the two thresholds the nearest entry is as often wrong as right: a configured model
    // judges whether the passages answer, the offline policy asks the citizen what they mean.
    // An entry that never mentions the app or service the citizen named is about something else.
    const sure =
      retrieval.confidence >=
        (retrieval.signals.agreement ? this.clarifyBelowWhenLegsAgree : this.clarifyBelow) &&
      servicesNotMentioned(folded, () => indexText(best.chunk), best.chunk).length === 0;
    if (sure && retrieval.faqMatch && best.chunk.id === retrieval.faqMatch.chunkId) {
      const composed = composeExtractive({ ...retrieval, hits: [best] }, this.options.maxChars);
      const body = fittedToQuestion(folded, composed.body, topic);
      return this.finish(id, body, [toSource(best)], retrieval, 'faq', topic);
    }
    let fallbackReason: string | undefined;
    if (this.options.generator) {
      try {
        const generated = await this.withTimeout((signal) =>
          this.options.generator!.generate(question, retrieval, signal),
        );
        if (!generated) return this.notAnswered(id, retrieval);
        return this.finish(id, generated.body, generated.sources, retrieval, 'generative', topic);
      } catch (err) {
        fallbackReason = err instanceof Error ? err.message : String(err);
        this.options.logger.warn({ err: fallbackReason }, 'model answer failed; using the extractive answer');
      }
    }
    const answer = sure ? this.extractive(id, retrieval, folded) : this.clarify(id, retrieval);
    return fallbackReason ? { ...answer, fallbackReason } : answer;
  }

  /**
   * The answer from the entry the citizen chose among the suggestions of `question`; undefined
   * when that entry is no longer among them (the knowledge changed in between).
   */
  async answerChosen(question: string, chunkId: string): Promise<Answer | undefined> {
    const retrieval = await this.options.retriever.retrieve(withoutPlaceholders(question), { k: 5 });
    const chosen = retrieval.hits.find((h) => h.chunk.id === chunkId);
    if (!chosen) return undefined;
    const rest = retrieval.hits.filter((h) => h !== chosen && h.chunk.docId === chosen.chunk.docId);
    const hits = chosen.chunk.kind === 'faq' ? [chosen] : [chosen, ...rest];
    const answer = this.extractive(randomUUID(), { ...retrieval, hits }, foldedWords(question));
    return { ...answer, mode: chosen.chunk.kind === 'faq' ? 'faq' : 'extractive' };
  }

  /** The passages' own words, then a line for what the question also asked and they do not say. */
  private extractive(id: string, retrieval: RetrievalResult, foldedQuestion: string): Answer {
    const composed = composeExtractive(retrieval, this.options.maxChars);
    const topic = retrieval.hits[0]?.chunk.topic;
    const body = fittedToQuestion(foldedQuestion, composed.body, topic);
    return this.finish(id, body, composed.sources, retrieval, 'extractive', topic);
  }

  private clarify(id: string, retrieval: RetrievalResult): Answer {
    const suggestions = suggestionsFrom(retrieval);
    if (!suggestions.length) return this.notAnswered(id, retrieval);
    const text = [CLARIFY_INTRO, ...suggestions.map((s, i) => `${i + 1}. ${s.label}`)].join('\n');
    return {
      id,
      answered: false,
      text,
      body: text,
      sources: [],
      confidence: retrieval.confidence,
      mode: 'clarify',
      topic: retrieval.hits[0]?.chunk.topic,
      suggestions,
      retrieval,
    };
  }

  private notAnswered(id: string, retrieval: RetrievalResult): Answer {
    return {
      id,
      answered: false,
      text: NOT_ANSWERED_TEXT,
      body: NOT_ANSWERED_TEXT,
      sources: [],
      confidence: retrieval.confidence,
      mode: 'none',
      retrieval,
    };
  }

  /**
   * A follow-up made to stand alone: rewritten by the model when there is one, otherwise the
   * previous question's words are carried into retrieval.
   */
  private async standalone(question: string, previous: string): Promise<string> {
    if (this.options.rewriter) {
      try {
        const rewritten = await this.withTimeout((signal) =>
          this.options.rewriter!.rewrite(question, previous, signal),
        );
        if (rewritten.trim()) return rewritten.trim();
      } catch (err) {
        this.options.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'question rewriting failed',
        );
      }
    }
    return `${question} ${previous}`;
  }

  private finish(
    id: string,
    body: string,
    sources: AnswerSource[],
    retrieval: RetrievalResult,
    mode: Answer['mode'],
    topic?: string,
  ): Answer {
    const sourcesLine = formatSources(sources);
    return {
      id,
      answered: true,
      text: sourcesLine ? `${body}\n\n${sourcesLine}` : body,
      body,
      sources,
      confidence: retrieval.confidence,
      mode,
      topic,
      retrieval,
    };
  }

  private async withTimeout<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ms = this.options.generatorTimeoutMs ?? 8000;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error(`model took longer than ${ms} ms`));
      }, ms);
    });
    try {
      return await Promise.race([run(controller.signal), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
