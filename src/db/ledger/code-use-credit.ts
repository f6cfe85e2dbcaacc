/**
 * The ledger's credit of a code use: the take of the use (db/codes/take-use.ts) and the credit in
 * one statement, the credit only for a use the statement took, so a code with no use left credits
 * nothing. A batch of messages (batched.ts) sends its code credits as one `ledger_credit_many`
 * (migrations/0016): one statement per batch, credited in the order of the batch, so a message's
 * several codes answer their balances in the order it sent them. For single-use codes, two
 * messages of a batch with the same code take it once and the other finds no use left, as alone.
 */
import type { BatchedStatement } from '../batched.js';
import { TAKE_USE, TAKE_USES, takeUseParams, takeUsesParams, type CodeUse } from '../codes/take-use.js';
import { creditCall, creditManyCall, parseOutcome, type CreditArgs, type RawOutcome } from './ledger-repo.js';

export interface CodeUseCredit {
  use: CodeUse;
  credit: CreditArgs;
}

/** The credit's outcome (as `credit` answers it, with the balance after it), or null when no use was left. */
export const creditCodeUse: BatchedStatement<CodeUseCredit, RawOutcome | null> = {
  async one(db, { use, credit }) {
    const call = creditCall(credit);
    const [row] = await db.unsafe<{ outcome: string | null }[]>(
      `with ${TAKE_USE} select (select ${call.sql(7)}::text from recorded) as outcome`,
      [...takeUseParams(use), ...call.params] as never[],
      { prepare: true },
    );
    return row?.outcome == null ? null : parseOutcome(row.outcome);
  },

  async many(db, items) {
    const credits = creditManyCall(
      items.map((i) => creditCall(i.credit)),
      7,
      'array(select t.ord from taken t where exists (select 1 from recorded r where r.code_id = t.code_id))',
    );
    const rows = await db.unsafe<{ ord: number; outcome: string }[]>(
      `with ${TAKE_USES} select k.ord::int, k.outcome::text from ${credits.sql} as k`,
      [...takeUsesParams(items.map((i) => i.use)), ...credits.params] as never[],
      { prepare: true },
    );
    const byOrd = new Map(rows.map((r) => [r.ord, r.outcome]));
    return items.map((_, i) => {
      const text = byOrd.get(i + 1);
      return text === undefined ? null : parseOutcome(text);
    });
  },
};
