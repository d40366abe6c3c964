import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { canonicalSyllable, foldDiacritics, normalizeText, tokenize } from '../text/vietnamese.js';

const flowSchema = z.object({
  title: z.string().min(1),
  topic: z.string().optional(),
  updated: z.union([z.string(), z.date()]).optional(),
  owner: z.string().optional(),
  summary: z.string().optional(),
  related: z.array(z.string()).default([]),
  triggers: z.array(z.string()).default([]),
  steps: z.array(z.object({ title: z.string().min(1), text: z.string().min(1) })).min(1),
});

export interface GuidedFlow {
  id: string;
  title: string;
  topic?: string;
  summary?: string;
  related: string[];
  triggers: string[];
  steps: { title: string; text: string }[];
}

export const FLOW_BUTTON_PREFIX = 'Hướng dẫn từng bước: ';

const foldPhrase = (s: string) =>
  tokenize(foldDiacritics(normalizeText(s)))
    .map(canonicalSyllable)
    .join(' ');

/** Guided flows defined as YAML files in `knowledge/flows/`, which ICT staff edit. */
export class FlowLibrary {
  private readonly flows: GuidedFlow[];
  private readonly byTrigger: { phrase: string; flow: GuidedFlow }[];

  constructor(flows: GuidedFlow[]) {
    this.flows = flows;
    this.byTrigger = flows.flatMap((f) =>
      [f.title, `${FLOW_BUTTON_PREFIX}${f.title}`, ...f.triggers].map((t) => ({
        phrase: foldPhrase(t),
        flow: f,
      })),
    );
  }

  /** Loads every `*.yaml`/`*.yml` file; a broken file is reported through `onError` and skipped. */
  static load(dir: string, onError?: (file: string, error: string) => void): FlowLibrary {
    const flows: GuidedFlow[] = [];
    if (fs.existsSync(dir)) {
      for (const file of fs
        .readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()) {
        try {
          const data = flowSchema.parse(
            parse(fs.readFileSync(path.join(dir, file), 'utf8').normalize('NFC')),
          );
          flows.push({
            id: file.replace(/\.ya?ml$/, ''),
            title: data.title,
            topic: data.topic,
            summary: data.summary,
            related: data.related,
            triggers: data.triggers,
            steps: data.steps.map((s) => ({ title: s.title.trim(), text: s.text.trim() })),
          });
        } catch (err) {
          onError?.(file, err instanceof Error ? err.message : String(err));
        }
      }
    }
    return new FlowLibrary(flows);
  }

  list(): readonly GuidedFlow[] {
    return this.flows;
  }

  get(id: string): GuidedFlow | undefined {
    return this.flows.find((f) => f.id === id);
  }

  /** The flow a message asks for: its button text, title or one of its trigger phrases. */
  match(text: string): GuidedFlow | undefined {
    const f = foldPhrase(text);
    if (!f) return undefined;
    return this.byTrigger.find((t) => t.phrase === f)?.flow;
  }

  /** A flow to offer after an answer drawn from `docId`. */
  relatedTo(docId: string): GuidedFlow | undefined {
    return this.flows.find((f) => f.related.includes(docId));
  }
}
