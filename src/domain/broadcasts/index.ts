/**
 * Broadcasts: what a broadcast is, who it is for, and the pure rules of delivering it (which text a
 * recipient reads, how long to wait before retrying). No I/O here.
 */
import type { Locale, LocaleTag } from '../../shared/locale.js';
import type { ParticipantRole } from '../participants/index.js';
import type { ChannelId, Choice, Outbound } from '../../shared/messages.js';

export type BroadcastKind = 'manual' | 'campaign_start' | 'campaign_end' | 'expiry_reminder';
export type BroadcastStatus = 'scheduled' | 'fanning_out' | 'sending' | 'paused' | 'done' | 'cancelled';
export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'unreachable' | 'opted_out' | 'cancelled';

/** Texts per language written by a manager; a missing language falls back to the program's default. */
export type LocalizedText = Partial<Record<LocaleTag, string>>;

/** A text of locales/<lng>/broadcasts.json with its values: what automatic broadcasts send. */
export interface TemplateMessage {
  key: string;
  params?: Record<string, unknown>;
}

export type BroadcastMessage = { texts: LocalizedText } | { template: TemplateMessage };

/** A button under the message: a link (opens a URL / deep link) or a main-menu action. */
export type BroadcastButton = { label: LocalizedText; url: string } | { label: LocalizedText; action: string };

/**
 * Who receives a broadcast: every registered, active participant of the program matching all the
 * given filters (an empty audience is everyone). Muted participants are counted as opted out.
 */
export interface Audience {
  roles?: ParticipantRole[];
  /** Participants who earned points in this campaign. */
  campaignId?: string;
  /** `pt` means both Portuguese variants. */
  locales?: LocaleTag[];
  /** Only participants reachable on one of these channels (sent there). */
  channels?: ChannelId[];
  stores?: string[];
  /** Matches the participant's profile answer `region`. */
  regions?: string[];
  /** ISO timestamp: registered at or after. */
  registeredSince?: string;
  participantIds?: string[];
  /** Internal (expiry reminders): participants with points expiring on this local day (YYYY-MM-DD). */
  expiringOn?: string;
}

export interface Broadcast {
  id: string;
  programId: string;
  kind: BroadcastKind;
  sourceKey: string | null;
  message: BroadcastMessage;
  image: { url?: string; mediaKey?: string } | null;
  buttons: BroadcastButton[] | null;
  audience: Audience;
  status: BroadcastStatus;
  sendAt: Date;
  fanoutCursor: string | null;
  fanoutDone: boolean;
  total: number;
  createdBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface BroadcastCounts {
  total: number;
  queued: number;
  sending: number;
  sent: number;
  failed: number;
  unreachable: number;
  optedOut: number;
  cancelled: number;
}

/**
 * The text for a recipient's language: theirs (for Portuguese: the variant, else `pt`, else the
 * other variant), else the program's default, else any given one.
 */
export function pickText(texts: LocalizedText, locale: Locale, programDefault: Locale): string | undefined {
  const lookup: readonly LocaleTag[] =
    locale === 'pt-PT' ? ['pt-PT', 'pt', 'pt-BR'] : locale === 'pt-BR' ? ['pt-BR', 'pt', 'pt-PT'] : [locale];
  for (const l of lookup) {
    const own = texts[l]?.trim();
    if (own) return own;
  }
  const fallback = texts[programDefault]?.trim();
  if (fallback) return fallback;
  return Object.values(texts).find((t) => t?.trim())?.trim();
}

/**
 * The message one recipient reads. `translate` renders template keys in the recipient's language;
 * `params` are the recipient's own values (e.g. points that expire).
 */
export function renderFor(
  b: Pick<Broadcast, 'message' | 'image' | 'buttons'>,
  recipient: { locale: Locale; params?: Record<string, unknown> | null },
  programDefault: Locale,
  translate: (key: string, params: Record<string, unknown>) => string,
): Outbound | undefined {
  const text =
    'texts' in b.message
      ? pickText(b.message.texts, recipient.locale, programDefault)
      : translate(b.message.template.key, { ...b.message.template.params, ...recipient.params });
  if (!text) return undefined;
  const links: string[] = [];
  const row: Choice[] = [];
  for (const button of b.buttons ?? []) {
    const label = pickText(button.label, recipient.locale, programDefault);
    if (!label) continue;
    // Channels have no URL buttons in the shared vocabulary: a link goes under the text, where
    // every chat app makes it tappable; menu actions become choices.
    if ('url' in button) links.push(`${label}: ${button.url}`);
    else row.push({ label, value: button.action });
  }
  const out: Outbound = { text: links.length ? `${text}\n\n${links.join('\n')}` : text };
  if (b.image) out.image = b.image;
  if (row.length) out.choices = row.map((c) => [c]);
  return out;
}

/** Wait before retry `attempt` (1-based) of a failed send: 2 s, 4 s, 8 s … capped at 5 minutes, with jitter. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(300_000, 2_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Statuses that can still change. */
export const isLive = (s: BroadcastStatus): boolean => s === 'scheduled' || s === 'fanning_out' || s === 'sending' || s === 'paused';

/**
 * Words that mute or unmute announcements when they are the whole message, per language. Only
 * words nobody types for anything else: "cancelar", "sair", "wyłącz" or "start" of a sentence
 * belong to other conversations, so they are not here (the commands /mute, /unmute, /stop work too).
 */
export const MUTE_WORDS: Record<Locale, string[]> = {
  pl: ['stop'],
  'pt-PT': ['parar', 'stop'],
  'pt-BR': ['parar', 'stop'],
  be: ['стоп', 'stop'],
};
export const UNMUTE_WORDS: Record<Locale, string[]> = {
  pl: ['start'],
  // Not VOLTAR: people type "voltar" to go back. "Novidades" alone is asking for the news.
  'pt-PT': ['novidades', 'start'],
  'pt-BR': ['novidades', 'start'],
  be: ['старт', 'start'],
};

/** 'mute' / 'unmute' when the message is one of those words (any of our languages), else undefined. */
export function muteIntent(text: string): 'mute' | 'unmute' | undefined {
  const word = text
    .trim()
    .toLocaleLowerCase()
    .replace(/[.!?¡¿\s]+$/u, '')
    .replace(/^[.!?¡¿\s]+/u, '');
  if (!word || word.includes(' ')) return undefined;
  if (Object.values(MUTE_WORDS).some((ws) => ws.includes(word))) return 'mute';
  if (Object.values(UNMUTE_WORDS).some((ws) => ws.includes(word))) return 'unmute';
  return undefined;
}
