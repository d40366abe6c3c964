import { randomUUID } from 'node:crypto';
import {
  ActivityTypes,
  BotAdapter,
  TurnContext,
  type Activity,
  type ConversationReference,
  type ResourceResponse,
} from 'botbuilder';

/**
 * A terminal channel for ICT staff: each line typed is a message to the same bot, replies are
 * printed with their buttons numbered, and typing a number picks that button.
 */
export class ConsoleAdapter extends BotAdapter {
  private options: string[] = [];
  private readonly reference: ConversationReference;

  /** `userId`: who is typing (each id has its own conversation state and rate limit). */
  constructor(
    private readonly write: (text: string) => void = (t) => process.stdout.write(t),
    userId = 'ict-staff',
  ) {
    super();
    this.reference = {
      channelId: 'console',
      serviceUrl: 'http://localhost/console',
      conversation: {
        id: `console-${randomUUID()}`,
        isGroup: false,
        conversationType: 'personal',
        name: 'console',
      },
      user: { id: userId, name: 'Cán bộ', role: 'user' },
      bot: { id: 'assistant', name: 'Trợ lý', role: 'bot' },
    } as ConversationReference;
  }

  /** Sends the conversation-start event (the welcome). */
  async start(logic: (context: TurnContext) => Promise<void>): Promise<void> {
    const activity = TurnContext.applyConversationReference(
      {
        type: ActivityTypes.ConversationUpdate,
        membersAdded: [this.reference.user!, this.reference.bot!],
        id: randomUUID(),
        timestamp: new Date(),
      },
      this.reference,
      true,
    );
    await this.runMiddleware(new TurnContext(this, activity), logic);
  }

  /** Processes one typed line ("1", "2"… picks the numbered button shown last). */
  async receive(text: string, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    const n = /^\s*(\d{1,2})\s*$/.exec(text);
    const picked = n ? this.options[Number(n[1]) - 1] : undefined;
    const activity = TurnContext.applyConversationReference(
      {
        type: ActivityTypes.Message,
        text: picked ?? text,
        id: randomUUID(),
        timestamp: new Date(),
        locale: 'vi-VN',
      },
      this.reference,
      true,
    );
    await this.runMiddleware(new TurnContext(this, activity), logic);
  }

  override async sendActivities(
    _context: TurnContext,
    activities: Partial<Activity>[],
  ): Promise<ResourceResponse[]> {
    for (const a of activities) {
      if (a.type === ActivityTypes.Message) {
        const buttons = (a.suggestedActions?.actions ?? []).map((x) => String(x.title ?? x.value));
        if (buttons.length) this.options = buttons;
        const numbered = buttons.map((b, i) => `  ${i + 1}. ${b}`).join('\n');
        this.write(`\n🤖 ${a.text ?? ''}${numbered ? `\n${numbered}` : ''}\n`);
      }
    }
    return activities.map(() => ({ id: randomUUID() }));
  }

  override async updateActivity(): Promise<void> {}

  override async deleteActivity(): Promise<void> {}

  override async continueConversation(
    reference: Partial<ConversationReference>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void> {
    const activity = TurnContext.applyConversationReference(
      { type: ActivityTypes.Event, name: 'continue' },
      reference,
      true,
    );
    await this.runMiddleware(new TurnContext(this, activity), logic);
  }
}
