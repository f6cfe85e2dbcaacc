import { spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm run demo` as a newcomer runs it: embedded Postgres, a printed admin token that works for that
 * run only (the next run's replaces it), and a clean stop on SIGTERM (exit 0, cluster stopped).
 */
describe('npm run demo', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('prints a fresh admin token per run, retires the previous one, and stops cleanly', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'punkto-demo-'));
    dirs.push(dataDir);
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', NODE_ENV: 'production' };

    const run = async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`demo not up within 90 s:\n${out}`)), 90_000);
        child.stdout.on('data', () => {
          if (out.includes('Ctrl+C stops the service.')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('exit', (code) => reject(new Error(`exited ${code} before start:\n${out}`)));
      });
      const m = /Bearer (\S+)' (http:\/\/\S+)\/api\/v1\/campaigns/.exec(out);
      if (!m) throw new Error(`no admin token printed:\n${out}`);
      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { token: m[1]!, url: m[2]!, stop: async () => (child.kill('SIGTERM'), exit) };
    };
    const campaigns = (url: string, token: string) => fetch(`${url}/api/v1/campaigns`, { headers: { authorization: `Bearer ${token}` } });

    const first = await run();
    expect(first.token).not.toBe('punkto-demo-admin-token');
    expect((await campaigns(first.url, first.token)).status).toBe(200);
    expect(await first.stop()).toBe(0);

    const second = await run();
    expect(second.token).not.toBe(first.token);
    expect((await campaigns(second.url, second.token)).status).toBe(200);
    expect((await campaigns(second.url, first.token)).status).toBe(401);
    expect(await second.stop()).toBe(0);
    await expect(access(path.join(dataDir, 'postgres', 'postmaster.pid'))).rejects.toThrow();
  }, 240_000);
});
