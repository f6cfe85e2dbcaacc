/** What redeeming codes answers and how guessing is limited. */
import type { Earner, Localized } from '../../domain/campaigns/campaign.js';

export type RedeemOutcome =
  | { status: 'credited'; code: string; points: number; campaignId: string; campaign: { name: string; names: Localized }; balance: number }
  | { status: 'already_used'; code: string; at: Date | null; byYou: boolean }
  | { status: 'mistyped'; code: string }
  | { status: 'unknown'; code: string }
  | { status: 'expired'; code: string; at: Date }
  | { status: 'not_for_role'; code: string }
  /** The campaign is limited to stores or regions the participant is not in. */
  | { status: 'not_in_audience'; code: string }
  | { status: 'not_started'; code: string; startsAt: Date; campaign: { name: string; names: Localized } }
  | { status: 'campaign_over'; code: string; endedAt: Date }
  | { status: 'daily_cap'; code: string; cap: number }
  | { status: 'campaign_cap'; code: string; cap: number }
  | { status: 'budget_exhausted'; code: string }
  | { status: 'locked'; code: string; until: Date };

export interface RedeemInput {
  participant: Earner;
  /** The chat identity that sent the codes: guesses count against it as well as the participant. */
  identity: { channel: string; externalId: string };
  /** The participant's phone: guesses count against it too, however many accounts share it. */
  phone?: string | null;
  /** The sender's network address (`Inbound.network`), when the channel knows it: guesses count against it too. */
  network?: string;
  /** Raw texts as typed; each is normalised and checked. */
  codes: string[];
}

export interface GuessPolicy {
  /** Unknown codes allowed in `windowMs` before a lockout. */
  maxGuesses: number;
  windowMs: number;
  lockMs: number;
  /** A new lockout within this long of the previous one's end doubles the time. */
  resetAfterMs: number;
  maxLevel: number;
}

export const DEFAULT_GUESS_POLICY: GuessPolicy = {
  maxGuesses: 5,
  windowMs: 10 * 60_000,
  lockMs: 15 * 60_000,
  resetAfterMs: 24 * 3600_000,
  maxLevel: 6,
};
