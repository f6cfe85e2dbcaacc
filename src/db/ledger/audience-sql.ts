/**
 * What a broadcast's audience asks of the ledger, as SQL the audience query embeds (its only
 * reads of ledger tables): who has points from a campaign, and how many points expire on a day.
 */

/** `p.id` has a transfer of campaign `campaign` (an SQL uuid expression). */
export const earnedInCampaign = (campaign: string): string =>
  `p.id in (select participant_id from ledger_transfers where campaign_id = ${campaign})`;

/**
 * A lateral join `x(points, day)`: the points of `p` (participants) whose lots expire on `day` (an
 * SQL date expression) in the program's time zone (`prog`).
 */
export const expiringOnJoin = (day: string): string => `join lateral (
      select coalesce(sum(l.remaining), 0)::bigint as points, ${day}::text as day
        from ledger_accounts acc join ledger_lots l on l.account_id = acc.id
       where acc.program_id = p.program_id and acc.kind = 'participant' and acc.ref = p.id::text
         and l.open and (l.expires_at at time zone prog.time_zone)::date = ${day}) x on true`;
