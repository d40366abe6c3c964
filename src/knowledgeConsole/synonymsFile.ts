import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SynonymMap } from '../text/synonyms.js';
import { badArgument } from './errors.js';
import { writeFileAtomic } from './files.js';

export const SYNONYMS_FILE = 'synonyms.yaml';

const fileOf = (knowledgeDir: string) => path.join(knowledgeDir, SYNONYMS_FILE);

function countGroups(content: string): number {
  const doc: unknown = parse(content);
  const groups = doc && typeof doc === 'object' ? (doc as { groups?: unknown }).groups : undefined;
  return Array.isArray(groups) ? groups.length : 0;
}

/** The abbreviation and synonym map as staff edit it (`knowledge/synonyms.yaml`). */
export function readSynonyms(knowledgeDir: string): { content: string; groups: number } {
  const file = fileOf(knowledgeDir);
  const content = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  let groups = 0;
  try {
    groups = countGroups(content);
  } catch {
    // A broken file is shown as it is, so staff can fix it.
  }
  return { content, groups };
}

/** Validates with the parser the index uses (400 with its message, nothing written), then saves. */
export function writeSynonyms(knowledgeDir: string, content: unknown): { groups: number } {
  if (typeof content !== 'string') throw badArgument('content is required (the YAML text)');
  if (content.length > 1024 * 1024) throw badArgument('the synonym file is too long (max 1 MB)');
  let groups: number;
  try {
    SynonymMap.parse(content);
    groups = countGroups(content);
  } catch (err) {
    throw badArgument(
      `synonyms.yaml is not valid: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    );
  }
  let text = content.replace(/\r\n?/g, '\n').normalize('NFC');
  if (!text.endsWith('\n')) text += '\n';
  writeFileAtomic(fileOf(knowledgeDir), text);
  return { groups };
}
