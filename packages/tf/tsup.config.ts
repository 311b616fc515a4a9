import { defineConfig } from 'tsup';

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
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
});
