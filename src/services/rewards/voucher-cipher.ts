import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { loadOrCreateSecretFile } from '../../shared/secret-file.js';

/**
 * E-voucher codes are worth money, so the pool is stored encrypted (AES-256-GCM): a database dump
 * alone hands out nothing. The key is VOUCHER_KEY when set (base64 or hex of 32 bytes), else 32
 * random bytes created once under `DATA_DIR/secrets/voucher-key` (mode 600). Losing the key makes
 * the unassigned codes unreadable: back it up with the data directory.
 */
export async function loadVoucherKey(options: { configured?: string; dataDir: string }): Promise<Buffer> {
  if (options.configured) return parseKey(options.configured);
  return loadOrCreateSecretFile(options.dataDir, 'voucher-key', parseKey);
}

function parseKey(value: string, where = 'VOUCHER_KEY'): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32) throw new Error(`${where} must hold 32 bytes (64 hex characters or 44 base64 characters)`);
  return key;
}

export interface VoucherCipher {
  /** iv (12) | tag (16) | ciphertext */
  encrypt(code: string): Buffer;
  decrypt(blob: Buffer): string;
  /** Keyed hash of a code, to refuse importing the same code twice without storing it in clear. */
  hash(code: string): Buffer;
}

export function createVoucherCipher(key: Buffer): VoucherCipher {
  if (key.length !== 32) throw new Error('The voucher key must be 32 bytes');
  const encKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'punkto voucher enc', 32));
  const macKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'punkto voucher mac', 32));
  return {
    encrypt(code) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      const data = Buffer.concat([cipher.update(code, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), data]);
    },
    decrypt(blob) {
      const decipher = createDecipheriv('aes-256-gcm', encKey, blob.subarray(0, 12));
      decipher.setAuthTag(blob.subarray(12, 28));
      return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]).toString('utf8');
    },
    hash: (code) => createHmac('sha256', macKey).update(code).digest(),
  };
}
