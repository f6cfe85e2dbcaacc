/**
 * `Outbound` → what whatsapp-web.js sends. Choices become a numbered menu under the text with a
 * localized "reply with the number" line (unnumbered when the message expects a free answer);
 * `requestPhone` needs nothing (WhatsApp already gave us the phone), so only its text goes out; an
 * image carries the text as its caption when it fits.
 */
import type { Outbound } from '../../dialog/types.js';
import type { Translate } from '../../i18n/index.js';
import { isNumbered, menuOptions, renderMenu, type MenuOption } from '../numbered-menu.js';

/** WhatsApp cuts media captions around here; longer texts go as a message after the image. */
export const CAPTION_LIMIT = 1024;

export type WaPart =
  | { kind: 'text'; text: string }
  | { kind: 'image'; image: NonNullable<Outbound['image']>; caption?: string };

export interface NativeMessage {
  parts: WaPart[];
  /** The menu this message puts in front of the participant (empty: none). */
  menu: MenuOption[];
}

function hint(menu: MenuOption[], t: Translate): string {
  if (!isNumbered(menu)) return t('whatsapp:menu_hint_free');
  return menu.length === 1 ? t('whatsapp:menu_hint_single') : t('whatsapp:menu_hint', { last: menu.length });
}

export function whatsappToNative(message: Outbound, t: Translate): NativeMessage {
  const menu = menuOptions(message);
  const blocks = [message.text.trim()];
  if (menu.length > 0) blocks.push(renderMenu(menu), `_${hint(menu, t)}_`);
  const text = blocks.filter(Boolean).join('\n\n');

  const parts: WaPart[] = [];
  if (message.image && (message.image.url || message.image.mediaKey)) {
    if (text.length <= CAPTION_LIMIT) parts.push({ kind: 'image', image: message.image, ...(text ? { caption: text } : {}) });
    else parts.push({ kind: 'image', image: message.image }, { kind: 'text', text });
  } else {
    parts.push({ kind: 'text', text });
  }
  return { parts, menu };
}
