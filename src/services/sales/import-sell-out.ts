/** Distributor sell-out imports: confirm or reject pending sales by invoice, claw back paid ones found invalid. */
import type { Sql } from '../../db/sql.js';
import { withTransaction } from '../../db/sql.js';
import * as repo from '../../db/sales/repo.js';
import { audit } from '../../db/audit-repo.js';
import { normalizeInvoice, parseSellOutCsv, type SellOutRow } from '../../domain/sales/sales.js';
import { decideSale, type DecideOutcome } from './approve-sale.js';
import { settleOpenClawbacks } from './claw-back.js';
import type { SalesArea } from './area.js';
import type { SellOutReport } from './types.js';

export async function applySellOut(sql: Sql, area: SalesArea, rows: SellOutRow[], actor: string): Promise<Omit<SellOutReport, 'bad'>> {
  const report: Omit<SellOutReport, 'bad'> = {
    confirmed: 0,
    rejected: 0,
    clawedBack: 0,
    clawbackShort: [],
    recovered: 0,
    notFound: [],
    alreadyDecided: 0,
  };
  const programId = await area.campaigns.defaultProgramId();
  // What earlier decisions left owed is collected first, so points earned since then go to it
  // before this run opens new debts.
  report.recovered = await settleOpenClawbacks(sql, area, programId, actor);
  // One transaction per invoice: a failure on one row never undoes the others. A deadlock retries
  // the invoice with the same keys (withTransaction); the counts are taken from its final attempt.
  for (const row of rows) {
    const outcomes = await withTransaction(sql, async (tx) => {
      const sales = await repo.salesByInvoiceNorm(tx, programId, normalizeInvoice(row.invoice));
      const out: DecideOutcome[] = [];
      for (const sale of sales) out.push(await decideSale(tx, area, sale, row.verdict, actor, 'sell-out import'));
      return out;
    });
    if (!outcomes.length) report.notFound.push(row.invoice);
    for (const r of outcomes) {
      if (r.outcome === 'confirmed') report.confirmed++;
      else if (r.outcome === 'rejected') report.rejected++;
      else if (r.outcome === 'clawed_back') {
        report.rejected++;
        report.clawedBack++;
        report.clawbackShort.push(...(r.short ?? []));
      } else report.alreadyDecided++;
    }
  }
  await audit(sql, actor, 'sales.sell_out_import', 'sales', report);
  return report;
}

export async function importSellOut(sql: Sql, area: SalesArea, csv: string, actor: string): Promise<SellOutReport> {
  const { rows, bad } = parseSellOutCsv(csv);
  return { ...(await applySellOut(sql, area, rows, actor)), bad };
}
