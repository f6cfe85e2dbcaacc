/** The ledger's maintenance: lots that expire and holds that time out, each exactly once. */
import type { Db } from '../../db/sql.js';
import * as repo from '../../db/ledger/ledger-repo.js';
import type { Clock } from '../../shared/clock.js';
import type { Ledger, LedgerDeps } from './ledger.js';

type Run = <T>(db: Db, fn: (db: Db) => Promise<T>) => Promise<T>;

export function createLedgerMaintenance(
  deps: LedgerDeps & { clock: Clock },
  run: Run,
): Pick<Ledger, 'expireDueLots' | 'voidExpiredHolds'> {
  const { sql, clock } = deps;
  return {
    async expireDueLots(now = clock.now()) {
      let count = 0;
      let points = 0;
      for (;;) {
        const lots = await repo.dueLots(sql, now, 200);
        for (const lot of lots) {
          const raw = await run(sql, (d) => repo.expireLot(d, lot, now));
          if (raw.status === 'expired') {
            count += 1;
            points += (raw.transfer as { amount: number }).amount;
          }
        }
        if (lots.length < 200) break;
      }
      if (count) deps.logger?.info({ lots: count, points }, 'ledger: expired due lots');
      return { count, points };
    },

    async voidExpiredHolds(now = clock.now()) {
      let count = 0;
      let points = 0;
      for (;;) {
        const keys = await repo.expiredHoldKeys(sql, now, 200);
        for (const key of keys) {
          const r = await run(sql, (d) =>
            repo.resolve(d, {
              pendingKey: key,
              action: 'void',
              actor: 'system',
              reasonKey: 'ledger:reason.hold_expired',
              reasonParams: null,
              now,
            }),
          );
          if (r.status === 'ok' && !(r.transfer as { replayed: boolean }).replayed) {
            count += 1;
            points += (r.transfer as { amount: number }).amount;
          }
        }
        if (keys.length < 200) break;
      }
      if (count) deps.logger?.info({ holds: count, points }, 'ledger: voided expired holds');
      return { count, points };
    },
  };
}
