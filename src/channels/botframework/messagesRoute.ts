import type { CloudAdapter } from 'botbuilder';
import type { ActivityHandler } from 'botbuilder';
import type restify from 'restify';

/**
 * Where a Bot Framework activity enters: POST /api/messages (Azure Bot Service, the Emulator,
 * Teams…). Authentication is the adapter's: JWT validation whenever MicrosoftAppId is set.
 */
export function registerMessagesRoute(
  server: restify.Server,
  adapter: CloudAdapter,
  bot: Pick<ActivityHandler, 'run'>,
): void {
  server.post('/api/messages', async (req, res) => {
    await adapter.process(req, res, (context) => bot.run(context));
  });
}
