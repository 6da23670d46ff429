/**
 * `pnpm bench`: every benchmark program in turn, each in its own process (so one's Redis and
 * timers cannot disturb the next). `--quick` runs each tiny, to prove they still run.
 */
import { spawnSync } from 'node:child_process';

const quick = process.argv.includes('--quick');
const programs = ['round-trip.ts', 'pool-lease.ts', 'lane-isolation.ts'];
let failed = 0;
for (const p of programs) {
  console.log(`\n== ${p}${quick ? ' --quick' : ''}`);
  const r = spawnSync(
    process.execPath,
    [new URL(p, import.meta.url).pathname, ...(quick ? ['--quick'] : [])],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) {
    failed++;
    console.error(`${p} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed ? 1 : 0);
