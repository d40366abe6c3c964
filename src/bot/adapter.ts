import {
  CloudAdapter,
  type Activity,
  type BotAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConversationState,
  type InvokeResponse,
  type TurnContext,
} from 'botbuilder';
import { validateAndFixActivity } from 'botbuilder/lib/activityValidator.js';
import { withPlainActivityBodies } from '../channels/botframework/plainActivityBody.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

export const TURN_ERROR_TEXT =
  'Xin lỗi, mình vừa gặp sự cố khi xử lý tin nhắn của bạn. Bạn vui lòng gửi lại câu hỏi sau ít phút nhé.';

/**
 * The CloudAdapter of POST /api/messages, with `processChecked`: CloudAdapter.process for a body
 * the route has validated already (activityProblem). It runs the same authentication and turn
 * (processActivity) without process()'s zod parses of the request, the response, the logic and,
 * twice, of the whole body: about 2 % of a turn's CPU in the bench profile.
 */
export class MessagesAdapter extends CloudAdapter {
  /**
   * Authenticates the activity (rejecting with botframework-connector's AuthenticationError when that fails)
   * and runs `logic` in a turn; resolves with an invoke activity's response, if any.
   */
  processChecked(
    authHeader: string,
    activity: Activity,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<InvokeResponse | undefined> {
    return this.processActivity(authHeader, validateAndFixActivity(activity), logic);
  }
}

/**
 * The Bot Framework adapter. With MicrosoftAppId empty, ConfigurationBotFrameworkAuthentication
 * accepts unauthenticated requests (local use); with it set, every request needs a valid JWT.
 */
export function createAdapter(
  config: Config,
  logger: Logger,
  conversationState: ConversationState,
): MessagesAdapter {
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: config.botAuth.appId ?? '',
    MicrosoftAppPassword: config.botAuth.appPassword ?? '',
    MicrosoftAppType: config.botAuth.appType,
    MicrosoftAppTenantId: config.botAuth.tenantId ?? '',
  });
  const adapter = new MessagesAdapter(reuseClients(auth));
  handleTurnErrors(adapter, logger, conversationState);
  return adapter;
}

type Authentication = ConfigurationBotFrameworkAuthentication;
type ConnectorFactory = ReturnType<Authentication['createConnectorFactory']>;
type ClaimsIdentity = Parameters<Authentication['createConnectorFactory']>[0];
type ConnectorClient = Awaited<ReturnType<ConnectorFactory['create']>>;
type UserTokenClient = Awaited<ReturnType<Authentication['createUserTokenClient']>>;

/** Clients kept at most, per kind (service URLs are a handful: one per channel and cloud). */
const MAX_CLIENTS = 100;

/**
 * CloudAdapter builds a new ConnectorClient (and a new UserTokenClient) for every turn: a whole
 * HTTP pipeline and credentials each time, about 5% of the CPU of a turn. They hold nothing of the
 * turn (credentials cache and refresh their own tokens), so one per app id, service URL and
 * audience is reused, as the Bot Framework's other SDKs do.
 */
function reuseClients(auth: Authentication): Authentication {
  const connectors = new Map<string, Promise<ConnectorClient>>();
  const tokenClients = new Map<string, Promise<UserTokenClient>>();
  const appIdOf = (claims: ClaimsIdentity) =>
    claims.getClaimValue('aud') ?? claims.getClaimValue('appid') ?? '';
  const memo = <T>(cache: Map<string, Promise<T>>, key: string, create: () => Promise<T>) => {
    let client = cache.get(key);
    if (!client) {
      if (cache.size >= MAX_CLIENTS) cache.delete(cache.keys().next().value!);
      client = create();
      client.catch(() => cache.delete(key)); // a failure is not kept
      cache.set(key, client);
    }
    return client;
  };
  const reusing = (factory: ConnectorFactory, appId: string): ConnectorFactory => ({
    create: (serviceUrl, audience) =>
      memo(connectors, JSON.stringify([appId, serviceUrl, audience ?? '']), () =>
        factory.create(serviceUrl, audience).then(withPlainActivityBodies),
      ),
  });

  const authenticateRequest = auth.authenticateRequest.bind(auth);
  auth.authenticateRequest = async (activity, authHeader) => {
    const result = await authenticateRequest(activity, authHeader);
    if (!result.connectorFactory) return result;
    return { ...result, connectorFactory: reusing(result.connectorFactory, appIdOf(result.claimsIdentity)) };
  };
  const createConnectorFactory = auth.createConnectorFactory.bind(auth);
  auth.createConnectorFactory = (claims) => reusing(createConnectorFactory(claims), appIdOf(claims));
  const createUserTokenClient = auth.createUserTokenClient.bind(auth);
  auth.createUserTokenClient = (claims) =>
    memo(tokenClients, appIdOf(claims), () => createUserTokenClient(claims));
  return auth;
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
