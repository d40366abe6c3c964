import { ActivityTypes, TestAdapter, type Activity, type ConversationAccount } from 'botbuilder';
import { createAssistant, type Assistant } from '../../src/assistant.js';
import { loadConfig, type Config } from '../../src/config.js';
import { REAL_KNOWLEDGE_DIR, makeTempDir, removeDir, silentLogger } from './knowledge.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { onPostgres } from './testApp.js';

export interface TestAssistant {
  assistant: Assistant;
  config: Config;
  close(): Promise<void>;
}

/**
 * The assistant as `src/assistant.ts` builds it (real store, real knowledge base, real dialogs),
 * with its own temp DATA_DIR and the repository's knowledge dir, the index built and loaded. With
 * TEST_BACKEND=postgres its store is a fresh PostgreSQL database, dropped by `close`.
 */
export async function startTestAssistant(env: Record<string, string> = {}): Promise<TestAssistant> {
  const dataDir = makeTempDir('tlcds-bot-');
  const database: TestDatabase | undefined =
    onPostgres && env.DATABASE_URL === undefined ? await createTestDatabase() : undefined;
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    SQL_CHECK_TRANSACTIONS: '1',
    DATA_DIR: dataDir,
    KNOWLEDGE_DIR: REAL_KNOWLEDGE_DIR,
    // Dialog tests send many messages as one TestAdapter user; the per-user limit has its own test.
    CHAT_MESSAGES_PER_MINUTE: '10000',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const assistant = createAssistant(config, silentLogger());
  await assistant.init();
  await assistant.knowledge.start();
  return {
    assistant,
    config,
    async close() {
      assistant.knowledge.stop();
      await assistant.close();
      await database?.drop();
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

/** Everything stored in the assistant's store (SQLite or PostgreSQL), every table and column, as one string. */
export async function dumpDatabase(assistant: Assistant): Promise<string> {
  const { sql } = assistant;
  const tables = await sql.all<{ name: string }>(
    sql.dialect === 'postgres'
      ? 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name'
      : "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
  );
  const dumps: string[] = [];
  for (const { name } of tables)
    dumps.push(`${name}: ${JSON.stringify(await sql.all(`SELECT * FROM "${name}"`))}`);
  return dumps.join('\n');
}

/** The conversation state row of one conversation, parsed. */
export async function conversationState(
  assistant: Assistant,
  conversationId: string,
): Promise<Record<string, unknown>> {
  const row = await assistant.sql.get<{ value: string }>(
    'SELECT value FROM bot_state WHERE key LIKE ? LIMIT 1',
    [`%/conversations/${conversationId}/%`],
  );
  return row ? (JSON.parse(row.value) as Record<string, unknown>) : {};
}
