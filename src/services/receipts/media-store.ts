import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Where photos live. Keys are content-addressed (`receipts/ab/<sha256>.<ext>`), so storing the same
 * bytes twice is harmless and a rolled-back intake leaves at most a file that a later identical
 * upload reuses. Object storage (S3 and alike) can implement the same four methods.
 */
export interface MediaStore {
  put(key: string, bytes: Buffer): Promise<void>;
  /** null when the key is unknown. */
  get(key: string): Promise<Buffer | null>;
  exists(key: string): Promise<boolean>;
  /** Removes the object; removing an unknown key is not an error. */
  delete(key: string): Promise<void>;
}

export const receiptMediaKey = (sha256: string, ext: string): string => `receipts/${sha256.slice(0, 2)}/${sha256}.${ext}`;

const SAFE_KEY = /^[a-z0-9]+(\/[a-z0-9]+)*\/[a-f0-9]{64}\.[a-z0-9]{2,5}$/;

/** A directory, by default `DATA_DIR/media`. */
export function createDirectoryMediaStore(root: string): MediaStore {
  const resolve = (key: string) => {
    // Keys come from our own code, but a key that could escape the directory is refused anyway.
    if (!SAFE_KEY.test(key)) throw new Error(`Invalid media key ${key}`);
    return path.join(root, key);
  };
  return {
    async put(key, bytes) {
      const file = resolve(key);
      await mkdir(path.dirname(file), { recursive: true });
      // Write then rename: a reader never sees half a file, even if the process dies mid-write.
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, file);
    },
    async get(key) {
      try {
        return await readFile(resolve(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async delete(key) {
      await rm(resolve(key), { force: true });
    },
    async exists(key) {
      return access(resolve(key)).then(
        () => true,
        () => false,
      );
    },
  };
}
