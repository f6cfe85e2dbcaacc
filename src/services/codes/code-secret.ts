import { createHmac } from 'node:crypto';
import { loadOrCreateSecretFile } from '../../shared/secret-file.js';

/**
 * The HMAC key for codes: CODE_SECRET when set, else 32 random bytes created once under
 * `DATA_DIR/secrets/code-secret` (mode 600). It never goes into the database, so a dump alone
 * cannot be turned back into redeemable codes. Losing the file makes every issued code unknown:
 * back it up with the data directory.
 */
export async function loadCodeSecret(options: { configured?: string; dataDir: string }): Promise<Buffer> {
  if (options.configured) return Buffer.from(options.configured, 'utf8');
  return loadOrCreateSecretFile(options.dataDir, 'code-secret', (text, file) => {
    const existing = Buffer.from(text, 'base64');
    if (existing.length < 32) throw new Error(`${file} holds fewer than 32 bytes; restore it or set CODE_SECRET`);
    return existing;
  });
}

export type CodeHasher = (canonical: string) => Buffer;

export const createCodeHasher =
  (secret: Buffer): CodeHasher =>
  (canonical) =>
    createHmac('sha256', secret).update(canonical).digest();
