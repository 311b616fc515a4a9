/**
 * tsup options that load CommonJS dependencies with `require` in a package's ESM build.
 *
 * Imported from ESM, a CommonJS package is first scanned by Node's CommonJS export lexer (to find
 * its named exports) and then run. For big packages that scan is most of the cost: tfjs-core and
 * its cpu and wasm backends took 0.46 CPU-s to import from ESM against 0.11 CPU-s to `require`,
 * jstat 0.12 against 0.013 (Node 20), paid by every process (each sweep worker, each CLI command).
 * With these options the ESM build `require`s them (a `require` made with createRequire, in a
 * banner): the same modules, and the same single instance the packages' own `require`s get.
 * The CJS build requires them already (the plugin leaves it equivalent).
 *
 * Use: `defineConfig({ ..., ...requireCjs(/^(jstat)$/), noExternal: [...requireCjs(re).noExternal, ...] })`.
 * @param {RegExp} packages bare package names to require (anchored, e.g. /^(jstat)$/)
 */
export function requireCjs(packages) {
  const ns = 'require-cjs';
  return {
    // listed only so that tsup's own externals leave them to the plugin, which keeps them external
    noExternal: [packages],
    esbuildPlugins: [
      {
        name: 'require-cjs',
        /** @param {import('esbuild').PluginBuild} build */
        setup(build) {
          build.onResolve({ filter: packages }, (args) => (args.namespace === ns ? { path: args.path, external: true } : { path: args.path, namespace: ns }));
          build.onLoad({ filter: /.*/, namespace: ns }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
        },
      },
    ],
    // the ESM build's `require` (esbuild's __require calls it)
    /** @param {{ format: string }} ctx */
    banner: (ctx) => (ctx.format === 'esm' ? { js: "import { createRequire as __requireCjsCreate } from 'node:module';\nconst require = __requireCjsCreate(import.meta.url);" } : {}),
  };
}
