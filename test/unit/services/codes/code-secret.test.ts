import { describe, expect, it } from 'vitest';
import { mkdtemp, stat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCodeHasher, loadCodeSecret } from '../../../../src/services/codes/code-secret.js';

describe('code secret', () => {
  it('is generated once under DATA_DIR/secrets with mode 600 and reused', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'punkto-secret-'));
    const a = await loadCodeSecret({ dataDir: dir });
    const b = await loadCodeSecret({ dataDir: dir });
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(b.equals(a)).toBe(true);
    const file = path.join(dir, 'secrets', 'code-secret');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(a.toString('base64'));
  });

  it('prefers CODE_SECRET, and a different secret gives different hashes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'punkto-secret-'));
    const configured = await loadCodeSecret({ configured: 'x'.repeat(40), dataDir: dir });
    const generated = await loadCodeSecret({ dataDir: dir });
    expect(createCodeHasher(configured)('K7QM3XW9T').equals(createCodeHasher(generated)('K7QM3XW9T'))).toBe(false);
    expect(createCodeHasher(configured)('K7QM3XW9T').equals(createCodeHasher(configured)('K7QM3XW9T'))).toBe(true);
  });
});
