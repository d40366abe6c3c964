/** Zalo OA webhook payloads (reference §2.2–2.4). Every id is a string: they exceed 2^53. */
export type ZaloId = string;

export interface OaAttachment {
  type?: string;
  payload?: { url?: string; thumbnail?: string; description?: string; id?: string; name?: string };
}

export interface OaEvent {
  event_name: string;
  app_id?: string;
  /** Epoch milliseconds, as a string. */
  timestamp?: string;
  user_id_by_app?: ZaloId;
  sender?: { id?: ZaloId };
  recipient?: { id?: ZaloId };
  follower?: { id?: ZaloId };
  oa_id?: ZaloId;
  source?: string;
  message?: {
    msg_id?: string;
    msg_ids?: string[];
    text?: string;
    quote_msg_id?: string;
    attachments?: OaAttachment[];
  };
}

/** Who the event is about: the user (OA-scoped id) and the OA. */
export function eventParties(e: OaEvent): { userId?: ZaloId; oaId?: ZaloId } {
  if (e.event_name === 'follow' || e.event_name === 'unfollow') {
    return { userId: str(e.follower?.id), oaId: str(e.oa_id) };
  }
  if (
    e.event_name.startsWith('user_') &&
    e.event_name !== 'user_received_message' &&
    e.event_name !== 'user_seen_message'
  ) {
    return { userId: str(e.sender?.id), oaId: str(e.recipient?.id) };
  }
  return { userId: str(e.recipient?.id), oaId: str(e.sender?.id) };
}

/** The dedupe key: `message.msg_id`, else event name + timestamp + user (reference §2.1). */
export function eventKey(e: OaEvent): string {
  const msgId = str(e.message?.msg_id);
  if (msgId) return `msg:${msgId}`;
  return `evt:${e.event_name}:${str(e.timestamp) ?? ''}:${eventParties(e).userId ?? ''}`;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : undefined;
}

/** True for a JSON object that looks like one Zalo event. */
export function isOaEvent(v: unknown): v is OaEvent {
  return (
    typeof v === 'object' && v !== null && typeof (v as { event_name?: unknown }).event_name === 'string'
  );
}
