// Runs every benchmark in src/ (files named *.bench.ts) one after another, each in its own
// process so that one benchmark's warm JIT or memory does not colour the next.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(path.join(here, 'src'))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.log('no benchmarks matched', only.join(' '));
  process.exit(0);
}
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'src', f)], { stdio: 'inherit', cwd: here });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
