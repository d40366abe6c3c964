import {
  CloudAdapter,
  type BotAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConversationState,
  type TurnContext,
} from 'botbuilder';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

export const TURN_ERROR_TEXT =
  'Xin lỗi, mình vừa gặp sự cố khi xử lý tin nhắn của bạn. Bạn vui lòng gửi lại câu hỏi sau ít phút nhé.';

/**
 * The Bot Framework adapter. With MicrosoftAppId empty, ConfigurationBotFrameworkAuthentication
 * accepts unauthenticated requests (local use); with it set, every request needs a valid JWT.
 */
export function createAdapter(
  config: Config,
  logger: Logger,
  conversationState: ConversationState,
): CloudAdapter {
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: config.botAuth.appId ?? '',
    MicrosoftAppPassword: config.botAuth.appPassword ?? '',
    MicrosoftAppType: config.botAuth.appType,
    MicrosoftAppTenantId: config.botAuth.tenantId ?? '',
  });
  const adapter = new CloudAdapter(auth);
  handleTurnErrors(adapter, logger, conversationState);
  return adapter;
}

/**
 * onTurnError for every adapter: log the error with its stack, tell the citizen politely, and
 * clear a dialog stack the error may have left broken.
 */
export function handleTurnErrors(
  adapter: BotAdapter,
  logger: Logger,
  conversationState: ConversationState,
): void {
  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    const a = context.activity;
    logger.error(
      { err: error, channel: a.channelId, conversationId: a.conversation?.id, activityType: a.type },
      'turn failed',
    );
    try {
      if (a.type === 'message') await context.sendActivity(TURN_ERROR_TEXT);
    } catch (sendError) {
      logger.error({ err: sendError }, 'could not tell the citizen about the failed turn');
    }
    // A dialog stack left broken by the error would fail again on the next message.
    await conversationState
      .delete(context)
      .catch((err: unknown) => logger.error({ err }, 'could not clear conversation state'));
  };
}
