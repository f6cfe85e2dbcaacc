import { afterAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkClusterFree, checkPostgresUserCanReach, closedAncestor, EmbeddedPostgresPreflightError } from '../../src/db/embedded-preflight.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('embedded Postgres preflight', () => {
  it('as root in a private (0700) home: stops at once saying what to do', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'punkto-home-'));
    dirs.push(home);
    await mkdir(path.join(home, 'punkto', 'node_modules'), { recursive: true });
    await chmod(home, 0o700);
    expect(await closedAncestor(path.join(home, 'punkto', 'node_modules'))).toBe(home);
    const attempt = checkPostgresUserCanReach([path.join(home, 'punkto', 'node_modules'), path.join(home, 'punkto', '.data')], true);
    await expect(attempt).rejects.toBeInstanceOf(EmbeddedPostgresPreflightError);
    await expect(attempt).rejects.toThrow(/cannot enter .*punkto-home-.*\/opt\/punkto.*chmod o\+x.*DATABASE_URL/s);
    await chmod(home, 0o711);
    await expect(checkPostgresUserCanReach([path.join(home, 'punkto', 'node_modules')], true)).resolves.toBeUndefined();
    // Not root: Postgres runs as this user, who can reach its own folders.
    await chmod(home, 0o700);
    await expect(checkPostgresUserCanReach([path.join(home, 'punkto')], false)).resolves.toBeUndefined();
  });

  it('a DATA_DIR another instance runs says which process holds it; a stale pid file does not stop the start', async () => {
    const data = await mkdtemp(path.join(tmpdir(), 'punkto-busy-'));
    dirs.push(data);
    const cluster = path.join(data, 'postgres');
    await mkdir(cluster);
    // A stand-in "postgres" whose parent is this test process.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(path.join(cluster, 'postmaster.pid'), `${child.pid}\n${cluster}\n`);
      const refused = checkClusterFree(cluster);
      await expect(refused).rejects.toThrow(new RegExp(`in use: its Postgres \\(pid ${child.pid}\\) was started by process ${process.pid}`));
      await expect(refused).rejects.toThrow(/Stop that instance first/);
    } finally {
      child.kill();
    }
    await new Promise((r) => child.on('exit', r));
    await expect(checkClusterFree(cluster)).resolves.toBeUndefined();
  });
});
