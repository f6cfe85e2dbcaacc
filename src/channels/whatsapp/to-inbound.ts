/**
 * whatsapp-web.js message → `Inbound`. Groups, the status feed, broadcasts and the account's own
 * messages are ignored; what the flows cannot use (location, voice, stickers…) becomes `unsupported`
 * so the engine answers politely. The sender is identified by phone, which WhatsApp vouches for;
 * a `…@lid` sender by the id the lid store chose the first time that lid wrote (lids.ts).
 */
import type { Inbound, InboundBody, UnsupportedKind } from '../../dialog/types.js';
import { localeFromPhone } from '../../i18n/index.js';
import { digitsOfJid, e164, jidKind, phoneFromVCard } from './identity.js';
import type { LidIdentity } from './lids.js';
import { matchMenuReply, type MenuOption } from '../numbered-menu.js';
import type { WaMessage } from './wa-client.js';
import { cleanBody, cleanChatText } from '../clean-text.js';

export type IgnoreReason = 'own' | 'group' | 'status' | 'broadcast' | 'system' | 'no_sender';

export type ToInboundResult = { kind: 'inbound'; inbound: Inbound } | { kind: 'ignored'; reason: IgnoreReason };

export interface ToInboundDeps {
  /**
   * The stable identity of a `…@lid` sender (lids.ts): the same external id for every message of
   * that person, with the phone digits when known. Errors propagate: falling back to the lid here
   * would split a participant whose lid is already mapped to a phone.
   */
  identifyLid(lidJid: string): Promise<LidIdentity>;
  /** The menu last sent to this participant (empty when none is open). */
  currentMenu(externalId: string): Promise<MenuOption[]>;
}

/** Message types that carry nothing from a person: receipts, key changes, deletions, calls. */
const SYSTEM_TYPES = new Set([
  'e2e_notification',
  'notification',
  'notification_template',
  'gp2',
  'protocol',
  'revoked',
  'call_log',
  'reaction',
  'ciphertext',
  'debug',
  'broadcast_notification',
  'group_notification',
]);

const UNSUPPORTED: Record<string, UnsupportedKind> = {
  location: 'location',
  audio: 'audio',
  ptt: 'voice',
  sticker: 'sticker',
  video: 'video',
  document: 'document',
};

/** Why a message is skipped before any lookup, or undefined when it is for the dialog. */
export function ignoreReason(msg: WaMessage): IgnoreReason | undefined {
  if (msg.fromMe || msg.id.fromMe) return 'own';
  if (msg.isStatus || msg.from === 'status@broadcast') return 'status';
  const kind = jidKind(msg.from);
  if (kind === 'group' || msg.author) return 'group';
  if (kind === 'broadcast' || kind === 'newsletter' || kind === 'status' || msg.broadcast) return 'broadcast';
  if (kind !== 'user' && kind !== 'lid') return 'no_sender';
  if (SYSTEM_TYPES.has(msg.type)) return 'system';
  return undefined;
}

export async function whatsappToInbound(msg: WaMessage, deps: ToInboundDeps): Promise<ToInboundResult> {
  const reason = ignoreReason(msg);
  if (reason) return { kind: 'ignored', reason };

  let phoneDigits: string | undefined;
  let externalId: string;
  if (jidKind(msg.from) === 'user') {
    phoneDigits = digitsOfJid(msg.from);
    externalId = phoneDigits;
  } else {
    const lid = await deps.identifyLid(msg.from);
    phoneDigits = lid.phoneDigits;
    externalId = lid.externalId;
  }

  const phone = phoneDigits ? e164(phoneDigits) : undefined;
  const displayName = (typeof msg._data?.notifyName === 'string' && cleanChatText(msg._data.notifyName).trim()) || undefined;
  const localeHint = localeFromPhone(phone);

  const body = await bodyOf(msg, { externalId, phone, deps });
  return {
    kind: 'inbound',
    inbound: {
      ...cleanBody(body),
      messageId: msg.id._serialized,
      receivedAt: new Date(msg.timestamp > 0 ? msg.timestamp * 1000 : Date.now()),
      from: {
        channel: 'whatsapp',
        externalId,
        chatId: msg.from,
        ...(displayName ? { displayName } : {}),
        ...(localeHint ? { localeHint } : {}),
        ...(phone ? { verifiedPhone: phone } : {}),
      },
    },
  };
}

async function bodyOf(
  msg: WaMessage,
  ctx: { externalId: string; phone: string | undefined; deps: ToInboundDeps },
): Promise<InboundBody> {
  switch (msg.type) {
    case 'chat':
      return textBody(msg.body ?? '', await ctx.deps.currentMenu(ctx.externalId));
    case 'image':
      return photoBody(msg);
    case 'document': {
      const mime = msg._data?.mimetype ?? '';
      // A photo sent "as a document" keeps full resolution: good for receipts.
      return mime.startsWith('image/') ? photoBody(msg) : { kind: 'unsupported', what: 'document' };
    }
    case 'vcard':
    case 'multi_vcard': {
      const phone = (msg.vCards ?? []).map(phoneFromVCard).find((p) => p !== undefined) ?? phoneFromVCard(msg.body ?? '');
      if (!phone) return { kind: 'unsupported', what: 'other' };
      return { kind: 'contact', phone, own: ctx.phone !== undefined && phone === ctx.phone };
    }
    default:
      return { kind: 'unsupported', what: UNSUPPORTED[msg.type] ?? 'other' };
  }
}

/** `/start abc` → command; a menu number or label → choice; otherwise text. */
export function textBody(raw: string, menu: MenuOption[]): InboundBody {
  const text = raw.trim();
  const command = /^\/([a-z0-9_]{1,32})(?:@\S+)?(?:\s+([\s\S]*))?$/i.exec(text);
  if (command) {
    const payload = command[2]?.trim();
    return { kind: 'command', command: command[1]!.toLowerCase(), ...(payload ? { payload } : {}) };
  }
  const picked = matchMenuReply(menu, text);
  if (picked) return { kind: 'choice', value: picked.value };
  return { kind: 'text', text };
}

function photoBody(msg: WaMessage): InboundBody {
  // Downloaded once, on first use: the flow decides whether it needs the bytes.
  let download: Promise<Buffer> | undefined;
  const load = () =>
    (download ??= msg.downloadMedia().then((media) => {
      if (!media?.data) throw new Error('WhatsApp no longer has this media');
      return Buffer.from(media.data, 'base64');
    }));
  const caption = msg.body?.trim();
  return {
    kind: 'photo',
    media: {
      ref: msg.id._serialized,
      ...(msg._data?.mimetype ? { mimeType: msg._data.mimetype } : { mimeType: 'image/jpeg' }),
      ...(msg._data?.size ? { size: msg._data.size } : {}),
      ...(msg._data?.filename ? { fileName: msg._data.filename } : {}),
      load,
    },
    ...(caption ? { caption } : {}),
  };
}
