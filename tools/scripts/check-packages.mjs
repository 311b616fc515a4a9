#!/usr/bin/env node
// What the published packages look like to their users, checked the way TanStack and vercel/ai
// check theirs: every public package is packed (its prepack builds it if needed), linted with
// `publint --strict`, and its types resolved from CommonJS and ESM with `attw` (node16 and
// bundler resolution). Then the examples/ projects install the packed tarballs, outside the
// workspace, and run: import, require, a TypeScript CommonJS project, and the two CLIs; each install
// holds one zod (the packages' peer: 3.25.76 and 4.1.8, the lowest of each major of the range, and the newest 4).
//   node tools/scripts/check-packages.mjs [--no-examples | --examples-only] [--keep]
// Exits 1 on any problem; prints one line per check and a summary line.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = new Set(process.argv.slice(2));
const bin = (n) => path.join(root, 'node_modules', '.bin', n);
const pnpm = process.env.npm_execpath && /pnpm/.test(process.env.npm_execpath) ? process.env.npm_execpath : 'pnpm';

function sh(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, status: r.status };
}

const rootPkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const packages = [];
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(path.join(root, group)).sort()) {
    const dir = path.join(root, group, name);
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    if (!pkg.private) packages.push({ dir, pkg });
  }
}

const work = mkdtempSync(path.join(os.tmpdir(), 'tat-packages-'));
const packs = path.join(work, 'packs');
let failed = 0;
let passed = 0;
const report = (ok, what, detail = '') => {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n${detail.trim().split('\n').slice(-30).join('\n')}` : ''}`);
};

const tarballs = new Map();
for (const { dir, pkg } of packages) {
  const packed = sh(pnpm, ['pack', '--pack-destination', packs], { cwd: dir });
  const tgz = readdirSync(packs).find((f) => f.startsWith(pkg.name.replace('@', '').replace('/', '-') + '-'));
  if (!packed.ok || !tgz) {
    report(false, `${pkg.name}: pack`, packed.out);
    continue;
  }
  const tarball = path.join(packs, tgz);
  tarballs.set(pkg.name, tarball);
  const listing = sh('tar', ['tzf', tarball]).out;
  const missing = ['package/dist/index.js', 'package/dist/index.cjs', 'package/LICENSE', 'package/README.md'].filter((f) => !listing.includes(f));
  report(missing.length === 0, `${pkg.name}: tarball has code, types, README and LICENSE`, `missing: ${missing.join(', ')}`);
  if (args.has('--examples-only')) continue;
  const lint = sh(bin('publint'), ['--strict'], { cwd: dir });
  report(lint.ok && /All good/.test(lint.out), `${pkg.name}: publint --strict`, lint.out);
  const types = sh(bin('attw'), [tarball, '--profile', 'node16', '--format', 'ascii'], { cwd: dir });
  report(types.ok, `${pkg.name}: attw (node16 CJS + ESM, bundler)`, types.out);
}

if (!args.has('--no-examples')) {
  const exRoot = path.join(root, 'examples');
  for (const name of readdirSync(exRoot).sort()) {
    const src = path.join(exRoot, name);
    if (!existsSync(path.join(src, 'package.json'))) continue;
    const dst = path.join(work, 'examples', name);
    cpSync(src, dst, { recursive: true });
    const pkg = JSON.parse(readFileSync(path.join(dst, 'package.json'), 'utf8'));
    // Point every @task-agnostic dependency (and what it depends on) at the packed tarballs.
    const overrides = Object.fromEntries([...tarballs].map(([n, t]) => [n, `file:${t}`]));
    for (const dep of Object.keys(pkg.dependencies ?? {})) if (tarballs.has(dep)) pkg.dependencies[dep] = `file:${tarballs.get(dep)}`;
    pkg.pnpm = { ...(pkg.pnpm ?? {}), overrides, onlyBuiltDependencies: ['better-sqlite3'] };
    pkg.packageManager = rootPkg.packageManager; // the pinned pnpm, as in the repository
    writeFileSync(path.join(dst, 'package.json'), JSON.stringify(pkg, null, 2));
    const inst = sh(pnpm, ['install', '--ignore-workspace', '--config.auto-install-peers=false', '--reporter=silent'], { cwd: dst });
    if (!inst.ok) {
      report(false, `examples/${name}: install from the packed tarballs`, inst.out);
      continue;
    }
    // zod is the packages' peer: the whole install holds the one copy the project (or an app) brings.
    const pnpmDir = path.join(dst, 'node_modules', '.pnpm');
    const zods = existsSync(pnpmDir) ? readdirSync(pnpmDir).filter((d) => d.startsWith('zod@')) : [];
    report(zods.length === 1, `examples/${name}: one zod in the install (${zods.join(', ') || 'none'})`, `want exactly one zod@ folder in node_modules/.pnpm, found ${zods.length}`);
    const run = sh(pnpm, ['run', '--silent', 'example'], { cwd: dst, env: { ...process.env, TAT_QUIET_BACKEND: '1' } });
    report(run.ok, `examples/${name}: runs against the installed tarballs`, run.out);
    if (run.ok && process.env.TAT_VERBOSE_EXAMPLES === '1') console.log(run.out);
  }
}

if (!args.has('--keep')) rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work}`);
console.log(`packages: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
