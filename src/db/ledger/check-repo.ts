/**
 * Reconciliation that does not read the whole ledger on each call (migrations/0040): the
 * incremental check of what changed since the verified point, and the full check range by range.
 * Both run in one REPEATABLE READ transaction, so cached balances and rows come from one snapshot.
 */
import type { Sql } from '../sql.js';
import type { CheckRow } from './ledger-repo.js';

const ROWS = (fn: string) => `
  select c.kind, c.account_id, c.transfer_id, c.expected, c.actual, a.program_id,
         case when a.kind = 'participant' then a.ref end as participant_id
    from ${fn} c left join ledger_accounts a on a.id = c.account_id`;

/** Serialization failures mean another check moved the point meanwhile: the run is made again. */
async function repeatable<T>(sql: Sql, fn: (tx: Sql) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await sql.begin('isolation level repeatable read', (tx) => fn(tx as unknown as Sql))) as T;
    } catch (error) {
      if ((error as { code?: string }).code !== '40001' || attempt >= 3) throw error;
    }
  }
}

export function checkIncremental(sql: Sql, marginMs: number, limit: number): Promise<CheckRow[]> {
  return repeatable(sql, (tx) =>
    tx.unsafe<CheckRow[]>(ROWS(`ledger_check_incremental(make_interval(secs => $1::float8 / 1000), $2)`), [marginMs, limit]),
  );
}

export interface FullProgress {
  /** Transfers checked so far, of `total`. */
  done: number;
  total: number;
}

/** Ranges of `rangeSize` transfer ids; `onProgress` after each. Memory: one range's aggregate on the server, the problems here. */
export function checkFull(
  sql: Sql,
  options: { rangeSize: number; limit: number; onProgress?: (p: FullProgress) => void },
): Promise<CheckRow[]> {
  return repeatable(sql, async (tx) => {
    const [start] = await tx<{ max: string }[]>`select ledger_check_full_start()::text as max`;
    const max = Number(start!.max);
    const problems: CheckRow[] = [];
    // every range is added to the build even after problems, or the accounts' figures would be short
    for (let from = 0; from < max; from += options.rangeSize) {
      const to = Math.min(max, from + options.rangeSize);
      const found = await tx.unsafe<CheckRow[]>(`${ROWS('ledger_check_full_range($1, $2)')} limit $3`, [from, to, options.limit]);
      problems.push(...found.slice(0, Math.max(0, options.limit - problems.length)));
      options.onProgress?.({ done: to, total: max });
    }
    problems.push(...(await tx.unsafe<CheckRow[]>(ROWS('ledger_check_full_finish($1, $2, $3)'), [max, options.limit, problems.length === 0])));
    return problems.slice(0, options.limit);
  });
}
