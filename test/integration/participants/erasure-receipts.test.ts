/**
 * /delete reaches the data other features keep: receipt photos and what was read from them, and
 * the delivery details of reward orders. Wired as in main.ts: erasure hooks given to the
 * participants service, registered by receipts and rewards after they are created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestEngine } from '../../helpers/engine.js';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { testLogger } from '../../helpers/logger.js';
import { withTransaction } from '../../../src/db/sql.js';
import { type ErasureHook } from '../../../src/services/participants/index.js';
import { createDirectoryMediaStore, createQrDecoder, createReceipts } from '../../../src/services/receipts/index.js';
import { createRewards, createVoucherCipher } from '../../../src/services/rewards/index.js';
import { chat, choice, command } from '../../helpers/dialog-harness.js';
import { participantWithPoints, physical } from '../../helpers/rewards.js';
import { PT_QR, receiptPhoto } from '../../fixtures/receipts/images.js';

let db: TestDatabase;
let mediaDir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  mediaDir = await mkdtemp(path.join(tmpdir(), 'punkto-erase-'));
});
afterAll(async () => {
  await db?.drop();
  await rm(mediaDir, { recursive: true, force: true });
});

function world() {
  const { sql } = db;
  const logger = testLogger();
  const hooks: ErasureHook[] = [];
  const { engine, participants, enqueueOutbound, ledger } = buildTestEngine(sql, { erasureHooks: hooks, logger });
  const media = createDirectoryMediaStore(mediaDir);
  const receipts = createReceipts({ sql, ledger, participants, enqueueOutbound, media, decoder: createQrDecoder(), logger });
  const rewards = createRewards({ ledger, participants, enqueueOutbound, cipher: createVoucherCipher(randomBytes(32)), logger });
  hooks.push((tx, id) => receipts.forgetParticipant(tx, id));
  hooks.push((tx, id) => rewards.forgetParticipant(tx, id));
  return { engine, participants, ledger, receipts, rewards };
}

const filesIn = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);

describe('erasure reaches receipts and rewards', () => {
  it('after /delete the receipt photos are gone, the order has no address, and the ledger still balances', async () => {
    const w = world();
    const { sql } = db;
    const p = await participantWithPoints(sql, w.ledger, 1000, { name: 'Kasia', externalId: '555001' });
    const other = await participantWithPoints(sql, w.ledger, 0, { name: 'Olek', externalId: '555002' });

    const submit = (participantId: string, photo: Buffer, ref: string) =>
      withTransaction(sql, (tx) =>
        w.receipts.intake(tx, { programId: p.programId, participantId, role: 'consumer', sourceRef: ref, media: { load: async () => photo }, caption: 'mój paragon' }),
      );
    const own = await submit(p.id, await receiptPhoto(PT_QR), 'telegram:1');
    // The very same file sent by someone else stays: it is their receipt too.
    const sharedPhoto = await receiptPhoto(PT_QR, { seed: 9 });
    const shared = await submit(p.id, sharedPhoto, 'telegram:2');
    const theirs = await submit(other.id, sharedPhoto, 'telegram:3');
    if (own.status !== 'accepted' || shared.status !== 'accepted' || theirs.status !== 'accepted') throw new Error('intake failed');
    await w.receipts.process(own.receipt.id);
    expect((await w.receipts.get(db.sql, own.receipt.id))!.qrTexts).toEqual([PT_QR]);

    const reward = await w.rewards.create(sql, physical({ stock: 3 }), 'admin:test');
    const placed = await withTransaction(sql, (tx) =>
      w.rewards.placeOrder(tx, { participant: p, rewardId: reward.id, requestKey: 'k1', delivery: { method: 'address', name: 'Kasia Nowak', address: 'ul. Długa 1, Warszawa' } }),
    );
    if (placed.status !== 'placed') throw new Error(placed.status);
    expect(await filesIn(mediaDir)).toHaveLength(2);

    const c = chat(w.engine, sql, { externalId: '555001' });
    await c.send(command('delete'));
    await c.send(choice('sys:delete_yes'));

    expect((await w.participants.getById(sql, p.id))!.status).toBe('erased');
    // Only the file another participant also sent is left.
    expect(await w.receipts.image(own.receipt)).toBeNull();
    expect(await w.receipts.image(shared.receipt)).not.toBeNull();
    expect(await filesIn(mediaDir)).toHaveLength(1);
    const cleared = (await w.receipts.get(db.sql, own.receipt.id))!;
    expect(cleared).toMatchObject({ caption: null, qrTexts: [] });
    expect(cleared.fields.B).toBeUndefined();
    expect((await w.receipts.get(db.sql, theirs.receipt.id))!.caption).toBe('mój paragon');

    const order = (await w.rewards.getOrder(sql, placed.order.id))!;
    expect(order.delivery).toEqual({ method: 'none' });
    expect((await w.ledger.check()).ok).toBe(true);
  });
});
