import { loadOrCreateSecretFile } from '../../shared/secret-file.js';

/**
 * The key that signs receipt image URLs: 32 random bytes created once under
 * `DATA_DIR/secrets/media-secret` (mode 600). Losing it only invalidates links already handed out.
 */
export async function loadMediaSecret(dataDir: string): Promise<Buffer> {
  return loadOrCreateSecretFile(dataDir, 'media-secret');
}
