/**
 * Downloads files participants send (receipt photos). getFile gives a path valid for at least an
 * hour; the bytes come from `${apiRoot}/file/bot<token>/<path>`, so TELEGRAM_API_ROOT (a local Bot
 * API server, or the fake in tests) is honoured for downloads too.
 */
import type { Api } from 'grammy';
import { TELEGRAM_DOWNLOAD_LIMIT_BYTES } from './to-inbound.js';

export class TelegramFileError extends Error {
  override readonly name = 'TelegramFileError';
  constructor(
    readonly reason: 'too_large' | 'no_path' | 'download_failed',
    message: string,
  ) {
    super(message);
  }
}

export interface TelegramFilesDeps {
  api: Api;
  token: string;
  apiRoot: string;
  maxBytes?: number;
  /** Abort a download that takes longer than this. */
  timeoutMs?: number;
}

export function createTelegramFiles(deps: TelegramFilesDeps): { loadFile(fileId: string): Promise<Buffer> } {
  const maxBytes = deps.maxBytes ?? TELEGRAM_DOWNLOAD_LIMIT_BYTES;
  return {
    async loadFile(fileId) {
      const file = await deps.api.getFile(fileId);
      if (file.file_size !== undefined && file.file_size > maxBytes) {
        throw new TelegramFileError('too_large', `file is ${file.file_size} bytes, over ${maxBytes}`);
      }
      if (!file.file_path) throw new TelegramFileError('no_path', 'getFile returned no file_path');
      const url = `${deps.apiRoot}/file/bot${deps.token}/${file.file_path}`;
      const response = await fetch(url, { signal: AbortSignal.timeout(deps.timeoutMs ?? 60_000) });
      if (!response.ok || !response.body) {
        throw new TelegramFileError('download_failed', `download answered ${response.status}`);
      }
      // Count while reading: a server that lies about the size must not fill the memory.
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        total += chunk.byteLength;
        if (total > maxBytes) throw new TelegramFileError('too_large', `download exceeded ${maxBytes} bytes`);
        chunks.push(Buffer.from(chunk));
      }
      return Buffer.concat(chunks);
    },
  };
}
