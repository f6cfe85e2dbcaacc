/**
 * Checks before the embedded Postgres starts, so a start that cannot work stops at once with a
 * message that says what to do, instead of `spawn …/initdb EACCES` and a 15-s hang, or a silent exit:
 * - as root, Postgres runs as the `postgres` user, who must be able to enter every folder above its
 *   binaries (node_modules) and its data (a 0700 home such as /root/punkto is not);
 * - a DATA_DIR whose cluster another instance is running says which process holds it.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export class EmbeddedPostgresPreflightError extends Error {
  override name = 'EmbeddedPostgresPreflightError';
}

/** The first folder on the way to `target` that other users cannot enter, if any. */
export async function closedAncestor(target: string): Promise<string | undefined> {
  let dir = path.resolve(target);
  const chain: string[] = [];
  for (;;) {
    chain.unshift(dir);
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  for (const d of chain) {
    const s = await stat(d).catch(() => undefined);
    if (!s) break; // not created yet: its parents decide
    if (s.isDirectory() && (s.mode & 0o001) === 0) return d;
  }
  return undefined;
}

export async function checkPostgresUserCanReach(paths: string[], isRoot = process.getuid?.() === 0): Promise<void> {
  if (!isRoot) return;
  for (const p of paths) {
    const closed = await closedAncestor(p);
    if (closed) {
      throw new EmbeddedPostgresPreflightError(
        `Embedded Postgres runs as the 'postgres' user when started as root, and that user cannot enter ${closed} ` +
          `(needed for ${p}). Either put Punkto in a folder other users can enter (e.g. /opt/punkto or /srv/punkto), ` +
          `or allow it with \`chmod o+x ${closed}\`, or run as a non-root user, or set DATABASE_URL to a Postgres of your own.`,
      );
    }
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const commandOf = async (pid: number) =>
  (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ').slice(0, 200);

/** Refuses a cluster another running instance holds, naming that instance. A stale pid file is fine. */
export async function checkClusterFree(databaseDir: string): Promise<void> {
  const pidFile = await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(pidFile?.split('\n')[0]);
  if (!pidFile || !Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const parent = Number(/^PPid:\s*(\d+)/m.exec(status)?.[1] ?? 0);
  const holder = parent > 1 ? `process ${parent} (${(await commandOf(parent)) || 'unknown'})` : 'an unknown process';
  throw new EmbeddedPostgresPreflightError(
    `DATA_DIR ${path.dirname(databaseDir)} is in use: its Postgres (pid ${pid}) was started by ${holder}. ` +
      `Stop that instance first (e.g. stop \`npm start\` before \`npm run demo\`), or give this one its own DATA_DIR.`,
  );
}
