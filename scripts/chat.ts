/**
 * npm run chat: talk to the same bot in the terminal, offline, without any channel.
 * Each answer shows its sources; a number picks one of the buttons shown.
 */
import readline from 'node:readline/promises';
import { createAssistant } from '../src/assistant.js';
import { ConsoleAdapter } from '../src/channels/console/consoleAdapter.js';
import { cliSetup } from './cli.js';

const { config, logger } = cliSetup();
const assistant = createAssistant(config, logger);
await assistant.init(); // the conversation state's table (DATA_DIR, or DATABASE_URL)
await assistant.knowledge.start();
const adapter = new ConsoleAdapter();
adapter.onTurnError = async (context, error) => {
  logger.error({ err: error }, 'turn failed');
  await context.sendActivity('Xin lỗi, mình vừa gặp sự cố. Bạn thử lại nhé.');
};
const logic = (context: Parameters<typeof assistant.bot.run>[0]) => assistant.bot.run(context);

console.log(
  `Trò chuyện với ${config.brandName} (chỉ mục ${assistant.knowledge.status().version}). Gõ "thoát" hoặc Ctrl+D để kết thúc.`,
);
await adapter.start(logic);
const rl = readline.createInterface({
  input: process.stdin,
  output: process.stdout,
  terminal: Boolean(process.stdin.isTTY),
});
rl.setPrompt('\n🧑 ');
rl.prompt();
for await (const line of rl) {
  const text = line.trim();
  if (/^(thoát|thoat|exit|quit)$/i.test(text)) break;
  if (text) await adapter.receive(text, logic);
  rl.prompt();
}
rl.close();
assistant.knowledge.stop();
await assistant.close();
