import { defineConfig } from 'tsup';
import { requireCjs } from '../../tools/scripts/tsup-require-cjs.mjs';

// tfjs-core and its backends are CommonJS: the ESM build requires them (0.46 -> 0.11 CPU-s per process, see the helper)
const cjs = requireCjs(/^@tensorflow\/(tfjs-core|tfjs-backend-cpu|tfjs-backend-wasm)$/);

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: false,
  shims: true,
  external: ['@tensorflow/tfjs-node'],
  // tfjs-core's gradient and chained-op registrations exist only as ESM files with extensionless
  // imports, which Node cannot load: bundle them (they register into tfjs-core's global registries).
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//, ...cjs.noExternal],
  esbuildPlugins: cjs.esbuildPlugins,
  banner: cjs.banner,
});
