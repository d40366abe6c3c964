import { ActivityTypes, CardFactory, MessageFactory, type Activity, type Attachment } from 'botbuilder';

/** A text message with quick-reply buttons; each channel renders them as it can. */
export function withButtons(text: string, buttons: readonly string[] = []): Partial<Activity> {
  const activity = buttons.length
    ? MessageFactory.suggestedActions([...buttons], text)
    : MessageFactory.text(text);
  activity.inputHint = 'acceptingInput';
  return activity;
}

/** A hero card (title, text, buttons) for channels that show cards. */
export function heroCard(title: string, text: string, buttons: readonly string[]): Attachment {
  return CardFactory.heroCard(
    title,
    text,
    undefined,
    CardFactory.actions(buttons.map((b) => ({ type: 'imBack', title: b, value: b }))),
  );
}

export function typing(): Partial<Activity> {
  return { type: ActivityTypes.Typing };
}

export const FEEDBACK_BUTTONS = ['👍 Hữu ích', '👎 Chưa hữu ích'] as const;
