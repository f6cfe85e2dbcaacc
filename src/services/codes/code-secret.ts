import { randomBytes, createHmac } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';

/**
 * The HMAC key for codes: CODE_SECRET when set, else 32 random bytes created once under
 * `DATA_DIR/secrets/code-secret` (mode 600). It never goes into the database, so a dump alone
 * cannot be turned back into redeemable codes. Losing the file makes every issued code unknown:
 * back it up with the data directory.
 */
export async function loadCodeSecret(options: { configured?: string; dataDir: string }): Promise<Buffer> {
  if (options.configured) return Buffer.from(options.configured, 'utf8');
  const dir = path.join(options.dataDir, 'secrets');
  const file = path.join(dir, 'code-secret');
  try {
    const existing = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    if (existing.length >= 32) return existing;
    throw new Error(`${file} holds fewer than 32 bytes; restore it or set CODE_SECRET`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  // 'wx': two processes starting at once must not both write; the loser reads the winner's file.
  try {
    await writeFile(file, `${secret.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadCodeSecret(options);
    throw error;
  }
}

export type CodeHasher = (canonical: string) => Buffer;

export const createCodeHasher =
  (secret: Buffer): CodeHasher =>
  (canonical) =>
    createHmac('sha256', secret).update(canonical).digest();
