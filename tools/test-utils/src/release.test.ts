import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const changesetBin = path.join(root, 'node_modules', '.bin', 'changeset');
const work = mkdtempSync(path.join(os.tmpdir(), 'tat-release-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the workspace's manifests and changeset config: what `changeset version` reads. */
function workspaceCopy(): string {
  const dir = path.join(work, `ws-${Math.random().toString(36).slice(2)}`);
  for (const f of ['package.json', 'pnpm-workspace.yaml']) cpSync(path.join(root, f), path.join(dir, f));
  cpSync(path.join(root, '.changeset', 'config.json'), path.join(dir, '.changeset', 'config.json'));
  for (const group of ['packages', 'apps', 'tools']) {
    for (const name of readdirSync(path.join(root, group))) {
      const manifest = path.join(root, group, name, 'package.json');
      if (existsSync(manifest)) cpSync(manifest, path.join(dir, group, name, 'package.json'));
    }
  }
  spawnSync('git', ['init', '-q'], { cwd: dir });
  return dir;
}

function versions(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(path.join(dir, group))) {
      const pkg = JSON.parse(readFileSync(path.join(dir, group, name, 'package.json'), 'utf8')) as { name: string; version: string; private?: boolean };
      if (!pkg.private) out[pkg.name] = pkg.version;
    }
  }
  return out;
}

function version(dir: string, changeset: string): void {
  writeFileSync(path.join(dir, '.changeset', 'release-test.md'), changeset);
  const r = spawnSync(changesetBin, ['version'], { cwd: dir, encoding: 'utf8' });
  expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
}

describe('independent releases (changesets with workspace:^ ranges)', () => {
  it('a patch to core bumps core alone', () => {
    const dir = workspaceCopy();
    const before = versions(dir);
    version(dir, `---\n'@task-agnostic/core': patch\n---\n\nfix one thing\n`);
    const after = versions(dir);
    const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
    expect(changed).toEqual(['@task-agnostic/core']);
    expect(readFileSync(path.join(dir, 'packages/core/CHANGELOG.md'), 'utf8')).toMatch(/fix one thing/);
  }, 60_000);

  it('a minor bump of a 0.x core moves out of ^0.1 and bumps its dependents (nothing published out of range)', () => {
    const dir = workspaceCopy();
    const before = versions(dir);
    version(dir, `---\n'@task-agnostic/core': minor\n---\n\nnew API\n`);
    const after = versions(dir);
    const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
    expect(changed).toContain('@task-agnostic/core');
    expect(changed).toContain('@task-agnostic/risk');
    expect(changed.length).toBeGreaterThan(1);
  }, 60_000);
});
