import matter from 'gray-matter';
import { parse as parseYaml } from 'yaml';
import { badArgument } from './errors.js';

export interface ParsedMarkdown {
  meta: Record<string, unknown>;
  body: string;
  /** True when the text starts with a `---` front matter block. */
  hasFrontMatter: boolean;
}

/** Front matter (YAML 1.2, so dates stay strings) and body; throws on invalid YAML. */
export function parseMarkdown(text: string): ParsedMarkdown {
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const file = matter(normalized, {
    engines: {
      yaml: (source: string) => {
        const value: unknown = parseYaml(source);
        if (value === null || value === undefined) return {};
        if (typeof value !== 'object' || Array.isArray(value)) {
          throw new Error('the front matter must be a list of "key: value" lines');
        }
        return value;
      },
    },
  });
  return {
    meta: file.data as Record<string, unknown>,
    body: file.content,
    hasFrontMatter: /^---[ \t]*\n/.test(normalized),
  };
}

export const REQUIRED_FIELDS = ['title', 'topic', 'updated', 'owner'] as const;

const filled = (v: unknown) => (typeof v === 'string' && v.trim() !== '') || typeof v === 'number';

/**
 * Checks a Markdown document written in the console: the front matter must parse and give a
 * non-empty title, topic, updated and owner, and there must be text below it. Throws 400 otherwise.
 */
export function validateMarkdown(content: unknown, options: { faq?: boolean } = {}): ParsedMarkdown {
  if (typeof content !== 'string' || !content.trim()) throw badArgument('content is required');
  if (content.includes('\0')) throw badArgument('content must be text');
  let parsed: ParsedMarkdown;
  try {
    parsed = parseMarkdown(content);
  } catch (err) {
    throw badArgument(
      `the front matter is not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    );
  }
  if (!parsed.hasFrontMatter) {
    throw badArgument('the document must start with front matter (---, title, topic, updated, owner, ---)');
  }
  const missing = REQUIRED_FIELDS.filter((f) => !filled(parsed.meta[f]));
  if (missing.length) {
    throw badArgument(`the front matter needs a non-empty ${missing.join(', ')}`);
  }
  const q = parsed.meta.questions;
  if (options.faq && q !== undefined && q !== null && !Array.isArray(q)) {
    throw badArgument('questions (front matter) must be a list of texts');
  }
  if (!parsed.body.trim()) throw badArgument('the document has no text below the front matter');
  return parsed;
}

export function stringMeta(v: unknown): string | undefined {
  if (typeof v === 'number') return String(v);
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}
