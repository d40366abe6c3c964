/**
 * npm run ask -- "câu hỏi"        the answer the bot would give, with its sources
 * npm run ask -- --json "câu hỏi" one JSON object
 * npm run ask -- --jsonl < file   one question per line in, one JSON object per line out
 */
import readline from 'node:readline';
import { createAssistant } from '../src/assistant.js';
import type { Answer } from '../src/answer/types.js';
import { cliSetup } from './cli.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const jsonl = args.includes('--jsonl');
const question = args
  .filter((a) => !a.startsWith('--'))
  .join(' ')
  .trim();
if (!jsonl && !question) {
  console.error(
    'Cách dùng: npm run ask -- "câu hỏi"   (thêm --json để in JSON, --jsonl để đọc nhiều câu từ stdin)',
  );
  process.exit(2);
}

const { config, logger } = cliSetup();
const assistant = createAssistant(config, logger);
await assistant.knowledge.start();

const toJson = (a: Answer) => ({
  answered: a.answered,
  text: a.text,
  sources: a.sources.map(({ title, file, section, score }) => ({ title, file, section, score })),
  confidence: Math.round(a.confidence * 1000) / 1000,
  mode: a.mode,
  ...(a.suggestions ? { suggestions: a.suggestions.map(({ label, file }) => ({ label, file })) } : {}),
});

if (jsonl) {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    process.stdout.write(`${JSON.stringify(toJson(await assistant.answers.answer({ question: line })))}\n`);
  }
} else {
  const answer = await assistant.answers.answer({ question });
  if (json) console.log(JSON.stringify(toJson(answer)));
  else {
    console.log(answer.text);
    console.log(
      `\n(${answer.answered ? 'đã trả lời' : 'chưa trả lời được'} · độ tin cậy ${answer.confidence.toFixed(2)} · ${answer.mode})`,
    );
  }
}
assistant.knowledge.stop();
await assistant.close();
