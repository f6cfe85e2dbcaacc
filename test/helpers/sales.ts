import { createCampaigns, type CampaignsService } from '../../src/services/campaigns/index.js';
import type { Notifier } from '../../src/services/campaigns/notifier.js';
import { createLedger, type Ledger } from '../../src/services/ledger/index.js';
import { createSales, type SalesService } from '../../src/services/sales/index.js';
import type { Clock } from '../../src/shared/clock.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface SalesTestBed {
  db: TestDatabase;
  ledger: Ledger;
  campaigns: CampaignsService;
  sales: SalesService;
  programId: string;
}

/** A fresh database with the ledger, campaigns and sales on it, for the sales integration tests. */
export async function openSalesTestBed(options: { clock: Clock; notifier: Notifier; max?: number }): Promise<SalesTestBed> {
  const { clock, notifier } = options;
  const db = await createTestDatabase({ max: options.max ?? 30 });
  const ledger = createLedger({ sql: db.sql, clock });
  const campaigns = createCampaigns({ sql: db.sql, clock, notifier });
  const sales = createSales({ ledger, campaigns, clock, notifier });
  return { db, ledger, campaigns, sales, programId: await campaigns.defaultProgramId() };
}
