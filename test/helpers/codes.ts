import { randomBytes } from 'node:crypto';
import { createCampaigns, type CampaignsService } from '../../src/services/campaigns/index.js';
import { createCodes, createCodeHasher, type CodesService } from '../../src/services/codes/index.js';
import { createLedger, type Ledger } from '../../src/services/ledger/index.js';
import type { Clock } from '../../src/shared/clock.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface CodesTestBed {
  db: TestDatabase;
  ledger: Ledger;
  campaigns: CampaignsService;
  codes: CodesService;
  programId: string;
}

/** A fresh database with the ledger, campaigns and codes on it, for the codes integration tests. */
export async function openCodesTestBed(options: { clock: Clock; secret?: Buffer; max?: number }): Promise<CodesTestBed> {
  const { clock } = options;
  const db = await createTestDatabase({ max: options.max ?? 20 });
  const ledger = createLedger({ sql: db.sql, clock });
  const campaigns = createCampaigns({ sql: db.sql, clock });
  const codes = createCodes({ sql: db.sql, ledger, campaigns, hash: createCodeHasher(options.secret ?? randomBytes(32)), clock });
  return { db, ledger, campaigns, codes, programId: await campaigns.defaultProgramId() };
}
