import { mkdir, readdir, rename, symlink } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { createWorker, OEM, type Worker } from 'tesseract.js';
import type { Locale } from '../../i18n/index.js';
import type { Logger } from '../../shared/logger.js';

/**
 * Optional OCR of receipt photos (RECEIPT_OCR=on), fully offline: tesseract.js's core wasm comes
 * from node_modules, and the language data from the `@tesseract.js-data/*` npm packages, linked
 * into one directory at start-up because a multi-language worker reads every language from a
 * single `langPath` (notes/receipts.md §5, §7). Without a `langPath` tesseract.js would download
 * from a CDN; with the default cache it would write models into the working directory.
 */
export interface ReceiptOcr {
  /** Links the language data into DATA_DIR/ocr/lang; run at start so a missing package fails loudly. */
  prepare(): Promise<void>;
  /** The recognised text of the photo, read with the languages of the participant's market. */
  read(image: Buffer, locale: Locale): Promise<string>;
  /** Terminates the workers (their wasm heaps are ~200 MB each). */
  close(): Promise<void>;
}

/**
 * Each chat language reads its market's receipts plus English (shop names, "TOTAL", card slips).
 * Belarusian receipts are mostly printed in Russian, but no `@tesseract.js-data/rus` package exists
 * on npm: `bel` shares most of the Cyrillic alphabet and reads ИТОГО, УНП and the digits; the
 * misreads it makes (ВУМ for BYN, 000 for ООО) are handled by the text extraction.
 */
export const OCR_LANGUAGES: Record<Locale, string> = { pl: 'pol+eng', 'pt-PT': 'por+eng', 'pt-BR': 'por+eng', be: 'bel+eng' };

const PACKAGES = ['pol', 'por', 'bel', 'eng'] as const;

export interface ReceiptOcrDeps {
  /** DATA_DIR: the language directory is prepared under `<dataDir>/ocr/lang`. */
  dataDir: string;
  logger?: Logger;
  /** Longest side the photo is scaled to before recognition. */
  maxSide?: number;
  /** Test hook: the worker-thread script (e.g. one that forbids network access first). */
  workerPath?: string;
}

/** Links `<lang>.traineddata.gz` of every package (LSTM `4.0.0_best_int` where present) into `dir`. */
export async function prepareLanguageDir(dir: string): Promise<string> {
  const require = createRequire(import.meta.url);
  await mkdir(dir, { recursive: true });
  for (const lang of PACKAGES) {
    const root = path.dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`));
    const files = new Set(await readdir(root));
    const source = path.join(root, files.has('4.0.0_best_int') ? '4.0.0_best_int' : '4.0.0', `${lang}.traineddata.gz`);
    const target = path.join(dir, `${lang}.traineddata.gz`);
    // Re-linked at every start (node_modules may have moved); link then rename, so two processes
    // sharing DATA_DIR never see a missing file.
    const temp = `${target}.${randomUUID()}`;
    await symlink(source, temp);
    await rename(temp, target);
  }
  return dir;
}

export function createTesseractOcr(deps: ReceiptOcrDeps): ReceiptOcr {
  const maxSide = deps.maxSide ?? 2000;
  let langDir: Promise<string> | undefined;
  const prepare = (): Promise<string> => (langDir ??= prepareLanguageDir(path.join(deps.dataDir, 'ocr', 'lang')));
  const workers = new Map<string, Promise<Worker>>();
  let closed = false;

  const workerFor = (languages: string): Promise<Worker> => {
    let worker = workers.get(languages);
    if (!worker) {
      worker = (async () => {
        const langPath = await prepare();
        const started = Date.now();
        let ready = false;
        let failStart: (err: unknown) => void = () => undefined;
        const startFailed = new Promise<never>((_, reject) => (failStart = reject));
        const w = await Promise.race([
          createWorker(languages, OEM.LSTM_ONLY, {
            langPath,
            gzip: true,
            cacheMethod: 'none',
            ...(deps.workerPath ? { workerPath: deps.workerPath } : {}),
            // Without a handler tesseract.js rethrows a worker failure where nobody can catch it; and
            // a failed language load never settles createWorker, so it fails the start here.
            errorHandler: (err: unknown) => {
              if (!ready) failStart(err);
              else deps.logger?.warn({ err, languages }, 'OCR worker error');
            },
          }),
          startFailed,
        ]);
        ready = true;
        deps.logger?.info({ languages, ms: Date.now() - started }, 'OCR worker ready');
        return w;
      })();
      // A failed start (missing language data) stays failed until a restart: retrying per receipt
      // would start a new worker thread each time. Receipts then simply go to moderators unread.
      worker.catch((err) => deps.logger?.error({ err, languages }, 'OCR worker could not start; OCR is off for these languages'));
      workers.set(languages, worker);
    }
    return worker;
  };

  return {
    async prepare() {
      await prepare();
    },
    async read(image, locale) {
      if (closed) throw new Error('OCR is shut down');
      // Greyscale, stretched contrast, ~2000 px: what tesseract reads best from phone photos.
      const png = await sharp(image, { failOn: 'none' })
        .rotate()
        .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
        .greyscale()
        .normalise()
        .png({ compressionLevel: 1 })
        .toBuffer();
      const worker = await workerFor(OCR_LANGUAGES[locale]);
      const { data } = await worker.recognize(png);
      return data.text;
    },
    async close() {
      closed = true;
      const all = [...workers.values()];
      workers.clear();
      await Promise.all(all.map((w) => w.then((x) => x.terminate()).catch(() => undefined)));
    },
  };
}
