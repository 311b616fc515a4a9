import { cpSync } from 'node:fs';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: false,
  shims: true,
  // The dashboard's page (HTML, JS, CSS) is served from files beside the bundle.
  onSuccess: async () => {
    cpSync('src/dashboard/static', 'dist/dashboard-static', { recursive: true });
  },
});
