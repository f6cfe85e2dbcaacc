/**
 * Campaigns and their earning rules, as plain data and pure decisions. Everything that depends on
 * "now" takes it as an argument; the services pass the injected clock's time.
 */
import { ownLocalized, type Locale, type LocaleTag } from '../../shared/locale.js';

export type CampaignStatus = 'draft' | 'active' | 'ended';
export const CAMPAIGN_STATUSES = ['draft', 'active', 'ended'] as const;

/** Participant roles a campaign or a code batch may be limited to (participants own the list). */
export const PARTICIPANT_ROLES = ['consumer', 'retail_staff', 'sales_rep', 'installer', 'moderator', 'manager'] as const;
export type ParticipantRole = (typeof PARTICIPANT_ROLES)[number];
export const STAFF_ROLES: readonly ParticipantRole[] = ['retail_staff', 'sales_rep', 'installer'];

export type Localized = Partial<Record<LocaleTag, string>>;

export interface Multiplier {
  startsAt: Date;
  endsAt: Date;
  /** 2 = double points. Overlapping windows: the largest factor applies, they do not stack. */
  factor: number;
}

export interface Campaign {
  id: string;
  programId: string;
  name: string;
  names: Localized;
  descriptions: Localized;
  status: CampaignStatus;
  startsAt: Date;
  endsAt: Date;
  audienceRoles: ParticipantRole[];
  stores: string[];
  regions: string[];
  multipliers: Multiplier[];
  capPerDay: number | null;
  capPerCampaign: number | null;
  budget: number | null;
  awarded: number;
  requiresApproval: boolean;
  budgetExhaustedAt: Date | null;
  createdAt: Date;
}

/** Who is earning, as far as campaign rules care. */
export interface Earner {
  id: string;
  programId: string;
  role: ParticipantRole;
  store?: string | null;
  region?: string | null;
}

export type CampaignGate =
  | { status: 'open' }
  | { status: 'not_started'; startsAt: Date }
  | { status: 'over'; endedAt: Date }
  | { status: 'not_for_role' }
  /** The campaign is limited to stores or regions the earner is not in. */
  | { status: 'not_in_audience' };

/** Is the campaign open to this earner at `now`? Drafts count as not started. */
export function campaignGate(c: Campaign, earner: Earner, now: Date): CampaignGate {
  if (c.status === 'ended' || now >= c.endsAt) return { status: 'over', endedAt: c.status === 'ended' && now < c.endsAt ? now : c.endsAt };
  if (c.status === 'draft' || now < c.startsAt) return { status: 'not_started', startsAt: c.startsAt };
  if (c.audienceRoles.length && !c.audienceRoles.includes(earner.role)) return { status: 'not_for_role' };
  if (c.stores.length && !c.stores.some((s) => storeMatches(earner.store, s))) return { status: 'not_in_audience' };
  if (c.regions.length && !c.regions.some((r) => storeMatches(earner.region, r))) return { status: 'not_in_audience' };
  return { status: 'open' };
}

/**
 * A name compared without case, diacritics, punctuation and extra spaces: "Łódź – Piotrkowska" →
 * "lodz piotrkowska". Letters that do not decompose (ł, ø, đ, ß) are mapped by hand.
 */
export function normalizeName(raw: string): string {
  return raw
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[łøđß]/g, (ch) => ({ ł: 'l', ø: 'o', đ: 'd', ß: 'ss' })[ch] ?? ch)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * Does a participant's store (typed freely at registration: "Demo, Lisboa") belong to the store a
 * campaign or target names ("Demo")? Yes when the store's words appear, whole and in order, in the
 * participant's; so "Demo Lisboa" counts for "Demo" but "Demolka" does not.
 */
export function storeMatches(participantStore: string | null | undefined, store: string): boolean {
  if (!participantStore) return false;
  const want = normalizeName(store);
  if (!want) return false;
  return ` ${normalizeName(participantStore)} `.includes(` ${want} `);
}

export function multiplierAt(multipliers: readonly Multiplier[], now: Date): number {
  let factor = 1;
  for (const m of multipliers) if (now >= m.startsAt && now < m.endsAt && m.factor > factor) factor = m.factor;
  return factor;
}

/** Base points × the multiplier in force, rounded to whole points (points are integers). */
export const pointsWithMultiplier = (base: number, multipliers: readonly Multiplier[], now: Date): number =>
  Math.round(base * multiplierAt(multipliers, now));

export function campaignName(c: Pick<Campaign, 'name' | 'names'>, locale: Locale): string {
  return ownLocalized(c.names, locale) || c.name;
}

/**
 * The name in every language, gaps filled from the default name: what ledger reasons store, so the
 * history reads in the reader's language whenever it is read (`{ name: { pl, pt, be } }`).
 */
export function allNames(c: { name: string; names: Localized }): Record<Locale, string> {
  const fallback = c.names.pl ?? c.names['pt-PT'] ?? c.names['pt-BR'] ?? c.names.pt ?? c.names.be ?? c.name;
  const pt = (own: string | undefined, other: string | undefined) => own ?? c.names.pt ?? other ?? fallback;
  return {
    pl: c.names.pl ?? fallback,
    'pt-PT': pt(c.names['pt-PT'], c.names['pt-BR']),
    'pt-BR': pt(c.names['pt-BR'], c.names['pt-PT']),
    be: c.names.be ?? fallback,
  };
}

/** The calendar day in the program's time zone: daily caps reset at local midnight. */
export function localDay(now: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}
