#!/usr/bin/env node
// `prepack` of every published package: never pack a package without its code. Copies the
// repository's LICENSE beside the package.json, then builds with tsup when dist/ is missing or
// older than any source file (a fresh `pnpm build` is reused, so packing all packages stays fast).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkgDir = process.cwd();
copyFileSync(path.join(root, 'LICENSE'), path.join(pkgDir, 'LICENSE'));

function newest(dir, skip = () => false) {
  let t = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (skip(p)) continue;
    t = Math.max(t, e.isDirectory() ? newest(p, skip) : statSync(p).mtimeMs);
  }
  return t;
}

const dist = path.join(pkgDir, 'dist');
const srcTime = Math.max(
  newest(path.join(pkgDir, 'src'), (p) => p.endsWith('.test.ts')),
  statSync(path.join(pkgDir, 'package.json')).mtimeMs,
);
if (!existsSync(path.join(dist, 'index.js')) || !existsSync(path.join(dist, 'index.cjs')) || newest(dist) < srcTime) {
  const local = path.join(pkgDir, 'node_modules', '.bin', 'tsup');
  const tsup = existsSync(local) ? local : path.join(root, 'node_modules', '.bin', 'tsup');
  const r = spawnSync(tsup, [], { cwd: pkgDir, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`prepack: the build of ${path.basename(pkgDir)} failed; nothing packed`);
    process.exit(r.status ?? 1);
  }
}
