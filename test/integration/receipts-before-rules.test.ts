/**
 * A receipt sent while its campaign has no receipt rules yet: it belongs to that campaign, is read
 * with the rules once they exist (and so resolves), and its points are paid inside the campaign.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiptsWorld, type ReceiptsWorld } from '../fixtures/receipts/setup.js';
import { PT_QR, receiptPhoto } from '../fixtures/receipts/images.js';

let w: ReceiptsWorld;
beforeAll(async () => {
  w = await receiptsWorld();
});
afterAll(async () => {
  await w?.close();
});

describe('a receipt sent before any receipt rules exist', () => {
  it('counts for the running campaign, resolves once its rules exist, and is paid inside it', async () => {
    const [c] = await w.db.sql<Array<{ id: string }>>`
      insert into campaigns (program_id, name, status, starts_at, ends_at)
      values (${w.programId}, 'Outono', 'active', '2026-09-01T00:00:00Z', '2026-10-01T00:00:00Z') returning id`;
    const p = await w.participant({ locale: 'pt' });
    const id = await w.submit(p, await receiptPhoto(PT_QR, { seed: 91 }), { process: false });
    expect((await w.receipts.get(w.db.sql, id))!.campaignId).toBe(c!.id);

    // The manager writes the rules after the photo arrived; the worker reads it with them.
    await w.receipts.setRules(c!.id, { autoApprove: true, pointsPerUnit: 1, maxPointsPerReceipt: 500 });
    expect(await w.receipts.process(id)).toMatchObject({ status: 'processed', autoApproved: true });
    const r = (await w.receipts.get(w.db.sql, id))!;
    expect(r).toMatchObject({ status: 'approved', points: 12, totalMinor: 1230, campaignId: c!.id });
    const [transfer] = await w.db.sql<Array<{ campaignId: string | null; amount: number }>>`
      select campaign_id, amount from ledger_transfers where key = ${`receipt:${id}:approve`}`;
    expect(transfer).toEqual({ campaignId: c!.id, amount: 12 });
  });
});
