/**
 * Who gets a receipt's review card (managers decide receipts too, so they get it as moderators
 * do), what a stored photo keeps of its sender (no EXIF GPS position, names or device), and a
 * receipt sent while its campaign has no receipt rules yet: it belongs to that campaign, is read
 * with the rules once they exist (and so resolves), and its points are paid inside the campaign.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { receiptsWorld, type ReceiptsWorld } from '../../fixtures/receipts/setup.js';
import { PT_QR, receiptPhoto } from '../../fixtures/receipts/images.js';

let w: ReceiptsWorld;
beforeAll(async () => {
  w = await receiptsWorld();
});
afterAll(async () => {
  await w?.close();
});

describe('receipt review cards', () => {
  it('managers get the review card as moderators do, each once, never for their own receipt', async () => {
    await w.campaign({ pointsPerUnit: 1 });
    const moderator = await w.participant({ role: 'moderator', name: 'Ewa' });
    const manager = await w.participant({ role: 'manager', locale: 'pt-PT', name: 'Rui' });
    const ala = await w.participant({ name: 'Ala' });
    const id = await w.submit(ala, await receiptPhoto(PT_QR, { seed: 81 }));
    const r = (await w.receipts.get(w.db.sql, id))!;
    expect(r.status).toBe('pending');
    for (const reviewer of [moderator, manager]) {
      const cards = (await w.outbox(reviewer)).filter((m) => m.message.image?.mediaKey === r.mediaKey);
      expect(cards).toHaveLength(1);
      expect(cards[0]!.message.choices!.flat().map((c) => c.value)).toEqual([`rcpt:a:${id}`, `rcpt:r:${id}`]);
    }
    // The manager's own receipt goes to the others only.
    const own = await w.submit(manager, await receiptPhoto(PT_QR.replace('G:FS 2026/88', 'G:FS 2026/89').replace('H:CSDF7T5H-88', 'H:CSDF7T5H-89'), { seed: 82 }));
    const ownKey = (await w.receipts.get(w.db.sql, own))!.mediaKey;
    expect((await w.outbox(manager)).filter((m) => m.message.image?.mediaKey === ownKey)).toHaveLength(0);
    expect((await w.outbox(moderator)).filter((m) => m.message.image?.mediaKey === ownKey)).toHaveLength(1);
  });
});

describe('stored receipt photos', () => {
  it('keep no EXIF: no GPS position, no name, no device; the QR is still read', async () => {
    const photo = await sharp(await receiptPhoto(PT_QR.replace('G:FS 2026/88', 'G:FS 2026/90').replace('H:CSDF7T5H-88', 'H:CSDF7T5H-90'), { seed: 83 }))
      .jpeg()
      .withExif({
        IFD0: { Artist: 'Jan Kowalski +48600100200', Make: 'PhoneMaker', Model: 'Model X' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 13/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '21/1 0/1 0/1' },
      })
      .toBuffer();
    expect((await sharp(photo).metadata()).exif).toBeDefined();
    expect(photo.includes('Kowalski')).toBe(true);
    const p = await w.participant({ name: 'Jan' });
    const id = await w.submit(p, photo);
    const r = (await w.receipts.get(w.db.sql, id))!;
    const stored = await readFile(path.join(w.mediaDir, r.mediaKey)).catch(async () => (await w.receipts.image(r))!);
    const meta = await sharp(stored).metadata();
    expect(meta.exif).toBeUndefined();
    expect(stored.includes('Kowalski')).toBe(false);
    expect(stored.includes('PhoneMaker')).toBe(false);
    expect(r.reading).toBe('pt_at');
  });
});

describe('a receipt sent before any receipt rules exist', () => {
  it('counts for the running campaign, resolves once its rules exist, and is paid inside it', async () => {
    // The campaign with rules of the tests above is over by now: only the one without rules runs.
    await w.db.sql`update campaigns set ends_at = '2026-09-02T00:00:00Z' where name = 'Receipts'`;
    const [c] = await w.db.sql<Array<{ id: string }>>`
      insert into campaigns (program_id, name, status, starts_at, ends_at)
      values (${w.programId}, 'Outono', 'active', '2026-09-01T00:00:00Z', '2026-10-01T00:00:00Z') returning id`;
    const p = await w.participant({ locale: 'pt-PT' });
    const doc = PT_QR.replace('G:FS 2026/88', 'G:FS 2026/95').replace('H:CSDF7T5H-88', 'H:CSDF7T5H-95');
    const id = await w.submit(p, await receiptPhoto(doc, { seed: 91 }), { process: false });
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
