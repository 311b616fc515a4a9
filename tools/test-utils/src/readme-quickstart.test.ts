// Every package README opens with a quick start that a new user can paste: at most 10 lines of
// TypeScript besides its imports, on the built-in synthetic market (no repository paths, no data files, no network).
// This test extracts each README's `## Quick start` code block, runs it with tsx from a temp
// project whose node_modules links the built packages (what `npm install` gives: their dist/ through
// the exports map), and compares what it prints with the ```text block that follows it in the README.
// Needs the packages built (`pnpm build`; `npm test` builds first); skips with a reason otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAX_LINES = 10;

interface QuickStart {
  code: string;
  lang: string;
  output: string | null;
}

/** The `## Quick start` section's first code block, and the ```text block after it (the expected output). */
export function extractQuickStart(readme: string): QuickStart | null {
  const section = readme.match(/^## Quick start[^\n]*\n([\s\S]*?)(?=^## |(?![\s\S]))/m)?.[1];
  if (!section) return null;
  const blocks = [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)];
  const code = blocks.find((b) => b[1] === 'ts' || b[1] === 'js');
  if (!code) return null;
  const after = blocks.slice(blocks.indexOf(code) + 1).find((b) => b[1] === 'text');
  return { code: code[2]!, lang: code[1]!, output: after ? after[2]!.trimEnd() : null };
}

const packages = readdirSync(path.join(root, 'packages'))
  .filter((n) => existsSync(path.join(root, 'packages', n, 'package.json')))
  .sort();
const unbuilt = packages.filter((n) => !existsSync(path.join(root, 'packages', n, 'dist', 'index.js')));
if (unbuilt.length) console.warn(`[skip] README quick starts: not built: ${unbuilt.join(', ')} (run pnpm build; npm test builds first)`);

describe('README quick starts: present and short', () => {
  it.each(packages)('%s', (name) => {
    const readme = readFileSync(path.join(root, 'packages', name, 'README.md'), 'utf8');
    const qs = extractQuickStart(readme);
    expect(qs, `packages/${name}/README.md has no "## Quick start" section with a ts code block`).not.toBeNull();
    const lines = qs!.code.split('\n').filter((l) => l.trim() !== '' && !/^import\s/.test(l));
    expect(lines.length, `packages/${name}: the quick start has ${lines.length} lines besides its imports`).toBeLessThanOrEqual(MAX_LINES);
    // A user has no repository: no paths into it, no shared data.
    expect(qs!.code).not.toMatch(/\.\.\/|shared\/|TAT_DATA_DIR|packages\/|apps\//);
    expect(qs!.output, `packages/${name}: the quick start's output (a \`\`\`text block after the code) is missing`).not.toBeNull();
  });
});

describe.skipIf(unbuilt.length > 0)('README quick starts run against the built packages', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'tat-quickstart-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const scope = path.join(work, 'node_modules', '@task-agnostic');
  mkdirSync(scope, { recursive: true });
  for (const name of packages) symlinkSync(path.join(root, 'packages', name), path.join(scope, name), 'dir');
  writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'quickstart', private: true, type: 'module' }));

  it.each(packages)('%s', (name) => {
    const qs = extractQuickStart(readFileSync(path.join(root, 'packages', name, 'README.md'), 'utf8'));
    if (!qs) throw new Error(`packages/${name}/README.md has no quick start`);
    const file = path.join(work, `${name}.${qs.lang === 'ts' ? 'mts' : 'mjs'}`);
    writeFileSync(file, qs.code);
    const r = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), [file], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, TAT_QUIET_BACKEND: '1' },
    });
    expect(r.status, `packages/${name} quick start failed:\n${r.stdout}${r.stderr}`).toBe(0);
    if (qs.output !== null) expect(r.stdout.trimEnd()).toBe(qs.output);
  }, 120_000);
});
