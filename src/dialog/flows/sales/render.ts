/** Target progress as the participant reads it: one line per target, how far along or reached. */
import type { Locale, Translate } from '../../../i18n/index.js';
import { campaignName } from '../../../domain/campaigns/campaign.js';
import type { TargetView } from '../../../services/sales/index.js';

export function renderProgress(t: Translate, locale: Locale, targets: TargetView[]): string[] {
  return targets.map((p) =>
    t(p.reached ? 'sales:progress_reached' : p.metric === 'units' ? 'sales:progress_units' : 'sales:progress_points', {
      campaign: campaignName({ name: p.campaignName, names: p.campaignNames }, locale),
      done: p.done,
      goal: p.goal,
      remaining: p.remaining,
    }),
  );
}
