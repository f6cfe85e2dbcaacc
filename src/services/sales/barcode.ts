import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { prepareZXingModule, readBarcodes, type ReaderOptions } from 'zxing-wasm/reader';
import { isValidGtin } from '../../domain/sales/sales.js';

/**
 * Product barcodes (EAN-13/8, UPC-A/E) from a phone photo, decoded offline: zxing-wasm's binary
 * is read from node_modules, never fetched from its default CDN (notes/receipts.md §5).
 */
export type BarcodeReader = (image: Buffer) => Promise<string[]>;

let prepared: Promise<unknown> | undefined;
const prepareOnce = () =>
  (prepared ??= (async () => {
    const require = createRequire(import.meta.url);
    const bin = readFileSync(require.resolve('zxing-wasm/reader/zxing_reader.wasm'));
    return prepareZXingModule({
      overrides: { wasmBinary: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer },
      fireImmediately: true,
    });
  })());

const OPTIONS: ReaderOptions = {
  formats: ['EAN-13', 'EAN-8', 'UPC-A', 'UPC-E'],
  tryHarder: true,
  tryRotate: true,
  tryDownscale: true,
  maxNumberOfSymbols: 4,
};

export function createBarcodeReader(): BarcodeReader {
  return async (image) => {
    await prepareOnce();
    for (const width of [1600, 900]) {
      const png = await sharp(image, { failOn: 'none' })
        .rotate()
        .resize({ width, height: width, fit: 'inside', withoutEnlargement: true })
        .greyscale()
        .normalise()
        .png({ compressionLevel: 1 })
        .toBuffer();
      const found = (await readBarcodes(new Uint8Array(png), OPTIONS))
        .filter((r) => r.isValid && isValidGtin(r.text))
        .map((r) => r.text);
      if (found.length) return [...new Set(found)];
    }
    return [];
  };
}
