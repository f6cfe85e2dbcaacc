import { spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The promise of the README: with no configuration at all, the service starts on an embedded
 * Postgres, answers /readyz, and exits 0 on SIGTERM. Runs the real entry point in a child process.
 */
describe('start on embedded defaults', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('comes up with embedded Postgres, is ready, keeps its data across restarts, and stops cleanly on SIGTERM', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'punkto-start-'));
    dirs.push(dataDir);
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', NODE_ENV: 'production' };

    const run = async () => {
      // Through `npm start`, as the README says: SIGTERM to npm must reach the service and end in exit 0.
      const child = spawn('npm', ['start', '--silent'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not up within 60 s:\n${out}`)), 60_000);
        child.stdout.on('data', () => {
          const m = /Punkto is up: (http:\/\/\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.on('exit', (code) => reject(new Error(`exited ${code} before start:\n${out}`)));
      });
      const ready = await fetch(`${url}/readyz`);
      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { url, ready, out: () => out, stop: async () => (child.kill('SIGTERM'), exit) };
    };

    const first = await run();
    expect(first.ready.status).toBe(200);
    expect(first.out()).toMatch(/admin token \(shown once/);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    expect(await first.stop()).toBe(0);

    // Second start: same cluster, no new token printed (the first one's hash is stored).
    const second = await run();
    expect(second.ready.status).toBe(200);
    expect(second.out()).not.toMatch(/admin token \(shown once/);
    expect(await second.stop()).toBe(0);
    // The embedded cluster was stopped too, not orphaned: Postgres removes its pid file on a clean stop.
    await expect(access(path.join(dataDir, 'postgres', 'postmaster.pid'))).rejects.toThrow();
  }, 150_000);
});
