import { TestAdapter, TurnContext, type Activity } from 'botbuilder';

/**
 * The TurnContext of a citizen's message on botbuilder's TestAdapter, for code that reads a turn's
 * activity and turnState (state classes, RecentTurns, TurnPersistence) without a dialog.
 */
export function messageTurn(text: string, channelId = 'webchat'): TurnContext {
  const activity: Partial<Activity> = {
    type: 'message',
    channelId,
    conversation: { id: 'conv-1', name: '', isGroup: false, conversationType: 'personal' },
    from: { id: 'citizen-1', name: 'Công dân' },
    recipient: { id: 'bot', name: 'Trợ lý' },
    text,
  };
  return new TurnContext(new TestAdapter(), activity);
}
