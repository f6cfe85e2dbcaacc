/** Chat texts for redemption outcomes: one line per code, in the participant's language. */
import type { Locale, Translate } from '../../../i18n/index.js';
import type { RedeemOutcome } from '../../../services/codes/index.js';
import { campaignName } from '../../../domain/campaigns/campaign.js';

export const pointsText = (t: Translate, n: number): string => t('common:points', { count: n });

export function outcomeLine(t: Translate, locale: Locale, o: RedeemOutcome): string {
  switch (o.status) {
    case 'credited':
      return t('codes:credited', {
        code: o.code,
        points: pointsText(t, o.points),
        campaign: campaignName(o.campaign, locale),
        balance: pointsText(t, o.balance),
      });
    case 'already_used':
      return t(o.byYou ? 'codes:already_used_by_you' : 'codes:already_used', { code: o.code, when: o.at ?? new Date() });
    case 'mistyped':
      return t('codes:mistyped', { code: o.code });
    case 'unknown':
      return t('codes:unknown', { code: o.code });
    case 'expired':
      return t('codes:expired', { code: o.code, at: o.at });
    case 'not_for_role':
      return t('codes:not_for_role', { code: o.code });
    case 'not_in_audience':
      return t('codes:not_in_audience', { code: o.code });
    case 'not_started':
      return t('codes:not_started', { code: o.code, at: o.startsAt, campaign: campaignName(o.campaign, locale) });
    case 'campaign_over':
      return t('codes:campaign_over', { code: o.code, at: o.endedAt });
    case 'daily_cap':
      return t('codes:daily_cap', { code: o.code, cap: pointsText(t, o.cap) });
    case 'campaign_cap':
      return t('codes:campaign_cap', { code: o.code, cap: pointsText(t, o.cap) });
    case 'budget_exhausted':
      return t('codes:budget_exhausted', { code: o.code });
    case 'locked':
      return t('codes:locked', { until: o.until });
  }
}

/**
 * One line per code; a lockout is said once, however many codes it stopped.
 */
export function outcomesMessage(t: Translate, locale: Locale, outcomes: RedeemOutcome[]): string {
  const lines: string[] = [];
  let lockSaid = false;
  for (const o of outcomes) {
    if (o.status === 'locked') {
      if (lockSaid) continue;
      lockSaid = true;
    }
    lines.push(outcomeLine(t, locale, o));
  }
  return lines.join('\n');
}
