import { resolveLocale, type Locale } from '../../i18n/index.js';
import type { ChannelIdentityRow, Participant } from '../../domain/participants/index.js';
import type { Market } from '../../shared/locale.js';

/** A participant's language: their choice, else the channel's hint, else the phone's country, else the default. */
export function localeOf(input: {
  participant?: Pick<Participant, 'locale' | 'phone'> | null;
  identity?: Pick<ChannelIdentityRow, 'localeHint' | 'verifiedPhone'> | null;
  /** A language picked before a participant exists (kept in the conversation state). */
  chosen?: string | null;
  /** The program's market: the Portuguese variant of a bare "pt". */
  market?: Market | null;
  fallback: Locale;
}): Locale {
  return resolveLocale({
    chosen: input.participant?.locale ?? input.chosen,
    hint: input.identity?.localeHint,
    phone: input.participant?.phone ?? input.identity?.verifiedPhone,
    market: input.market ?? null,
    fallback: input.fallback,
  });
}
