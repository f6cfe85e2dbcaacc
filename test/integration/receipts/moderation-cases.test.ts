/**
 * Second review fixes for receipts: poison receipts reach a moderator instead of retrying forever,
 * review buttons check who presses them, a rejection's note reaches the participant, two photos of
 * one document read at the same moment see each other, and a failed photo download is answered.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../../src/db/sql.js';
import { createReceiptsFlow } from '../../../src/dialog/flows/receipts/index.js';
import { receiptsWorld, type ReceiptsWorld } from '../../fixtures/receipts/setup.js';
import { PT_QR, receiptPhoto } from '../../fixtures/receipts/images.js';
import { buildEngine, chat, choice } from '../../helpers/dialog-harness.js';

let w: ReceiptsWorld;
beforeAll(async () => {
  w = await receiptsWorld();
});
afterAll(async () => {
  await w?.close();
});

const ptDoc = (n: number, total = '12.30') =>
  PT_QR.replace('G:FS 2026/88', `G:FS 2026/${n}`).replace('H:CSDF7T5H-88', `H:CSDF7T5H-${n}`).replace('O:12.30', `O:${total}`);
const brV1 = (dhEmi: string) =>
  `https://www.sefaz.rs.gov.br/NFCE/NFCE-COM.aspx?chNFe=35260911222333000181650010000012341123456780&nVersao=100&tpAmb=1` +
  `&dhEmi=${Buffer.from(dhEmi).toString('hex')}&vNF=120.00&digVal=x&cIdToken=000001&cHashQRCode=${'c'.repeat(40)}`;
const balance = async (participantId: string) => (await w.ledger.balance(w.db.sql, w.programId, participantId)).available;

describe('receipts that used to fail for ever', () => {
  it('a Brazilian v1 QR dated 31 February is read as an invalid code and waits for a moderator', async () => {
    await w.campaign({ pointsPerUnit: 1 });
    const p = await w.participant();
    const id = await w.submit(p, await receiptPhoto(brV1('2026-02-31T10:15:00-03:00'), { seed: 3 }), { process: false });
    expect(await w.receipts.process(id)).toMatchObject({ status: 'processed', autoApproved: false });
    const r = (await w.receipts.get(w.db.sql, id))!;
    expect(r).toMatchObject({ status: 'pending', reading: 'invalid:br_nfce', issuedOn: null });
    expect(r.flags).toContain('invalid_qr');
  });

  it('a 13-digit total is flagged for a moderator, offers no points button, and is never auto-approved', async () => {
    const p = await w.participant();
    // Points per unit × a 13-digit total used to overflow the points column: the save failed on every run.
    await w.campaign({ pointsPerUnit: 1 });
    const huge = await w.submit(p, await receiptPhoto(ptDoc(1301, '9999999999999.99'), { seed: 4 }), { process: false });
    expect(await w.receipts.process(huge)).toMatchObject({ status: 'processed', autoApproved: false });
    const r = (await w.receipts.get(w.db.sql, huge))!;
    expect(r).toMatchObject({ status: 'pending', totalMinor: 999999999999999, computedPoints: null });
    expect(r.flags).toContain('total_implausible');
    // With auto-approval and a bound, the forged total still goes to a human.
    await w.campaign({ pointsPerUnit: 5, maxPointsPerReceipt: 1000, autoApprove: true });
    const bounded = await w.submit(p, await receiptPhoto(ptDoc(1302, '5000000.00'), { seed: 44 }), { process: false });
    expect(await w.receipts.process(bounded)).toMatchObject({ status: 'processed', autoApproved: false });
    expect((await w.receipts.get(w.db.sql, bounded))!.flags).toContain('total_implausible');
    expect(await balance(p)).toBe(0);
  });

  it('a receipt whose reading keeps failing is set aside for a moderator after five runs, and the sweeper lets it be', async () => {
    const campaignId = await w.campaign({ pointsPerUnit: 1 });
    // Rules that no longer parse (written by hand, an old shape): every run of the worker throws.
    await w.db.sql`update campaign_receipt_rules set rules = ${{ pointsPerUnit: 'lots' } as never}::jsonb where campaign_id = ${campaignId}`;
    const moderator = await w.participant({ role: 'moderator', locale: 'pl', name: 'Marta' });
    const p = await w.participant({ name: 'Olek' });
    const id = await w.submit(p, await receiptPhoto(ptDoc(1401), { seed: 5 }), { process: false });
    for (let run = 1; run <= 4; run++) await expect(w.receipts.process(id)).rejects.toThrow();
    expect((await w.receipts.get(w.db.sql, id))!.status).toBe('received');
    const fifth = await w.receipts.process(id);
    expect(fifth).toMatchObject({ status: 'processed', autoApproved: false });
    const r = (await w.receipts.get(w.db.sql, id))!;
    expect(r).toMatchObject({ status: 'pending', flags: ['unreadable'], computedPoints: null });
    expect(await w.receipts.stale(0)).not.toContain(id);
    const cards = (await w.outbox(moderator)).filter((n) => n.message.text.includes('Olek'));
    expect(cards).toHaveLength(1);
    expect(cards[0]!.message.text).toContain('nie udało się odczytać automatycznie');
    // The moderator decides it like any other receipt.
    expect(await w.receipts.approve(w.db.sql, { receiptId: id, points: 7, actor: 'admin:test' })).toMatchObject({ status: 'approved', balance: 7 });
  });

  it('a receipt whose earlier runs died with their process is set aside without being read again', async () => {
    await w.campaign({ pointsPerUnit: 1 });
    const p = await w.participant();
    const id = await w.submit(p, await receiptPhoto(ptDoc(1402), { seed: 6 }), { process: false });
    await w.db.sql`update receipts set process_attempts = 5 where id = ${id}`;
    expect(await w.receipts.process(id)).toMatchObject({ status: 'processed' });
    expect(await w.receipts.get(w.db.sql, id)).toMatchObject({ status: 'pending', flags: ['unreadable'], reading: 'none' });
  });
});

describe('who may decide a receipt', () => {
  it('a moderator pressing approve or reject on their own receipt is refused; another moderator decides it', async () => {
    await w.campaign({ pointsPerUnit: 1 });
    const rita = await w.participant({ role: 'moderator', locale: 'pl', name: 'Rita' });
    const external = `mod-${randomUUID()}`;
    await w.db.sql`insert into channel_identities (program_id, channel, external_id, chat_id, participant_id)
      values (${w.programId}, 'telegram', ${external}, ${external}, ${rita})`;
    const own = await w.submit(rita, await receiptPhoto(ptDoc(1501), { seed: 7 }));
    expect((await w.receipts.get(w.db.sql, own))!.status).toBe('pending');

    const { engine } = buildEngine(w.db.sql, [createReceiptsFlow({ receipts: w.receipts, jobs: { enqueue: async () => undefined } })]);
    const ritaChat = chat(engine, w.db.sql, { externalId: external });
    const refused = w.i18n.t('pl')('receipts:mod.own_receipt');
    expect((await ritaChat.send(choice(`rcpt:a:${own}`))).map((m) => m.text)).toContain(refused);
    expect((await ritaChat.send(choice(`rcpt:x:${own}:0`))).map((m) => m.text)).toContain(refused);
    expect((await ritaChat.send(choice(`rcpt:p:${own}`))).map((m) => m.text)).toContain(refused);
    expect((await w.receipts.get(w.db.sql, own))!.status).toBe('pending');
    expect(await balance(rita)).toBe(0);

    const other = await w.participant({ role: 'moderator' });
    const reviewer = { participantId: other, programId: w.programId };
    expect((await w.receipts.approve(w.db.sql, { receiptId: own, actor: `participant:${other}`, reviewer })).status).toBe('approved');
    expect(await balance(rita)).toBe(12);
  });

  it('a chat reviewer cannot decide a receipt of another program', async () => {
    const p = await w.participant();
    const id = await w.submit(p, await receiptPhoto(ptDoc(1502), { seed: 8 }));
    const stranger = { participantId: randomUUID(), programId: randomUUID() };
    expect(await w.receipts.approve(w.db.sql, { receiptId: id, points: 50, actor: 'participant:x', reviewer: stranger })).toEqual({ status: 'not_allowed', why: 'other_program' });
    expect(await w.receipts.reject(w.db.sql, { receiptId: id, reason: 'duplicate', actor: 'participant:x', reviewer: stranger })).toEqual({ status: 'not_allowed', why: 'other_program' });
    expect((await w.receipts.get(w.db.sql, id))!.status).toBe('pending');
  });
});

describe('rejection', () => {
  it('with a reason and a note, the participant reads both', async () => {
    const p = await w.participant({ locale: 'pt-PT' });
    const id = await w.submit(p, await receiptPhoto(ptDoc(1601), { seed: 9 }));
    await w.receipts.reject(w.db.sql, { receiptId: id, reason: 'product_not_eligible', note: 'Só contam caldeiras da marca X.', actor: 'admin:test' });
    const [notice] = (await w.outbox(p)).map((n) => n.message.text);
    expect(notice).toBe('❌ Infelizmente não podemos aceitar este talão. Motivo: o talão não tem produtos da campanha\nComentário: Só contam caldeiras da marca X.');
  });
});

describe('two photos of one document read at the same moment', () => {
  it('see each other: in every pair one is paid and the other is flagged as the same document', async () => {
    await w.campaign({ pointsPerUnit: 1, maxPointsPerReceipt: 500, autoApprove: true });
    const pairs = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const doc = ptDoc(1700 + i);
        const [a, b] = [await w.participant(), await w.participant()];
        const ra = await w.submit(a, await receiptPhoto(doc, { seed: 100 + i }), { process: false });
        const rb = await w.submit(b, await receiptPhoto(doc, { seed: 200 + i, paper: '#efe9d9' }), { process: false });
        return { a, b, ra, rb };
      }),
    );
    await Promise.all(pairs.flatMap((pair) => [w.receipts.process(pair.ra), w.receipts.process(pair.rb)]));
    for (const pair of pairs) {
      const rows = [(await w.receipts.get(w.db.sql, pair.ra))!, (await w.receipts.get(w.db.sql, pair.rb))!];
      expect(rows.map((r) => r.status).sort()).toEqual(['approved', 'pending']);
      expect(rows.find((r) => r.status === 'pending')!.flags).toContain('duplicate_document');
      expect((await balance(pair.a)) + (await balance(pair.b))).toBe(12);
    }
  });
});

describe('photo download during intake', () => {
  // The download itself is bounded (and done once) by the engine before the transaction opens:
  // test/integration/dialog/media.test.ts. Intake answers a download that failed.
  it('a photo whose download failed is refused as download_failed: the chat answers instead of failing', async () => {
    const p = await w.participant();
    const result = await withTransaction(w.db.sql, (tx) =>
      w.receipts.intake(tx, { programId: w.programId, participantId: p, role: 'consumer', sourceRef: `web:${randomUUID()}`, media: { load: () => Promise.reject(new Error('photo download took longer than 300 ms')) } }),
    );
    expect(result).toEqual({ status: 'refused', reason: 'download_failed' });
  });
});
