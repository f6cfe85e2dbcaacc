import { createLedger, type Ledger } from '../../src/services/ledger/index.js';
import type { Clock } from '../../src/shared/clock.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface LedgerTestBed {
  db: TestDatabase;
  ledger: Ledger;
  /** The default program every ledger test books on. */
  programId: string;
}

/** A fresh migrated database with a ledger on it, for the ledger's integration tests. */
export async function openLedgerTestBed(options: { clock?: Clock; max?: number } = {}): Promise<LedgerTestBed> {
  const db = await createTestDatabase(options.max ? { max: options.max } : {});
  const ledger = createLedger({ sql: db.sql, ...(options.clock ? { clock: options.clock } : {}) });
  const [program] = await db.sql<{ id: string }[]>`select id from programs where slug = 'default'`;
  return { db, ledger, programId: program!.id };
}
