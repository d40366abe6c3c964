import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { validateMarkdown } from '../../src/knowledgeConsole/frontMatter.js';
import { REAL_KNOWLEDGE_DIR } from '../helpers/knowledge.js';

/**
 * The knowledge shipped in the repository, held to what ICT staff and citizens rely on: every
 * guide and FAQ entry carries the front matter reviewers need, and every FAQ answer reaches the
 * citizen whole (an answer longer than the chat's limit is cut, and its last steps lost).
 */
const markdown = (dir: string) =>
  fs
    .readdirSync(path.join(REAL_KNOWLEDGE_DIR, dir))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `${dir}/${f}`);
const read = (id: string) => fs.readFileSync(path.join(REAL_KNOWLEDGE_DIR, id), 'utf8');
const faqs = markdown('faq');
const guides = markdown('guides');

describe('the repository knowledge', () => {
  it('has guides and FAQ entries to check', () => {
    expect(guides.length).toBeGreaterThan(10);
    expect(faqs.length).toBeGreaterThan(10);
  });

  it.each([...guides, ...faqs])('%s has title, topic, updated and owner', (id) => {
    expect(() => validateMarkdown(read(id), { faq: id.startsWith('faq/') })).not.toThrow();
  });

  it.each(faqs)('%s: paraphrases, an existing source, and an answer that is never cut', (id) => {
    const { meta, body } = validateMarkdown(read(id), { faq: true });
    const questions = meta.questions as unknown[];
    expect(questions.length).toBeGreaterThanOrEqual(3);
    for (const q of questions) expect(typeof q === 'string' && q.trim() !== '').toBe(true);
    if (meta.source !== undefined) {
      expect(fs.existsSync(path.join(REAL_KNOWLEDGE_DIR, String(meta.source))), String(meta.source)).toBe(true);
    }
    // Longer than the default ANSWER_MAX_CHARS, the answer is cut on the phone (see truncateForPhone).
    expect(body.trim().length).toBeLessThanOrEqual(loadConfig({}).answerMaxChars);
  });
});
