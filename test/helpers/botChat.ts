import { ActivityTypes, TestAdapter, type Activity, type ConversationAccount } from 'botbuilder';
import { createAssistant, type Assistant } from '../../src/assistant.js';
import { loadConfig, type Config } from '../../src/config.js';
import { REAL_KNOWLEDGE_DIR, makeTempDir, removeDir, silentLogger } from './knowledge.js';

export interface TestAssistant {
  assistant: Assistant;
  config: Config;
  close(): void;
}

/**
 * The assistant as `src/assistant.ts` builds it (real store, real knowledge base, real dialogs),
 * with its own temp DATA_DIR and the repository's knowledge dir, the index built and loaded.
 */
export async function startTestAssistant(env: Record<string, string> = {}): Promise<TestAssistant> {
  const dataDir = makeTempDir('tlcds-bot-');
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    KNOWLEDGE_DIR: REAL_KNOWLEDGE_DIR,
    // Dialog tests send many messages as one TestAdapter user; the per-user limit has its own test.
    CHAT_MESSAGES_PER_MINUTE: '10000',
    ...env,
  });
  const assistant = createAssistant(config, silentLogger());
  await assistant.knowledge.start();
  return {
    assistant,
    config,
    close() {
      assistant.knowledge.stop();
      assistant.db.close();
      removeDir(dataDir);
    },
  };
}

/** A bot message as the citizen sees it: its text and its quick-reply buttons. */
export interface Reply {
  text: string;
  buttons: string[];
}

let conversations = 0;

/**
 * One citizen's conversation with the bot through botbuilder's TestAdapter: `say` sends a message
 * and returns the bot's messages of that turn.
 */
export class TestChat {
  readonly adapter: TestAdapter;
  readonly conversationId: string;

  constructor(
    readonly assistant: Assistant,
    readonly userId = 'citizen-1',
    conversationId?: string,
  ) {
    conversations += 1;
    this.conversationId = conversationId ?? `conversation-${conversations}`;
    this.adapter = new TestAdapter((context) => assistant.bot.run(context), {
      channelId: 'test',
      conversation: { id: this.conversationId } as ConversationAccount,
      from: { id: userId, name: 'Công dân' },
      recipient: { id: 'bot', name: 'Trợ lý' },
      locale: 'vi-VN',
    });
  }

  async say(text: string): Promise<Reply[]> {
    await this.adapter.receiveActivity(text);
    return this.drain();
  }

  /** The citizen opens the chat (conversationUpdate with the citizen and the bot added). */
  async join(members = [this.userId, 'bot']): Promise<Reply[]> {
    await this.adapter.processActivity({
      type: ActivityTypes.ConversationUpdate,
      membersAdded: members.map((id) => ({ id, name: id })),
    } as Partial<Activity>);
    return this.drain();
  }

  /** Sends any activity (e.g. an attachment without text). */
  async send(activity: Partial<Activity>): Promise<Reply[]> {
    await this.adapter.processActivity(activity);
    return this.drain();
  }

  private drain(): Reply[] {
    return this.adapter.activeQueue
      .splice(0)
      .filter((a) => a.type === ActivityTypes.Message)
      .map((a) => ({
        text: a.text ?? '',
        buttons: (a.suggestedActions?.actions ?? []).map((b) => String(b.title ?? b.value)),
      }));
  }
}

/** Everything stored in the SQLite database, every table and column, as one string. */
export function dumpDatabase(assistant: Assistant): string {
  const tables = assistant.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
    name: string;
  }[];
  return tables
    .map(({ name }) => `${name}: ${JSON.stringify(assistant.db.prepare(`SELECT * FROM "${name}"`).all())}`)
    .join('\n');
}

/** The conversation state row of one conversation, parsed. */
export function conversationState(assistant: Assistant, conversationId: string): Record<string, unknown> {
  const row = assistant.db
    .prepare('SELECT value FROM bot_state WHERE key LIKE ?')
    .get(`%/conversations/${conversationId}/%`) as { value: string } | undefined;
  return row ? (JSON.parse(row.value) as Record<string, unknown>) : {};
}
