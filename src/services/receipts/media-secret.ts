import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The key that signs receipt image URLs: 32 random bytes created once under
 * `DATA_DIR/secrets/media-secret` (mode 600). Losing it only invalidates links already handed out.
 */
export async function loadMediaSecret(dataDir: string): Promise<Buffer> {
  const dir = path.join(dataDir, 'secrets');
  const file = path.join(dir, 'media-secret');
  try {
    const existing = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    if (existing.length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  try {
    // 'wx': of two processes starting at once, the second reads the first one's key.
    await writeFile(file, `${secret.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadMediaSecret(dataDir);
    throw error;
  }
}
