import { defineConfig } from 'vitest/config';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Tests import the packages' sources, not their builds, so `vitest` needs no build step.
const root = path.dirname(fileURLToPath(import.meta.url));
const alias: { find: string | RegExp; replacement: string }[] = [
  { find: /^@task-agnostic\/test-utils$/, replacement: path.join(root, 'tools/test-utils/src/index.ts') },
];
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(path.join(root, group))) {
    const src = path.join(root, group, name, 'src');
    if (!existsSync(path.join(src, 'index.ts'))) continue;
    // Sub-path exports (e.g. @task-agnostic/bybit/testing) map to src/<sub>/index.ts.
    alias.push({ find: new RegExp(`^@task-agnostic/${name}/(.+)$`), replacement: path.join(src, '$1', 'index.ts') });
    alias.push({ find: new RegExp(`^@task-agnostic/${name}$`), replacement: path.join(src, 'index.ts') });
  }
}

export default defineConfig({
  root,
  resolve: { alias },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tools/*/src/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { TAT_QUIET_BACKEND: '1' },
  },
});
