import type { Activity, CardAction } from 'botbuilder';

/** Longest text of one CS message (reference §4.2, §6.2). */
export const ZALO_MAX_TEXT = 2000;
/** Template buttons offered at most (when button templates are turned on). */
export const MAX_TEMPLATE_BUTTONS = 5;

export const OPTIONS_INTRO = 'Bạn gõ số để chọn:';

/** One message as queued for Zalo: its text, and quick-reply buttons when templates are on. */
export interface ZaloPart {
  text: string;
  buttons?: string[];
}

/**
 * A bot message → Zalo text messages, in order: text split at paragraph or sentence boundaries
 * (≤ 2000 characters each), hero cards flattened to text, and the suggested actions (and card
 * buttons) listed as numbered options in the last part. `options` are what "1", "2"… pick.
 */
export function toZaloParts(
  activity: Partial<Activity>,
  o: { maxChars?: number; buttonTemplates?: boolean } = {},
): { parts: ZaloPart[]; options: string[] } {
  const max = o.maxChars ?? ZALO_MAX_TEXT;
  const blocks: string[] = [];
  const options: string[] = [];
  if (activity.text?.trim()) blocks.push(activity.text.trim());
  for (const a of activity.attachments ?? []) {
    const content = (a.content ?? {}) as {
      title?: string;
      subtitle?: string;
      text?: string;
      buttons?: CardAction[];
    };
    if (a.contentType?.startsWith('application/vnd.microsoft.card.')) {
      const text = [content.title, content.subtitle, content.text].filter((s) => s?.trim()).join('\n');
      if (text) blocks.push(text);
      options.push(...actionTitles(content.buttons ?? []));
    } else if (a.contentUrl) {
      blocks.push(a.name ? `${a.name}: ${a.contentUrl}` : a.contentUrl);
    }
  }
  options.push(...actionTitles(activity.suggestedActions?.actions ?? []));
  const unique = [...new Set(options)];

  const parts: ZaloPart[] = splitText(blocks.join('\n\n'), max).map((text) => ({ text }));
  if (unique.length) {
    const menu = [OPTIONS_INTRO, ...unique.map((t, i) => `${i + 1}. ${t}`)].join('\n');
    const last = parts[parts.length - 1];
    if (last && last.text.length + 2 + menu.length <= max) last.text = `${last.text}\n\n${menu}`;
    else parts.push(...splitText(menu, max).map((text) => ({ text })));
    if (o.buttonTemplates && unique.length <= MAX_TEMPLATE_BUTTONS) {
      parts[parts.length - 1]!.buttons = unique;
    }
  }
  return { parts, options: unique };
}

function actionTitles(actions: readonly CardAction[]): string[] {
  return actions
    .filter((a) => a.type === 'imBack' || a.type === 'postBack' || a.type === 'messageBack' || !a.type)
    .map((a) => String(a.title ?? a.value ?? '').trim())
    .filter(Boolean);
}

/**
 * Splits text into parts of at most `max` UTF-16 units, in order: at a blank line when one is in
 * reach, else a line break, a sentence end, a space, or (a single word longer than the limit) at
 * `max` without cutting a surrogate pair. Parts are never shorter than a third of `max` except
 * the last one, so no tiny fragment is sent on its own.
 */
export function splitText(text: string, max = ZALO_MAX_TEXT): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    const cut = findCut(rest, max);
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) parts.push(rest);
  return parts;
}

function findCut(text: string, max: number): number {
  const window = text.slice(0, max + 1);
  const min = Math.floor(max / 3);
  const boundaries: RegExp[] = [/\n[ \t]*\n/g, /\n/g, /[.!?…;:]["')\]”’»]*\s/g, /\s/g];
  for (const re of boundaries) {
    let best = -1;
    for (const m of window.matchAll(re)) {
      // A paragraph or line break cuts before it; a sentence end keeps its punctuation.
      const at = re.source.startsWith('[.') ? m.index + m[0].length - 1 : m.index;
      if (at >= min && at <= max) best = at;
    }
    if (best > 0) return best;
  }
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}
