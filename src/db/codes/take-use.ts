/**
 * Taking one use of a code, as the start of a statement: the CTE `taken` updates the code's row
 * only while a use is left, and `recorded` writes the redemption of what was taken. The ledger's
 * credit of a code use (db/ledger/code-use-credit.ts) goes on from `recorded`, so it credits only a
 * use that the same statement took. Concurrent takers of one code queue on its row lock and
 * re-check `uses < max_uses`.
 */

export interface CodeUse {
  codeId: number;
  participantId: string;
  campaignId: string;
  points: number;
  channel: string | null;
  at: Date;
}

/** One use; parameters `$1`…`$6` (`takeUseParams`); `recorded` yields the redemption's `id`. */
export const TAKE_USE = `taken as (
    update codes set uses = uses + 1, last_used_at = $1
    where id = $2 and uses < max_uses returning id
  ), recorded as (
    insert into code_redemptions (code_id, participant_id, campaign_id, points, channel, redeemed_at)
    select id, $3, $4, $5, $6, $1 from taken
    returning id
  )`;

export const takeUseParams = (u: CodeUse): unknown[] => [u.at, u.codeId, u.participantId, u.campaignId, u.points, u.channel];

/**
 * Many uses over arrays `$1`…`$6` (`takeUsesParams`): `taken` yields the input rows it took, with
 * their 1-based `ord`; `recorded` yields `code_id`. Only one of several rows joined to the same
 * code updates it (UPDATE … FROM): one use, one redemption.
 */
export const TAKE_USES = `i as (
    select * from unnest($1::int8[], $2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::timestamptz[])
      with ordinality as i(code_id, participant_id, campaign_id, points, channel, at, ord)
  ), taken as (
    update codes c set uses = c.uses + 1, last_used_at = i.at
      from i where c.id = i.code_id and c.uses < c.max_uses
    returning i.*
  ), recorded as (
    insert into code_redemptions (code_id, participant_id, campaign_id, points, channel, redeemed_at)
    select code_id, participant_id, campaign_id, points, channel, at from taken
    returning code_id
  )`;

export const takeUsesParams = (uses: readonly CodeUse[]): unknown[] => [
  uses.map((u) => u.codeId),
  uses.map((u) => u.participantId),
  uses.map((u) => u.campaignId),
  uses.map((u) => u.points),
  uses.map((u) => u.channel),
  uses.map((u) => u.at.toISOString()),
];
