// What a package's published types need from its user's install: every module its dist/*.d.ts and
// *.d.cts import must be a dependency or a peer dependency of that package (a devDependency is not
// installed for users, so a type imported from one is `any` or an error for them). zod, whose types
// are in ten packages' public API, is a peer (`^3.25.76 || ^4.1.8`, imported as `zod/v3`, which zod
// 3.25+ and zod 4 both ship) so a project and the packages share one copy; the apps, which users
// install as CLIs, keep it as a regular dependency.
// Needs the packages built (`pnpm build`; `npm test` builds first); the built-types checks skip with a
// reason otherwise. The checker itself is tested on hand-written declarations first.
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The zod peer range every package declares. */
export const ZOD_PEER_RANGE = '^3.25.76 || ^4.1.8';

interface Manifest {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** The module specifiers a declaration file imports: `from '…'`, `import('…')`, `require('…')`, `/// <reference types="…" />`. */
export function declarationImports(dts: string): string[] {
  const found = new Set<string>();
  for (const m of dts.matchAll(/\bfrom\s*['"]([^'"]+)['"]/g)) found.add(m[1]!);
  for (const m of dts.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) found.add(m[1]!);
  for (const m of dts.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) found.add(m[1]!);
  for (const m of dts.matchAll(/\/\/\/\s*<reference\s+types\s*=\s*['"]([^'"]+)['"]/g)) found.add(`@types/${m[1]!}`);
  return [...found].sort();
}

const builtins = new Set(builtinModules);
/** The package a specifier names ('zod/v3' -> 'zod', '@scope/a/b' -> '@scope/a'); null for relative paths and Node built-ins. */
export function packageOf(spec: string): string | null {
  if (spec.startsWith('.') || spec.startsWith('/')) return null;
  if (spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0]!)) return null;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The packages that declaration files import although the manifest neither depends on them nor has them as peers. */
export function undeclaredTypeImports(manifest: Manifest, declarations: readonly string[]): string[] {
  const declared = new Set([manifest.name, ...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
  const missing = new Set<string>();
  for (const dts of declarations) {
    for (const spec of declarationImports(dts)) {
      const pkg = packageOf(spec);
      // `@types/node` describes the built-ins: a Node user's types, like `node:` imports themselves.
      if (pkg && pkg !== '@types/node' && !declared.has(pkg)) missing.add(pkg);
    }
  }
  return [...missing].sort();
}

function declarationFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.d\.[cm]?ts$/.test(f)) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

const publicPackages: { rel: string; manifest: Manifest; isApp: boolean }[] = [];
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(path.join(root, group)).sort()) {
    const file = path.join(root, group, name, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    if (!manifest.private) publicPackages.push({ rel: `${group}/${name}`, manifest, isApp: group === 'apps' });
  }
}
const unbuilt = publicPackages.filter((p) => declarationFiles(path.join(root, p.rel, 'dist')).length === 0);
if (unbuilt.length) console.warn(`[skip] published types: not built: ${unbuilt.map((p) => p.rel).join(', ')} (run pnpm build; npm test builds first)`);

describe('the type-import checker', () => {
  it('finds every kind of module reference in a declaration file', () => {
    const dts = [
      "import { z } from 'zod/v3';",
      "import type { Logger } from 'pino';",
      "export { a } from './a.js';",
      "export * from '@scope/pkg/sub';",
      "declare const s: import('prom-client').Registry;",
      "import 'side-effect';",
      '/// <reference types="node" />',
      "import { Readable } from 'node:stream';",
      "type T = typeof import(\"fs\");",
    ].join('\n');
    expect(declarationImports(dts)).toEqual(['./a.js', '@scope/pkg/sub', '@types/node', 'fs', 'node:stream', 'pino', 'prom-client', 'side-effect', 'zod/v3']);
    expect(['zod/v3', '@scope/pkg/sub', './a.js', 'node:stream', 'fs', 'fs/promises', 'ws'].map(packageOf)).toEqual(['zod', '@scope/pkg', null, null, null, null, 'ws']);
  });

  it('flags a module that is only a devDependency, or not declared at all; accepts dependencies, peers and built-ins', () => {
    const dts = "import { z } from 'zod/v3';\nimport { Candle } from '@task-agnostic/core';\nimport type { Server } from 'node:http';\nexport declare const s: import('pino').Logger;";
    const base = { name: '@task-agnostic/x', dependencies: { '@task-agnostic/core': '^0.1.0' } };
    expect(undeclaredTypeImports({ ...base, devDependencies: { zod: '^3.25.76' } }, [dts])).toEqual(['pino', 'zod']);
    expect(undeclaredTypeImports({ ...base, dependencies: { ...base.dependencies, pino: '^9' }, peerDependencies: { zod: ZOD_PEER_RANGE } }, [dts])).toEqual([]);
    expect(undeclaredTypeImports({ name: '@task-agnostic/x' }, ["export * from './index.js';"])).toEqual([]);
  });
});

describe.skipIf(unbuilt.length > 0)('published types import only what their package declares', () => {
  for (const { rel, manifest, isApp } of publicPackages) {
    it(`${manifest.name}: every module its .d.ts imports is a dependency or a peer${isApp ? '' : '; zod is a peer, never a dependency'}`, () => {
      const files = declarationFiles(path.join(root, rel, 'dist'));
      const texts = files.map((f) => readFileSync(f, 'utf8'));
      expect(undeclaredTypeImports(manifest, texts), `${rel}/dist/*.d.ts imports these, which ${rel}/package.json neither depends on nor has as peers`).toEqual([]);
      const typesUseZod = texts.some((t) => declarationImports(t).some((s) => packageOf(s) === 'zod'));
      if (isApp) {
        if (typesUseZod) expect(manifest.dependencies?.zod, `${rel}: an app keeps zod as a regular dependency`).toBeDefined();
        return;
      }
      expect(manifest.dependencies?.zod, `${rel}: zod must not be a regular dependency (a second copy beside the user's)`).toBeUndefined();
      if (typesUseZod) {
        expect(manifest.peerDependencies?.zod, `${rel}: its types use zod`).toBe(ZOD_PEER_RANGE);
        expect(manifest.devDependencies?.zod, `${rel}: zod as a devDependency, to build and test inside the workspace`).toMatch(/^\^3\.25\./);
      }
    });
  }
});

describe('sources import zod as zod/v3 (the API both zod 3.25 and zod 4 ship)', () => {
  for (const { rel } of publicPackages) {
    it(rel, () => {
      const offenders: string[] = [];
      const walk = (d: string): void => {
        for (const f of readdirSync(d)) {
          const p = path.join(d, f);
          if (statSync(p).isDirectory()) walk(p);
          else if (p.endsWith('.ts') && declarationImports(readFileSync(p, 'utf8')).some((s) => packageOf(s) === 'zod' && s !== 'zod/v3')) offenders.push(path.relative(root, p));
        }
      };
      walk(path.join(root, rel, 'src'));
      expect(offenders, 'these import zod other than as zod/v3; on zod 4 the package root is the v4 API').toEqual([]);
    });
  }
});
