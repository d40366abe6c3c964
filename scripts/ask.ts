/**
 * npm run ask -- "câu hỏi"        the answer the bot would give, with its sources
 * npm run ask -- --json "câu hỏi" one JSON object
 * npm run ask -- --jsonl < file   one question per line in, one JSON object per line out
 * add --dialog: each question also goes through the whole bot (routing, privacy warnings, "did
 *   you mean" buttons) in a new conversation, and `dialog` holds what the citizen would read
 */
import readline from 'node:readline';
import { createAssistant } from '../src/assistant.js';
import type { Answer } from '../src/answer/types.js';
import { ConsoleAdapter } from '../src/channels/console/consoleAdapter.js';
import { cliSetup } from './cli.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const jsonl = args.includes('--jsonl');
const dialog = args.includes('--dialog');
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
if (dialog) await assistant.init(); // the conversation state's table
await assistant.knowledge.start();

let citizens = 0;
/** What the citizen reads when this is the first message of a new conversation (a new citizen each). */
async function throughTheBot(q: string): Promise<string> {
  const printed: string[] = [];
  const adapter = new ConsoleAdapter((t) => printed.push(t), `ask-${++citizens}`);
  await adapter.receive(q, (context) => assistant.bot.run(context));
  return printed.join('').trim();
}

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
    const answer = toJson(await assistant.answers.answer({ question: line }));
    process.stdout.write(
      `${JSON.stringify(dialog ? { ...answer, dialog: await throughTheBot(line) } : answer)}\n`,
    );
  }
} else {
  const answer = await assistant.answers.answer({ question });
  if (json) console.log(JSON.stringify(toJson(answer)));
  else {
    console.log(answer.text);
    console.log(
      `\n(${answer.answered ? 'đã trả lời' : 'chưa trả lời được'} · độ tin cậy ${answer.confidence.toFixed(2)} · ${answer.mode})`,
    );
    if (dialog) console.log(`\n--- qua trợ lý (cuộc trò chuyện mới):\n${await throughTheBot(question)}`);
  }
}
assistant.knowledge.stop();
await assistant.close();
