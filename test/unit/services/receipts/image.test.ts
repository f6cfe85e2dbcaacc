import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { bestReading } from '../../../../src/domain/receipts/index.js';
import { checkImage, createQrDecoder, differenceHash, hammingDistance } from '../../../../src/services/receipts/index.js';
import { BR_QR, PL_QR, PT_QR, PT_QR_DENSE, photoWithoutQr, receiptPhoto } from '../../../fixtures/receipts/images.js';

const decoder = createQrDecoder();

// zxing-wasm fetches its wasm from a CDN unless told otherwise: with the network "gone", decoding
// still has to work, from the bytes in node_modules.
const realFetch = globalThis.fetch;
const fetched: string[] = [];
beforeAll(() => {
  globalThis.fetch = (async (input: unknown) => {
    fetched.push(String(input));
    throw new Error('no network in this test');
  }) as typeof fetch;
});
afterAll(() => {
  globalThis.fetch = realFetch;
  expect(fetched).toEqual([]);
});

describe('QR decoding from photos (zxing-wasm, offline)', () => {
  it.each([
    ['PT', PT_QR],
    ['BR', BR_QR],
    ['PL KSeF', PL_QR],
  ])('reads the %s code from a clean photo and parses it', async (_c, text) => {
    const texts = await decoder.decode(await receiptPhoto(text));
    expect(texts).toEqual([text]);
    expect(bestReading(texts)?.kind).toBe('fiscal');
  });

  const degradations = [
    ['tilted 12°', { rotate: 12 }],
    ['upside down', { rotate: 180 }],
    ['scaled down to 450 px', { width: 450 }],
    ['blurred', { blur: 2 }],
    ['tilted, small, blurred and compressed', { rotate: 7, width: 700, blur: 1.2, quality: 55 }],
  ] as const;
  const codes = [
    ['dense PT', PT_QR_DENSE],
    ['BR', BR_QR],
    ['PL KSeF', PL_QR],
  ] as const;
  it.each(codes.flatMap(([name, text]) => degradations.map(([what, options]) => [name, what, text, options] as const)))(
    'still reads the %s code when %s',
    async (_name, _what, text, options) => {
      const texts = await decoder.decode(await receiptPhoto(text, options));
      expect(texts).toEqual([text]);
    },
  );

  it('honours the EXIF orientation of a phone photo', async () => {
    const upright = await receiptPhoto(PL_QR);
    // Pixels stored rotated, with an EXIF tag saying how to turn them back.
    const rotatedPixels = await sharp(upright).rotate(90).withMetadata({ orientation: 8 }).jpeg().toBuffer();
    expect(await decoder.decode(rotatedPixels)).toEqual([PL_QR]);
  });

  it('finds nothing on a slip without a code', async () => {
    expect(await decoder.decode(await photoWithoutQr())).toEqual([]);
  });
});

describe('image checks', () => {
  it('accepts a phone photo and reports its size', async () => {
    const check = await checkImage(await receiptPhoto(PT_QR));
    expect(check).toMatchObject({ ok: true, mimeType: 'image/jpeg', width: 1000, height: 1500 });
  });

  it('refuses text, truncated files, huge, tiny and too-many-pixel images', async () => {
    expect(await checkImage(Buffer.from('%PDF-1.7 not a photo'))).toEqual({ ok: false, reason: 'not_an_image' });
    const photo = await receiptPhoto(PT_QR);
    expect(await checkImage(photo.subarray(0, Math.floor(photo.length / 2)))).toEqual({ ok: false, reason: 'corrupt' });
    expect(await checkImage(photo, { maxBytes: 1000, maxPixels: 1e9, minSide: 1 })).toEqual({ ok: false, reason: 'too_large' });
    expect(await checkImage(photo, { maxBytes: 1e9, maxPixels: 1_000_000, minSide: 1 })).toEqual({ ok: false, reason: 'too_many_pixels' });
    const tiny = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#fff' } }).png().toBuffer();
    expect(await checkImage(tiny)).toEqual({ ok: false, reason: 'too_small' });
  });
});

describe('difference hash', () => {
  it('sees the same photo re-compressed and rescaled as near-identical, and different slips as different', async () => {
    const a = await receiptPhoto(PT_QR, { seed: 1 });
    const again = await sharp(a).resize({ width: 600 }).jpeg({ quality: 60 }).toBuffer();
    const other = await receiptPhoto(BR_QR, { seed: 9, paper: '#e9e4d0' });
    const [ha, hAgain, hOther] = await Promise.all([differenceHash(a), differenceHash(again), differenceHash(other)]);
    expect(ha).toMatch(/^[01]{64}$/);
    expect(hammingDistance(ha, hAgain)).toBeLessThanOrEqual(4);
    expect(hammingDistance(ha, hOther)).toBeGreaterThan(4);
  });
});
