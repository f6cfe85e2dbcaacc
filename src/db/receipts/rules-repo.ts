/** A campaign's receipt rules, and which campaign a receipt sent now counts for. */
import type { Db } from '../sql.js';
import type { ReceiptRules } from '../../domain/receipts/index.js';

export interface CampaignForReceipt {
  campaignId: string;
  programId: string;
  startsAt: Date;
  endsAt: Date;
  rules: ReceiptRules;
}

export async function getRules(db: Db, campaignId: string): Promise<CampaignForReceipt | null> {
  const [row] = await db.unsafe<CampaignForReceipt[]>(
    `select c.id as campaign_id, c.program_id, c.starts_at, c.ends_at, r.rules
     from campaign_receipt_rules r join campaigns c on c.id = r.campaign_id where r.campaign_id = $1`,
    [campaignId],
  );
  return row ?? null;
}

export async function upsertRules(db: Db, programId: string, campaignId: string, rules: ReceiptRules): Promise<void> {
  await db.unsafe(
    `insert into campaign_receipt_rules (campaign_id, program_id, rules) values ($1, $2, $3::jsonb)
     on conflict (campaign_id) do update set rules = excluded.rules, updated_at = now()`,
    [campaignId, programId, rules] as never[],
  );
}

/**
 * The campaign a receipt sent now counts for: running (not a draft), open to the participant's
 * role; one with receipt rules before one without (its rules may come later: they are read when the
 * receipt is, and its caps and budget apply to the receipt's points either way); the most recently
 * started wins when several run at once.
 */
export async function findCampaignForReceipt(
  db: Db,
  q: { programId: string; at: Date; role: string | null },
): Promise<{ campaignId: string; hasRules: boolean } | null> {
  const [row] = await db.unsafe<Array<{ campaignId: string; hasRules: boolean }>>(
    `select c.id as campaign_id, r.campaign_id is not null as has_rules
     from campaigns c left join campaign_receipt_rules r on r.campaign_id = c.id
     where c.program_id = $1 and c.status <> 'draft' and c.starts_at <= $2 and c.ends_at > $2
       and (cardinality(c.audience_roles) = 0 or $3::text = any (c.audience_roles))
     order by (r.campaign_id is not null) desc, c.starts_at desc, c.created_at desc, c.id limit 1`,
    [q.programId, q.at, q.role] as never[],
  );
  return row ?? null;
}
