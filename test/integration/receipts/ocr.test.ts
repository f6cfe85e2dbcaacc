import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWorker, OEM } from 'tesseract.js';
import { createTesseractOcr, type ReceiptOcr } from '../../../src/services/receipts/index.js';
import { receiptsWorld, type ReceiptsWorld } from '../../fixtures/receipts/setup.js';
import { printedReceipt, PL_PARAGON } from '../../fixtures/receipts/printed.js';

// The OCR worker thread runs behind a guard that throws on fetch, http(s) and sockets; the main
// thread's fetch is stubbed too. A CDN download anywhere fails the test instead of passing quietly.
const guardedWorker = fileURLToPath(new URL('../../fixtures/receipts/offline-ocr-worker.cjs', import.meta.url));
const realFetch = globalThis.fetch;
const fetched: string[] = [];
let dataDir: string;
let ocr: ReceiptOcr;
let w: ReceiptsWorld;
const cwdBefore = await readdir(process.cwd());

beforeAll(async () => {
  globalThis.fetch = (async (input: unknown) => {
    fetched.push(String(input));
    throw new Error('no network in this test');
  }) as typeof fetch;
  dataDir = await mkdtemp(path.join(tmpdir(), 'punkto-ocr-'));
  ocr = createTesseractOcr({ dataDir, workerPath: guardedWorker });
  w = await receiptsWorld({ ocr });
});
afterAll(async () => {
  await ocr?.close();
  await w?.close();
  await rm(dataDir, { recursive: true, force: true });
  globalThis.fetch = realFetch;
  expect(fetched).toEqual([]);
});

describe('receipt OCR (tesseract.js, offline)', () => {
  it('the network guard works: tesseract.js without a langPath (its CDN default) fails behind it', async () => {
    // A failed language load never settles createWorker: the failure arrives at errorHandler.
    const failure = new Promise<string>((resolve) => {
      void createWorker('pol', OEM.LSTM_ONLY, { workerPath: guardedWorker, cacheMethod: 'none', errorHandler: (e: unknown) => resolve(String(e)) });
    });
    expect(await failure).toMatch(/network access attempted from the OCR worker: fetch https:\/\/cdn\.jsdelivr\.net/);
  });

  it('reads total, date and NIP of a Polish receipt without a QR; the moderator decides', async () => {
    await w.campaign({ autoApprove: true, pointsPerUnit: 1, maxPointsPerReceipt: 500, minTotal: 20, allowedSellers: ['5260250274'] });
    const moderator = await w.participant({ role: 'moderator', locale: 'pl', name: 'Ewa' });
    const ala = await w.participant({ locale: 'pl', name: 'Ala' });
    const id = await w.submit(ala, await printedReceipt(PL_PARAGON));
    const r = (await w.receipts.get(w.db.sql, id))!;
    expect(r).toMatchObject({
      status: 'pending',
      reading: 'ocr',
      totalMinor: 4785,
      currency: 'PLN',
      issuedOn: '2026-09-18',
      sellerTaxId: '5260250274',
      computedPoints: 47,
      flags: ['no_qr'],
    });
    expect(r.fields).toMatchObject({ source: 'ocr', ocr: 'total,date,seller' });
    expect(r.confidence).toBeLessThan(0.95);
    expect((await w.ledger.balance(w.db.sql, w.programId, ala)).available).toBe(0);
    const [card] = await w.outbox(moderator);
    expect(card!.message.text).toContain('odczytane z tekstu (OCR)');
    expect(card!.message.text).toContain('5260250274');

    // The language data came from node_modules through the prepared directory; nothing was
    // cached into the working directory (tesseract.js's default cache writes *.traineddata there).
    expect((await readdir(path.join(dataDir, 'ocr', 'lang'))).sort()).toEqual(
      ['bel', 'eng', 'pol', 'por'].map((l) => `${l}.traineddata.gz`),
    );
    expect(await readdir(process.cwd())).toEqual(cwdBefore);
  });
});
