// The ESM builds of tf and core load their CommonJS dependencies (tfjs-core, its cpu and wasm
// backends; jstat) with `require` (tools/scripts/tsup-require-cjs.mjs): Node then skips its
// CommonJS export scan, ~0.5 CPU-s of every process's start-up. Checked on the built files: no
// static ESM import of those packages is left, and a fresh process importing the ESM builds gets
// working modules and the one tfjs engine the backends' own `require` sees.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tfDist = path.join(root, 'packages/tf/dist/index.js');
const coreDist = path.join(root, 'packages/core/dist/index.js');
const built = existsSync(tfDist) && existsSync(coreDist);

describe.skipIf(!built)('ESM builds require their CommonJS dependencies (skipped: build tf and core first)', () => {
  it('leave no ESM import of tfjs-core, its backends or jstat', () => {
    const tf = readFileSync(tfDist, 'utf8');
    const core = readFileSync(coreDist, 'utf8');
    for (const pkg of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm']) {
      expect(tf).not.toMatch(new RegExp(`(from|import\\()\\s*"${pkg.replace('/', '\\/')}"`));
      expect(tf).toContain(`__require("${pkg}")`);
    }
    expect(core).not.toMatch(/(from|import\()\s*"jstat"/);
    expect(core).toContain('__require("jstat")');
  });

  it('load in a fresh process: one tfjs engine, the wasm backend, jstat behind core', () => {
    const script = `
      import { createRequire } from 'node:module';
      const t = await import(${JSON.stringify(tfDist)});
      const c = await import(${JSON.stringify(coreDist)});
      const info = await t.initBackend({ quiet: true });
      const req = createRequire(${JSON.stringify(path.join(root, 'packages/tf/package.json'))});
      const same = req('@tensorflow/tfjs-core').engine() === t.tf.engine();
      console.log(JSON.stringify({ backend: info.name, same, sum: Array.from(t.tf.add([1, 2], [3, 4]).dataSync()), q: c.normalQuantile(0.975) }));
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { backend: string; same: boolean; sum: number[]; q: number };
    expect(out.same).toBe(true);
    expect(['wasm', 'tensorflow', 'cpu']).toContain(out.backend);
    expect(out.sum).toEqual([4, 6]);
    expect(out.q).toBeCloseTo(1.959964, 5);
  });
});
