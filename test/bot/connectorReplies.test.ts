import { ActivityTypes, type Activity } from 'botbuilder';
import { ConnectorClient, MicrosoftAppCredentials } from 'botframework-connector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPlainActivityBodies } from '../../src/channels/botframework/plainActivityBody.js';
import { startFakeConnector } from '../helpers/fakeConnector.js';

/**
 * The bot's replies as the channel's connector receives them: with the activity's own JSON as the
 * body (withPlainActivityBodies), what arrives is what botframework-connector's generated
 * serializer sends. Both clients are the real ConnectorClient, posting to a fake connector on
 * 127.0.0.1.
 */
let connector: Awaited<ReturnType<typeof startFakeConnector>>;
let generated: ConnectorClient;
let plain: ConnectorClient;

beforeAll(async () => {
  connector = await startFakeConnector();
  const client = () => new ConnectorClient(new MicrosoftAppCredentials('', ''), { baseUri: connector.url });
  generated = client();
  plain = withPlainActivityBodies(client());
});
afterAll(() => connector.close());

const reference = {
  channelId: 'webchat',
  serviceUrl: 'http://127.0.0.1/',
  conversation: { id: 'conv-1', name: 'Hỏi đáp', isGroup: false, conversationType: 'personal' },
  from: { id: 'bot', name: 'Trợ lý', role: 'bot' },
  recipient: { id: 'citizen-1', name: 'Bác Ba', role: 'user' },
  replyToId: 'incoming-1',
};

/** Reply shapes the dialogs send, and the properties of an Activity a reply can carry. */
const replies: Partial<Activity>[] = [
  {
    ...reference,
    type: ActivityTypes.Message,
    text: 'Dạ, bạn làm theo các bước sau:\n\n1. Mở ứng dụng VNeID.',
    locale: 'vi-VN',
  },
  {
    ...reference,
    type: ActivityTypes.Message,
    text: 'Có phải bạn muốn hỏi một trong những điều này không?',
    inputHint: 'expectingInput',
    suggestedActions: {
      to: ['citizen-1'],
      actions: [
        { type: 'imBack', title: 'Quên mật khẩu VNeID', value: 'Quên mật khẩu VNeID' },
        { type: 'postBack', title: 'Không phải', value: { choice: 'none' }, channelData: { n: 1 } },
      ],
    },
  },
  {
    ...reference,
    type: ActivityTypes.Message,
    text: 'Nguồn',
    textFormat: 'markdown',
    attachmentLayout: 'list',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.hero',
        content: {
          title: 'Hướng dẫn',
          buttons: [{ type: 'openUrl', title: 'Mở', value: 'https://dichvucong.gov.vn' }],
        },
      },
    ],
    channelData: { zalo: { quickReplies: [1, 2, { x: null }] } },
    value: null,
    timestamp: new Date('2026-12-06T01:02:03.456Z'),
    expiration: new Date('2026-12-07T00:00:00Z'),
  },
  { ...reference, type: ActivityTypes.Typing },
  {
    ...reference,
    type: ActivityTypes.Event,
    name: 'handoff.status',
    value: { state: 'accepted' },
    relatesTo: {
      activityId: 'incoming-1',
      user: reference.recipient,
      bot: reference.from,
      conversation: reference.conversation,
      channelId: reference.channelId,
      serviceUrl: reference.serviceUrl,
    },
  },
];

/** The body the fake connector received for `send`. */
async function bodyOf(send: () => Promise<unknown>): Promise<Record<string, unknown>> {
  const before = connector.received.length;
  await send();
  expect(connector.received).toHaveLength(before + 1);
  return connector.received[before]!.body;
}

describe('replies to the connector, with the activity as its own JSON body', () => {
  it.each(replies.map((r, i) => [i, r] as const))(
    'reply %i arrives as the generated client sends it',
    async (_, reply) => {
      const expected = await bodyOf(() =>
        generated.conversations.replyToActivity('conv-1', 'incoming-1', reply),
      );
      const received = await bodyOf(() => plain.conversations.replyToActivity('conv-1', 'incoming-1', reply));
      expect(received).toEqual(expected);
      expect(received.type).toBe(reply.type);
    },
  );

  it('sends, replies and updates go to the same paths with the same bodies', async () => {
    const reply = replies[1]!;
    for (const send of [
      (c: ConnectorClient) => c.conversations.sendToConversation('conv-1', reply),
      (c: ConnectorClient) => c.conversations.updateActivity('conv-1', 'sent-1', reply),
    ]) {
      const expected = await bodyOf(() => send(generated));
      const expectedPath = connector.received.at(-1)!.path;
      expect(await bodyOf(() => send(plain))).toEqual(expected);
      expect(connector.received.at(-1)!.path).toBe(expectedPath);
    }
  });

  it('drops top-level properties an Activity does not have, and sends only the known part of entities, as before', async () => {
    const reply = {
      ...replies[0]!,
      internalNote: 'not for the channel',
      entities: [{ type: 'https://schema.org/Message', '@type': 'Message', citation: [{ position: 1 }] }],
    } as Partial<Activity>;
    const received = await bodyOf(() => plain.conversations.replyToActivity('conv-1', 'incoming-1', reply));
    expect(received).not.toHaveProperty('internalNote');
    expect(received.entities).toEqual([{ type: 'https://schema.org/Message' }]);
    expect(received).toEqual(
      await bodyOf(() => generated.conversations.replyToActivity('conv-1', 'incoming-1', reply)),
    );
  });

  it('keeps what a channel put in its own accounts, which the generated serializer would drop', async () => {
    // The one documented difference, and the proof the plain body is what was sent.
    const reply = {
      ...replies[0]!,
      recipient: { ...reference.recipient, tenant: { id: 't-1' } },
    } as Partial<Activity>;
    const received = await bodyOf(() => plain.conversations.replyToActivity('conv-1', 'incoming-1', reply));
    expect(received.recipient).toEqual({ ...reference.recipient, tenant: { id: 't-1' } });
    const viaGenerated = await bodyOf(() =>
      generated.conversations.replyToActivity('conv-1', 'incoming-1', reply),
    );
    expect(viaGenerated.recipient).toEqual(reference.recipient);
  });

  it('still answers with the connector response, and other operations are untouched', async () => {
    const response = await plain.conversations.replyToActivity('conv-1', 'incoming-1', replies[0]!);
    expect(response.id).toBe(`reply-${connector.received.length}`);
    // No fake route for members: the generated client's error comes through as before.
    await expect(plain.conversations.getConversationMembers('conv-1')).rejects.toMatchObject({
      statusCode: 404,
    });
  });
});
