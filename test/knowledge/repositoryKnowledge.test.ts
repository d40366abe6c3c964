import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { markdownToChatText, truncateForPhone } from '../../src/answer/plainText.js';
import { loadConfig } from '../../src/config.js';
import { loadDocument } from '../../src/ingest/loaders.js';
import { validateMarkdown } from '../../src/knowledgeConsole/frontMatter.js';
import { listKnowledgeFiles } from '../../src/retrieval/indexBuilder.js';
import { REAL_KNOWLEDGE_DIR } from '../helpers/knowledge.js';

/**
 * The knowledge shipped in the repository, held to what ICT staff and citizens rely on: every
 * guide and FAQ entry carries the front matter reviewers need, and every FAQ answer reaches the
 * citizen whole (an answer longer than the chat's limit is cut, and its last steps lost).
 */
const indexed = listKnowledgeFiles(REAL_KNOWLEDGE_DIR);
const faqs = indexed.filter((f) => f.startsWith('faq/') && f.endsWith('.md'));
const guides = indexed.filter((f) => f.startsWith('guides/') && f.endsWith('.md'));
const read = (id: string) => fs.readFileSync(path.join(REAL_KNOWLEDGE_DIR, id), 'utf8');

describe('the repository knowledge', () => {
  it('has guides and FAQ entries to check', () => {
    expect(guides.length).toBeGreaterThan(10);
    expect(faqs.length).toBeGreaterThan(10);
  });

  it.each([...guides, ...faqs])('%s has title, topic, updated and owner', (id) => {
    expect(() => validateMarkdown(read(id), { faq: id.startsWith('faq/') })).not.toThrow();
  });

  it.each(faqs)('%s: paraphrases, an existing source, and an answer that is never cut', async (id) => {
    const doc = await loadDocument(REAL_KNOWLEDGE_DIR, id);
    const questions = doc.meta.questions as unknown[];
    expect(questions.length).toBeGreaterThanOrEqual(3);
    for (const q of questions) expect(typeof q === 'string' && q.trim() !== '').toBe(true);
    if (doc.meta.source !== undefined) {
      const source = String(doc.meta.source);
      expect(fs.existsSync(path.join(REAL_KNOWLEDGE_DIR, source)), source).toBe(true);
    }
    // The answer as the chat sends it (composeExtractive), with the default ANSWER_MAX_CHARS.
    const answer = markdownToChatText(doc.body.trim());
    expect(truncateForPhone(answer, loadConfig({}).answerMaxChars).truncated).toBe(false);
  });
});
