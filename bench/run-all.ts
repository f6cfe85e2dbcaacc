/**
 * `npm run bench`: runs every benchmark one after another (they would skew each other if run
 * together) and passes their JSON result lines through. Each benchmark measures its own reference
 * (pgbench, or the fake server's limit) in the same run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const benches = ['bench/ledger.ts', 'bench/redeem.ts', 'bench/broadcast.ts'].filter((f) => existsSync(f));
let failed = 0;
for (const file of benches) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`${file} exited with ${r.status}\n`);
  }
}
process.exit(failed ? 1 : 0);
