import { defineConfig } from 'tsup';
import { requireCjs } from '../../tools/scripts/tsup-require-cjs.mjs';

// jstat is CommonJS: the ESM build requires it (0.12 -> 0.013 CPU-s per process, see the helper)
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: false,
  ...requireCjs(/^jstat$/),
});
