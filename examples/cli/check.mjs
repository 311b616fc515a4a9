// The installed commands, run through their node_modules/.bin links as npx would.
import { spawnSync } from 'node:child_process';

function run(cmd, args) {
  const r = spawnSync(`node_modules/.bin/${cmd}`, args, { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}
const checks = [
  ['trader', ['--version'], 0, /^trader \d+\.\d+\.\d+/],
  ['trainer', ['--version'], 0, /^trainer \d+\.\d+\.\d+/],
  ['trader', ['--help'], 0, /paper/],
  ['trainer', ['--help'], 0, /train/],
  ['trader', ['bogus'], 2, /bogus/],
  ['trainer', ['bogus'], 2, /bogus/],
];
let bad = 0;
for (const [cmd, args, code, pattern] of checks) {
  const r = run(cmd, args);
  const ok = r.code === code && pattern.test(r.out);
  if (!ok) bad++;
  console.log(`${ok ? 'ok ' : 'BAD'} ${cmd} ${args.join(' ')} -> exit ${r.code}${ok ? '' : `\n${r.out}`}`);
}
process.exit(bad ? 1 : 0);
