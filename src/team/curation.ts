import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { Logger } from '../logger.js';
import type { KnowledgeBase } from '../retrieval/knowledgeIndex.js';
import { foldDiacritics, normalizeText } from '../text/vietnamese.js';
import type { Principal } from './auth.js';
import { TeamError } from './inbox.js';
import type { InboxQuestion } from './teamStore.js';

export interface PromoteInput {
  question?: unknown;
  answer?: unknown;
  paraphrases?: unknown;
  topic?: unknown;
  source?: unknown;
}

const stripPlaceholders = (s: string) =>
  s
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

export function slugify(text: string): string {
  const slug = foldDiacritics(normalizeText(text))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug || 'cau-hoi';
}

/**
 * Curation: an answered question (edited by an admin) becomes an FAQ entry in knowledge/faq/ with the
 * group's texts as paraphrases; the index is rebuilt in the background (KnowledgeBase.rebuild builds a
 * new version and swaps to it atomically), one rebuild at a time, through the service's shared
 * re-index queue (src/knowledgeConsole/reindexJob.ts) when one is given.
 */
export class Curation {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly o: {
      knowledge: Pick<KnowledgeBase, 'rebuild' | 'status'>;
      knowledgeDir: string;
      logger: Logger;
      /** How long `promote` waits for the rebuild before answering (it goes on in the background). */
      waitMs?: number;
      /**
       * The service's shared re-index queue (the knowledge console's ReindexJob), so there is one
       * background re-index at a time; without it Curation queues its own rebuilds.
       */
      reindex?: (change: {
        action: string;
        target?: string;
        actorId?: string;
        actorName?: string;
      }) => Promise<string | null>;
    },
  ) {}

  async promote(
    admin: Principal,
    q: InboxQuestion,
    group: readonly InboxQuestion[],
    input: PromoteInput,
  ): Promise<{ file: string; indexVersion: string | null }> {
    const title = stripPlaceholders(typeof input.question === 'string' ? input.question : q.text);
    const answer = (typeof input.answer === 'string' ? input.answer : (q.answerText ?? '')).trim();
    if (!title || title.length > 300) throw new TeamError(400, 'BadArgument', 'question is required (≤ 300)');
    if (!answer) throw new TeamError(400, 'BadArgument', 'answer is required (the question has none)');
    if (answer.length > 4000) throw new TeamError(400, 'BadArgument', 'answer is too long');
    if (input.paraphrases !== undefined && !Array.isArray(input.paraphrases)) {
      throw new TeamError(400, 'BadArgument', 'paraphrases must be a list of texts');
    }
    const given = ((input.paraphrases as unknown[] | undefined) ?? []).filter(
      (x): x is string => typeof x === 'string',
    );
    const seen = new Set([normalizeText(title)]);
    const questions: string[] = [];
    for (const p of [...given, q.text, ...group.map((g) => g.text)].map(stripPlaceholders)) {
      const key = normalizeText(p);
      if (!p || p.length > 300 || seen.has(key)) continue;
      seen.add(key);
      questions.push(p);
    }
    const faqDir = path.join(this.o.knowledgeDir, 'faq');
    fs.mkdirSync(faqDir, { recursive: true });
    const base = `to-${slugify(title)}`;
    let name = `${base}.md`;
    for (let i = 2; fs.existsSync(path.join(faqDir, name)); i++) name = `${base}-${i}.md`;
    const front: Record<string, unknown> = {
      title,
      topic: typeof input.topic === 'string' && input.topic ? input.topic : (q.topic ?? 'to-cong-nghe-so'),
      updated: new Date().toISOString().slice(0, 10),
      owner: `Tổ công nghệ số ${q.commune ?? ''} (đã duyệt bởi ${admin.name})`.replace(/\s+/g, ' '),
      questions,
    };
    if (typeof input.source === 'string' && input.source) front.source = input.source;
    const body = `---\n${YAML.stringify(front).trimEnd()}\n---\n${answer}\n`;
    const target = path.join(faqDir, name);
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, body, 'utf8');
    fs.renameSync(tmp, target);
    const file = `faq/${name}`;
    this.o.logger.info({ file, by: admin.id }, 'FAQ entry promoted from the team inbox; re-indexing');

    const rebuild = this.o.reindex
      ? this.o.reindex({ action: 'question.promote', target: file, actorId: admin.id, actorName: admin.name })
      : this.rebuild();
    const done = await Promise.race([
      rebuild.then((version) => version),
      new Promise<null>((r) => setTimeout(() => r(null), this.o.waitMs ?? 15_000).unref()),
    ]);
    return { file, indexVersion: done };
  }

  /** Queues a rebuild; resolves with the new version (or null when it failed, logged). */
  rebuild(): Promise<string | null> {
    const run = this.queue.then(async () => {
      try {
        return (await this.o.knowledge.rebuild()).version;
      } catch (err) {
        this.o.logger.error({ err }, 'knowledge re-index after promotion failed');
        return null;
      }
    });
    this.queue = run;
    return run;
  }

  idle(): Promise<unknown> {
    return this.queue;
  }
}
