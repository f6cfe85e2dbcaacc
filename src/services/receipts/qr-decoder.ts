import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { prepareZXingModule, readBarcodes, type ReaderOptions } from 'zxing-wasm/reader';

/**
 * Offline QR decoding: zxing-wasm with its wasm binary read from node_modules. By default the
 * package fetches the binary from a CDN, even in Node, and aborts offline (notes/receipts.md §5),
 * so the module is prepared with the local bytes before the first read.
 */
export interface QrDecoder {
  /** Every QR text found in the photo (several when a receipt carries a shop link too); [] if none. */
  decode(image: Buffer): Promise<string[]>;
}

let prepared: Promise<unknown> | undefined;

function prepareOnce(): Promise<unknown> {
  prepared ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmBinary = readFileSync(require.resolve('zxing-wasm/reader/zxing_reader.wasm'));
    return prepareZXingModule({
      overrides: { wasmBinary: wasmBinary.buffer.slice(wasmBinary.byteOffset, wasmBinary.byteOffset + wasmBinary.byteLength) as ArrayBuffer },
      fireImmediately: true,
    });
  })();
  return prepared;
}

const OPTIONS: ReaderOptions = {
  formats: ['QRCode'],
  tryHarder: true,
  tryRotate: true,
  tryInvert: true,
  tryDownscale: true,
  maxNumberOfSymbols: 4,
};

/**
 * Each try is a cheap sharp pipeline; the first one that finds a code wins. Phone photos are
 * large, tilted, unevenly lit and sometimes soft, so after the plain (EXIF-rotated, downscaled)
 * image come a normalised greyscale, a sharpened one, a smaller one (zxing finds big blurry
 * modules more easily), and a hard threshold.
 */
const TRIES: Array<(img: Sharp) => Sharp> = [
  (img) => img.resize({ width: 2000, height: 2000, fit: 'inside', withoutEnlargement: true }),
  (img) => img.resize({ width: 2000, height: 2000, fit: 'inside', withoutEnlargement: true }).greyscale().normalise(),
  (img) => img.resize({ width: 1600, height: 1600, fit: 'inside', withoutEnlargement: true }).greyscale().sharpen({ sigma: 2 }).normalise(),
  (img) => img.resize({ width: 900, height: 900, fit: 'inside', withoutEnlargement: true }).greyscale().normalise(),
  (img) => img.resize({ width: 1600, height: 1600, fit: 'inside', withoutEnlargement: true }).greyscale().normalise().threshold(128),
  // Small codes in big photos: enlarge so each module spans several pixels.
  (img) => img.resize({ width: 2400, height: 2400, fit: 'inside' }).greyscale().normalise().sharpen(),
];

export function createQrDecoder(options: { maxTries?: number } = {}): QrDecoder {
  const tries = TRIES.slice(0, options.maxTries ?? TRIES.length);
  return {
    async decode(image) {
      await prepareOnce();
      for (const pipeline of tries) {
        const png = await pipeline(sharp(image, { failOn: 'none' }).rotate()).png({ compressionLevel: 1 }).toBuffer();
        const results = await readBarcodes(new Uint8Array(png), OPTIONS);
        const texts = [...new Set(results.filter((r) => r.isValid && r.text).map((r) => r.text))];
        if (texts.length > 0) return texts;
      }
      return [];
    },
  };
}
