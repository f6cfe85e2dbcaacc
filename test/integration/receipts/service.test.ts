import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../../src/db/sql.js';
import { receiptsWorld, type ReceiptsWorld } from '../../fixtures/receipts/setup.js';
import { PT_QR, BR_QR, photoWithoutQr, receiptPhoto } from '../../fixtures/receipts/images.js';

let w: ReceiptsWorld;
beforeAll(async () => {
  w = await receiptsWorld();
});
afterAll(async () => {
  await w?.close();
});

/** The same PT document layout with another document number (a different purchase). */
const ptDoc = (n: number, total = '12.30') =>
  PT_QR.replace('G:FS 2026/88', `G:FS 2026/${n}`).replace('H:CSDF7T5H-88', `H:CSDF7T5H-${n}`).replace('O:12.30', `O:${total}`);

const balance = async (participantId: string) => (await w.ledger.balance(w.db.sql, w.programId, participantId)).available;

describe('receipt intake and processing', () => {
  it('auto-approves a valid fiscal receipt inside the rules: credited once, participant told with the new balance', async () => {
    await w.campaign({ autoApprove: true, pointsPerUnit: 1, maxPointsPerReceipt: 500, minTotal: 10 });
    const ala = await w.participant({ locale: 'pl' });
    const id = await w.submit(ala, await receiptPhoto(PT_QR));
    const r = (await w.receipts.get(w.db.sql, id))!;
    expect(r).toMatchObject({ status: 'approved', points: 12, reading: 'pt_at', sellerTaxId: '509442013', issuedOn: '2026-09-18', totalMinor: 1230, flags: [] });
    expect(await balance(ala)).toBe(12);
    const notices = await w.outbox(ala);
    expect(notices.map((n) => n.message.text)).toEqual(['✅ Paragon zatwierdzony: +12 punktów.\nMasz teraz 12 punktów.']);
    // The worker running again (a retried job) changes nothing.
    expect(await w.receipts.process(id)).toEqual({ status: 'skipped', reason: 'already_processed' });
    expect(await balance(ala)).toBe(12);
  });

  it('flags the same fiscal document from a second participant and sends it to moderators instead of paying', async () => {
    const moderator = await w.participant({ role: 'moderator', locale: 'pt-PT', name: 'Rita' });
    const bob = await w.participant({ name: 'Bob' });
    // Another photo (other paper, other print) of the very same purchase already paid above.
    const id = await w.submit(bob, await receiptPhoto(PT_QR, { seed: 5, paper: '#ece6d2', rotate: 3 }));
    const r = (await w.receipts.get(w.db.sql, id))!;
    expect(r.status).toBe('pending');
    expect(r.flags).toContain('duplicate_document');
    expect(r.flags).not.toContain('duplicate_image');
    expect(await balance(bob)).toBe(0);

    const [card] = await w.outbox(moderator);
    expect(card!.message.image?.mediaKey).toBe(r.mediaKey);
    expect(card!.message.text).toContain('Bob');
    expect(card!.message.text).toContain('este documento já foi enviado');
    expect(card!.message.choices!.flat().map((c) => c.value)).toEqual([`rcpt:a:${id}`, `rcpt:r:${id}`]);

    // Even a moderator approving it cannot pay the same purchase twice.
    const result = await w.receipts.approve(w.db.sql, { receiptId: id, actor: 'participant:x' });
    expect(result.status).toBe('document_already_paid');
    expect(await balance(bob)).toBe(0);
  });

  it('flags the same image sent twice', async () => {
    await w.campaign({ pointsPerUnit: 1 });
    const cid = await w.participant();
    const photo = await receiptPhoto(ptDoc(501), { seed: 11 });
    const first = await w.submit(cid, photo);
    const second = await w.submit(cid, photo);
    expect((await w.receipts.get(w.db.sql, first))!.flags).not.toContain('duplicate_image');
    expect((await w.receipts.get(w.db.sql, second))!.flags).toEqual(expect.arrayContaining(['duplicate_image', 'duplicate_document']));
  });

  it('one message is one receipt, however often the platform delivers it', async () => {
    const p = await w.participant();
    const photo = await receiptPhoto(ptDoc(777));
    const run = () =>
      withTransaction(w.db.sql, (tx) =>
        w.receipts.intake(tx, { programId: w.programId, participantId: p, role: 'consumer', sourceRef: 'telegram:42:1', media: { load: async () => photo } }),
      );
    expect((await run()).status).toBe('accepted');
    expect((await run()).status).toBe('already_received');
  });

  it('refuses what is not a usable photo, storing nothing', async () => {
    const p = await w.participant();
    const intake = (bytes: Buffer, size?: number) =>
      withTransaction(w.db.sql, (tx) =>
        w.receipts.intake(tx, { programId: w.programId, participantId: p, role: 'consumer', sourceRef: `web:${Math.random()}`, media: { load: async () => bytes, size } }),
      );
    expect(await intake(Buffer.from('hello, I am a text file'))).toEqual({ status: 'refused', reason: 'not_an_image' });
    const photo = await receiptPhoto(PT_QR);
    expect(await intake(photo.subarray(0, 5000))).toEqual({ status: 'refused', reason: 'corrupt' });
    expect(await intake(photo, 100 * 1024 * 1024)).toEqual({ status: 'refused', reason: 'too_large' });
    const rows = await w.db.sql`select 1 from receipts where participant_id = ${p}`;
    expect(rows).toHaveLength(0);
  });

  it('a photo without a readable code waits for a moderator, who gives the points', async () => {
    const p = await w.participant();
    const id = await w.submit(p, await photoWithoutQr(7));
    const r = (await w.receipts.get(w.db.sql, id))!;
    expect(r.status).toBe('pending');
    expect(r.flags).toContain('no_qr');
    expect(r.computedPoints).toBeNull();
    expect((await w.receipts.approve(w.db.sql, { receiptId: id, actor: 'admin:test' })).status).toBe('points_required');
    expect(await w.receipts.approve(w.db.sql, { receiptId: id, points: 30, actor: 'admin:test' })).toMatchObject({ status: 'approved', balance: 30 });
  });

  it('flags the weekly limit per participant', async () => {
    await w.campaign({ pointsPerUnit: 1, perWeekLimit: 1 });
    const p = await w.participant();
    const first = await w.submit(p, await receiptPhoto(ptDoc(601), { seed: 21 }));
    const second = await w.submit(p, await receiptPhoto(ptDoc(602), { seed: 22 }));
    expect((await w.receipts.get(w.db.sql, first))!.flags).not.toContain('weekly_limit_reached');
    expect((await w.receipts.get(w.db.sql, second))!.flags).toContain('weekly_limit_reached');
  });

  it('reads a Brazilian offline NFC-e with its total', async () => {
    const p = await w.participant({ locale: 'pt-PT' });
    const id = await w.submit(p, await receiptPhoto(BR_QR, { seed: 31 }));
    expect(await w.receipts.get(w.db.sql, id)).toMatchObject({ reading: 'br_nfce', totalMinor: 4590, currency: 'BRL', sellerTaxId: '11222333000181', issuedOn: '2026-09-18', computedPoints: 45 });
  });
});

describe('decisions', () => {
  it('approving the same receipt again, or 25 times at once, pays exactly once', async () => {
    const p = await w.participant();
    const id = await w.submit(p, await receiptPhoto(ptDoc(901), { seed: 41 }));
    expect((await w.receipts.get(w.db.sql, id))!.status).toBe('pending');
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => w.receipts.approve(w.db.sql, { receiptId: id, actor: `participant:mod${i}` })),
    );
    expect(results.filter((r) => r.status === 'approved')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'already_decided')).toHaveLength(24);
    expect((await w.receipts.approve(w.db.sql, { receiptId: id, actor: 'admin:late' })).status).toBe('already_decided');
    expect(await balance(p)).toBe(12);
    const transfers = await w.db.sql`select 1 from ledger_transfers where key = ${`receipt:${id}:approve`}`;
    expect(transfers).toHaveLength(1);
    // Exactly one "approved" notice to the participant.
    expect((await w.outbox(p)).filter((n) => n.message.text.startsWith('✅'))).toHaveLength(1);
    expect(await w.ledger.check()).toMatchObject({ ok: true });
  });

  it('two receipts of one purchase approved at the same moment: only one is paid', async () => {
    const a = await w.participant();
    const b = await w.participant();
    const doc = ptDoc(902);
    const ra = await w.submit(a, await receiptPhoto(doc, { seed: 51 }));
    const rb = await w.submit(b, await receiptPhoto(doc, { seed: 52, paper: '#efe9d9' }));
    const results = await Promise.all([
      w.receipts.approve(w.db.sql, { receiptId: ra, points: 10, actor: 'admin:one' }),
      w.receipts.approve(w.db.sql, { receiptId: rb, points: 10, actor: 'admin:two' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['approved', 'document_already_paid']);
    expect((await balance(a)) + (await balance(b))).toBe(10);
  });

  it('a rejection tells the participant why, in their language, and is final', async () => {
    const p = await w.participant({ locale: 'be' });
    const id = await w.submit(p, await receiptPhoto(ptDoc(903), { seed: 61 }));
    expect((await w.receipts.reject(w.db.sql, { receiptId: id, reason: 'total_too_low', actor: 'admin:test' })).status).toBe('rejected');
    expect((await w.receipts.reject(w.db.sql, { receiptId: id, reason: 'duplicate', actor: 'admin:other' })).status).toBe('already_decided');
    expect((await w.receipts.approve(w.db.sql, { receiptId: id, points: 5, actor: 'admin:other' })).status).toBe('already_decided');
    const texts = (await w.outbox(p)).map((n) => n.message.text);
    expect(texts).toEqual(['❌ На жаль, мы не можам залічыць гэты чэк. Вы можаце даслаць фота іншага чэка або напісаць арганізатару праграмы.\nПрычына: сума пакупкі занадта малая']);
    expect(await balance(p)).toBe(0);
    const [audit] = await w.db.sql`select actor, action from audit_log where target = ${`receipt:${id}`}`;
    expect(audit).toMatchObject({ actor: 'admin:test', action: 'receipt.reject' });
  });

  it('a rejected receipt frees its document for a genuine resubmission', async () => {
    const p = await w.participant();
    const doc = ptDoc(904);
    const first = await w.submit(p, await receiptPhoto(doc, { seed: 71, blur: 4 }));
    await w.receipts.reject(w.db.sql, { receiptId: first, reason: 'unreadable', actor: 'admin:test' });
    const second = await w.submit(p, await receiptPhoto(doc, { seed: 72 }));
    expect((await w.receipts.get(w.db.sql, second))!.flags).not.toContain('duplicate_document');
  });
});

describe('campaign caps and budget', () => {
  it('an approval that would pass the daily cap or the budget credits nothing and says which', async () => {
    await w.campaign({ pointsPerUnit: 1 }, { capPerDay: 20, budget: 30 });
    const p = await w.participant();
    const q = await w.participant();
    const first = await w.submit(p, await receiptPhoto(ptDoc(950), { seed: 91 }));
    const second = await w.submit(p, await receiptPhoto(ptDoc(951), { seed: 92 }));
    expect((await w.receipts.approve(w.db.sql, { receiptId: first, actor: 'admin:t' })).status).toBe('approved');
    expect(await w.receipts.approve(w.db.sql, { receiptId: second, actor: 'admin:t' })).toMatchObject({ status: 'campaign_limit', limit: 'daily_cap' });
    // Nothing of the refused approval stuck: the receipt still waits, the balance did not move.
    expect((await w.receipts.get(w.db.sql, second))!.status).toBe('pending');
    expect(await balance(p)).toBe(12);
    const third = await w.submit(q, await receiptPhoto(ptDoc(952), { seed: 93 }));
    expect((await w.receipts.approve(w.db.sql, { receiptId: third, points: 18, actor: 'admin:t' })).status).toBe('approved');
    const fourth = await w.submit(q, await receiptPhoto(ptDoc(953), { seed: 94 }));
    expect(await w.receipts.approve(w.db.sql, { receiptId: fourth, points: 1, actor: 'admin:t' })).toMatchObject({ status: 'campaign_limit', limit: 'budget_exhausted' });
    const [c] = await w.db.sql`select budget_exhausted_at from campaigns where id = (select campaign_id from receipts where id = ${fourth})`;
    expect(c!.budgetExhaustedAt).toBeInstanceOf(Date);
  });
});

describe('erasure', () => {
  it('deletes a participant’s photos and personal fields but keeps the decision, so the purchase stays paid once', async () => {
    await w.campaign({ autoApprove: true, pointsPerUnit: 1, maxPointsPerReceipt: 500 });
    const p = await w.participant();
    const other = await w.participant();
    const doc = ptDoc(905).replace('B:999999990', 'B:245678913');
    const photo = await receiptPhoto(doc, { seed: 81 });
    const id = await w.submit(p, photo);
    const shared = await w.submit(other, await receiptPhoto(ptDoc(906), { seed: 82 }));
    expect((await w.receipts.get(w.db.sql, id))!.fields.B).toBe('245678913');
    expect(await w.receipts.forgetParticipant(w.db.sql, p)).toBe(1);
    const r = (await w.receipts.get(w.db.sql, id))!;
    expect(r).toMatchObject({ status: 'approved', points: 12, qrTexts: [], caption: null });
    expect(r.fields.B).toBeUndefined();
    expect(await w.receipts.image(r)).toBeNull();
    expect(await w.receipts.image((await w.receipts.get(w.db.sql, shared))!)).not.toBeNull();
    // The same purchase sent again by someone else is still recognised.
    const again = await w.submit(other, await receiptPhoto(doc, { seed: 83 }));
    expect((await w.receipts.get(w.db.sql, again))!.flags).toContain('duplicate_document');
  });
});
