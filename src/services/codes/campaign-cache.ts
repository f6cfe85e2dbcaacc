/**
 * Campaigns as the codes service last read them, checked against the version every code lookup
 * returns (`updated_at`, which every change of a campaign's definition sets). A code message then
 * reads its campaign row only after the campaign changed, instead of carrying the whole row as JSON
 * on every lookup (that row was a tenth of a code message's Node time). Per award only `awarded`
 * and `budget_exhausted_at` change, without moving the version; the redeem path reads neither from
 * here: the budget is reserved by a conditional UPDATE on the row itself.
 */
import type { Db } from '../../db/sql.js';
import { getCampaign } from '../../db/campaigns/repo.js';
import type { Campaign } from '../../domain/campaigns/campaign.js';

export interface CampaignCache {
  /** The campaign as of `version` or later; read from `db` when the copy held is of another version. */
  get(db: Db, id: string, version: number): Promise<Campaign | undefined>;
}

export function createCampaignCache(maxEntries = 1000): CampaignCache {
  const held = new Map<string, { version: number; campaign: Campaign }>();
  return {
    async get(db, id, version) {
      const hit = held.get(id);
      if (hit?.version === version) return hit.campaign;
      // Read after the lookup, so never older than `version`; if newer, the next lookup's version
      // differs and it is read again.
      const campaign = await getCampaign(db, id);
      if (!campaign) return undefined;
      if (held.size >= maxEntries) held.clear();
      held.set(id, { version, campaign });
      return campaign;
    },
  };
}
