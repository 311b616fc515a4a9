#!/usr/bin/env node
// The two commands of a fresh clone: `npm start` (the main job) and `npm test` (every test).
// Both install what is missing first, so a clone needs nothing else. Plain Node, no dependencies:
// this runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PNPM_VERSION = '10.34.9';
const env = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NX_SKIP_NX_CACHE: process.env.NX_SKIP_NX_CACHE ?? '',
  COREPACK_ENABLE_DOWNLOAD_PROMPT: '0',
};
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

// nx runs package scripts through pnpm; where pnpm is not on PATH (a fresh machine with only
// Node), put a shim there that runs the pinned pnpm through corepack.
function ensurePnpmOnPath() {
  if (onPath('pnpm')) return;
  // Not under node_modules/: nx's run-script drops PATH entries there.
  const dir = path.join(root, '.tat', 'bin');
  mkdirSync(dir, { recursive: true });
  const shim = path.join(dir, 'pnpm');
  writeFileSync(shim, `#!/bin/sh\nexec corepack pnpm "$@"\n`);
  chmodSync(shim, 0o755);
  env.PATH = `${dir}${path.delimiter}${env.PATH ?? ''}`;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...opts });
  if (r.error) return { status: 127, error: r.error };
  return r;
}

function step(title) {
  console.log(`\n> ${title}`);
}

function installIsCurrent() {
  const lock = path.join(root, 'pnpm-lock.yaml');
  const installed = path.join(root, 'node_modules', '.pnpm', 'lock.yaml');
  if (!existsSync(installed) || !existsSync(lock)) return false;
  // pnpm keeps a copy of the lockfile it installed; the same content means nothing is missing.
  return readFileSync(lock, 'utf8') === readFileSync(installed, 'utf8');
}

function ensureInstall() {
  if (installIsCurrent()) return;
  step('installing dependencies (pnpm install --frozen-lockfile)');
  const attempts = [
    ['corepack', ['pnpm', 'install', '--frozen-lockfile']],
    ['npx', ['-y', `pnpm@${PNPM_VERSION}`, 'install', '--frozen-lockfile']],
  ];
  for (const [cmd, args] of attempts) {
    const r = run(cmd, args);
    if (r.status === 0) return;
    console.error(`'${cmd} ${args.join(' ')}' failed (exit ${r.status}); trying the next way`);
  }
  console.error('Could not install dependencies. Install pnpm 10 (corepack enable) and run `pnpm install`.');
  process.exit(1);
}

function build(projects) {
  ensurePnpmOnPath();
  step(projects ? `building ${projects.join(', ')} and what they depend on` : 'building every package');
  const args = projects
    ? ['run-many', '-t', 'build', '-p', ...projects, '--outputStyle=static']
    : ['run-many', '-t', 'build', '--outputStyle=static'];
  const r = run(bin('nx'), args);
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function summarise(resultsFile) {
  if (!existsSync(resultsFile)) return null;
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
  // A test file that fails to load has no failed test in it; count it as one failure.
  const brokenFiles = (r.testResults ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  return {
    passed: r.numPassedTests ?? 0,
    failed: (r.numFailedTests ?? 0) + brokenFiles,
    skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
    files: Array.isArray(r.testResults) ? r.testResults.length : 0,
  };
}

const command = process.argv[2];
const rest = process.argv.slice(3);

if (command === 'start') {
  ensureInstall();
  build(['@task-agnostic/trainer']);
  step(`trainer main ${rest.join(' ')}`.trim());
  const r = run(process.execPath, [path.join(root, 'apps/trainer/dist/cli.js'), 'main', ...rest]);
  process.exit(r.status ?? 1);
} else if (command === 'test') {
  const started = Date.now();
  ensureInstall();
  build();
  step('linting (biome: errors fail, warnings are shown)');
  const lint = run(bin('biome'), ['lint', '--diagnostic-level=error']);
  step('type-checking every package (sources and tests)');
  const tc = run(bin('nx'), ['run-many', '-t', 'typecheck', '--outputStyle=static']);
  step('running every test');
  const resultsFile = path.join(root, '.vitest-results.json');
  // The data-parallel tests run their own worker threads: they run alone, after the rest, so two
  // vitest forks on 2 cores do not starve the threads they synchronise with.
  const alone = 'packages/training/src/data-parallel.test.ts';
  const vt1 = run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, '--exclude', alone, '--exclude', '**/node_modules/**', '--exclude', '**/dist/**', ...rest]);
  const s1 = summarise(resultsFile);
  const vt2 = rest.length ? { status: 0 } : run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, alone]);
  const s2 = rest.length ? null : summarise(resultsFile);
  const vt = { status: vt1.status !== 0 ? vt1.status : vt2.status };
  const s = s1 && (rest.length || s2) ? { passed: s1.passed + (s2?.passed ?? 0), failed: s1.failed + (s2?.failed ?? 0), skipped: s1.skipped + (s2?.skipped ?? 0), files: s1.files + (s2?.files ?? 0) } : null;
  // What users install: pack every package, publint --strict, attw, and run examples/ from the tarballs.
  step('checking the packed packages (publint, attw) and the examples');
  const pk = run(process.execPath, [path.join(root, 'tools/scripts/check-packages.mjs')]);
  const packagesFailed = (pk.status !== 0 ? 1 : 0) + (lint.status !== 0 ? 1 : 0);
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  console.log('');
  if (tc.status !== 0) console.log('typecheck: FAILED (see above)');
  if (lint.status !== 0) console.log('lint: FAILED (see above)');
  if (pk.status !== 0) console.log('packages: FAILED (see above)');
  if (s) {
    console.log(`${s.files} test files, ${minutes} min in all`);
    console.log(`tests: ${s.passed} passed, ${s.failed + (tc.status !== 0 ? 1 : 0) + packagesFailed} failed, ${s.skipped} skipped`);
  } else {
    console.log('tests: 0 passed, 1 failed (the test runner wrote no results)');
  }
  process.exit(vt.status !== 0 || tc.status !== 0 || packagesFailed ? 1 : 0);
} else {
  console.error('usage: node tools/scripts/run.mjs start|test [args]');
  process.exit(2);
}
