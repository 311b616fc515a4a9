// The dependency rule of ARCHITECTURE.md: arrows point down only. apps -> packages;
// training -> model -> (encoders, heads, features) -> core; fusion, risk, backtest, bybit -> core;
// tf is the shared backend module of the ML packages. No package imports an app; no cycles.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  tf: [],
  features: ['core'],
  heads: ['core', 'features', 'tf'],
  encoders: ['core', 'tf'],
  model: ['core', 'features', 'heads', 'encoders', 'tf'],
  training: ['core', 'features', 'heads', 'encoders', 'model', 'tf'],
  fusion: ['core'],
  risk: ['core'],
  bybit: ['core'],
  backtest: ['core'],
};
const PACKAGES = Object.keys(ALLOWED);

function internalDeps(pkgJson: string): string[] {
  const p = JSON.parse(readFileSync(pkgJson, 'utf8'));
  const all = { ...p.dependencies, ...p.devDependencies, ...p.optionalDependencies, ...p.peerDependencies };
  return Object.keys(all).filter((d) => d.startsWith('@task-agnostic/')).map((d) => d.slice('@task-agnostic/'.length));
}

function sourceImports(dir: string): Set<string> {
  const found = new Set<string>();
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      // a package's test-kit.ts is test code (helpers its tests share; index.ts never exports it)
      else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('test-kit.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/from\s+'@task-agnostic\/([a-z-]+)/g)) found.add(m[1]!);
        for (const m of readFileSync(p, 'utf8').matchAll(/import\('@task-agnostic\/([a-z-]+)/g)) found.add(m[1]!);
      }
    }
  };
  walk(dir);
  return found;
}

describe('dependency rule', () => {
  it('every package under packages/ is one the architecture names', () => {
    expect(readdirSync(path.join(root, 'packages')).sort()).toEqual([...PACKAGES].sort());
  });

  for (const name of PACKAGES) {
    it(`${name} depends only on what sits below it, and declares what its sources import`, () => {
      const dir = path.join(root, 'packages', name);
      const deps = internalDeps(path.join(dir, 'package.json'));
      for (const d of deps) expect(ALLOWED[name], `${name} -> ${d}`).toContain(d);
      for (const imp of sourceImports(path.join(dir, 'src'))) {
        if (imp === name) continue;
        expect(deps, `${name}/src imports @task-agnostic/${imp} without declaring it`).toContain(imp);
      }
    });
  }

  it("no package's public face exports its test kit (test code, which may import test-only helpers)", () => {
    for (const name of PACKAGES) expect(readFileSync(path.join(root, 'packages', name, 'src', 'index.ts'), 'utf8'), name).not.toMatch(/test-kit/);
  });

  it('no package depends on an app, and apps declare what they import', () => {
    for (const app of readdirSync(path.join(root, 'apps'))) {
      const dir = path.join(root, 'apps', app);
      const deps = internalDeps(path.join(dir, 'package.json'));
      for (const d of deps) expect(PACKAGES, `${app} -> ${d}`).toContain(d);
      for (const imp of sourceImports(path.join(dir, 'src'))) expect(deps).toContain(imp);
    }
    for (const name of PACKAGES) {
      for (const d of internalDeps(path.join(root, 'packages', name, 'package.json'))) {
        expect(['trainer', 'trader']).not.toContain(d);
      }
    }
  });

  it('every package is publishable: ESM + CommonJS exports with types for both, files, description, README, 0.x version', () => {
    for (const name of PACKAGES) {
      const dir = path.join(root, 'packages', name);
      const p = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      expect(p.name).toBe(`@task-agnostic/${name}`);
      expect(p.type).toBe('module');
      expect(p.exports['.'].import).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
      expect(p.exports['.'].require).toEqual({ types: './dist/index.d.cts', default: './dist/index.cjs' });
      expect(p.files).toEqual(expect.arrayContaining(['dist', 'README.md', 'CHANGELOG.md', 'LICENSE']));
      expect(p.scripts.prepack).toMatch(/prepack\.mjs/);
      for (const [dep, range] of Object.entries({ ...p.dependencies })) if (dep.startsWith('@task-agnostic/')) expect(range).toBe('workspace:^');
      expect(typeof p.description).toBe('string');
      expect(p.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(existsSync(path.join(dir, 'README.md'))).toBe(true);
    }
  });
});
