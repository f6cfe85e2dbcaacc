import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A 32-byte secret kept in `<dataDir>/secrets/<name>` (base64, mode 600), created on first use.
 * Secrets live beside the data, never in the database, so a database dump alone reveals nothing
 * they protect. `parse` validates an existing file (and names it in its error).
 */
export async function loadOrCreateSecretFile(
  dataDir: string,
  name: string,
  parse: (text: string, file: string) => Buffer = (text) => Buffer.from(text, 'base64'),
): Promise<Buffer> {
  const dir = path.join(dataDir, 'secrets');
  const file = path.join(dir, name);
  try {
    return parse((await readFile(file, 'utf8')).trim(), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  try {
    // 'wx': of two processes starting at once, the second reads the first one's secret.
    await writeFile(file, `${secret.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateSecretFile(dataDir, name, parse);
    throw error;
  }
}
