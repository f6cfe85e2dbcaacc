/**
 * Reconciliation at scale (issue 24): `changes()` checks what the ledger wrote since the last
 * verified point (fast; run often), `full()` checks everything range by range in bounded memory,
 * reporting progress (run nightly; it also re-bases the verified point). Both check the invariants
 * of ledger_check() (see migrations/0040 for how the incremental one covers them) and answer the
 * same {ok, problems} as Ledger.check().
 */
import type { Sql } from '../../db/sql.js';
import * as checks from '../../db/ledger/check-repo.js';
import type { CheckRow } from '../../db/ledger/ledger-repo.js';
import type { CheckResult, LedgerProblem, LedgerProblemKind } from '../../domain/ledger/types.js';
import type { Logger } from '../../shared/logger.js';

export interface Reconciliation {
  /** Transfers since the verified point; the point advances to what was seen at least `marginMs` ago (0: all). */
  changes(db: Sql, options?: { marginMs?: number; limit?: number }): Promise<CheckResult>;
  full(db: Sql, options?: { rangeSize?: number; limit?: number; onProgress?: (p: checks.FullProgress) => void }): Promise<CheckResult>;
}

/** Rows of a check as the {ok, problems} every reconciliation answers (Ledger.check() too). */
export const toCheckResult = (rows: CheckRow[]): CheckResult => {
  const problems = rows.map(
    (r): LedgerProblem => ({
      kind: r.kind as LedgerProblemKind,
      accountId: r.accountId,
      transferId: r.transferId,
      programId: r.programId,
      participantId: r.participantId,
      expected: r.expected,
      actual: r.actual,
    }),
  );
  return { ok: problems.length === 0, problems };
};

export function createReconciliation(deps: { logger?: Logger } = {}): Reconciliation {
  return {
    async changes(db, options) {
      const res = toCheckResult(await checks.checkIncremental(db, options?.marginMs ?? 60_000, options?.limit ?? 200));
      if (!res.ok) deps.logger?.error({ problems: res.problems.slice(0, 20) }, 'ledger: reconciliation of recent changes found problems');
      return res;
    },
    async full(db, options) {
      const started = Date.now();
      const res = toCheckResult(
        await checks.checkFull(db, {
          rangeSize: options?.rangeSize ?? 200_000,
          limit: options?.limit ?? 200,
          onProgress: (p) => {
            options?.onProgress?.(p);
            deps.logger?.debug({ done: p.done, total: p.total }, 'ledger: full reconciliation progress');
          },
        }),
      );
      deps.logger?.[res.ok ? 'info' : 'error'](
        { ms: Date.now() - started, problems: res.problems.slice(0, 20) },
        res.ok ? 'ledger: full reconciliation passed' : 'ledger: full reconciliation found problems',
      );
      return res;
    },
  };
}
