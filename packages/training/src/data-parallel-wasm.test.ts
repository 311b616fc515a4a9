import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { currentBackend, initBackend, tf } from '@task-agnostic/tf';
import { Adam } from './adam.js';
import { DataParallelPool, type PartsRecipe } from './data-parallel.js';
import { buildParts, type TestRecipeArgs } from './dp-test-recipe.js';
import { Harmoniser } from './harmoniser.js';
import { gatherBatch } from './split.js';
import { computeStepGradients, type MultiTaskParts } from './step.js';
import { toySplit } from './toy-data.js';

// On wasm (XNNPACK caches packed weights per tensor id) Adam computes new weights straight into
// new backend records and the worker loads every step's weights: several steps with Adam between
// must still follow the one-thread run (an in-place weight write failed here with 0.19 relative
// error; the cpu tests cannot see it: the cpu backend has no such cache).
const T = 6, F = 3, D = 8;
const args: TestRecipeArgs = { T, F, D, seed: 2 };
const recipe: PartsRecipe = { module: new URL('./dp-test-recipe.ts', import.meta.url).href, exportName: 'buildParts', args };
let wasm = false;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true }).catch(() => undefined);
  wasm = currentBackend() === 'wasm';
});
afterAll(() => undefined);

function weights(p: MultiTaskParts): Float32Array[] {
  return [...p.encoder.variables, ...p.heads.flatMap((h) => h.variables)].map((v) => new Float32Array(v.dataSync()));
}

describe('data-parallel training on wasm', () => {
  it('follows one-thread training over several Adam steps (weights loaded as new tensors every step)', async (ctx) => {
    if (!wasm) ctx.skip();
    const data = toySplit(128, T, F, 'train');
    const run = async (ranks: number) => {
      const p = buildParts(args);
      const pool = ranks > 1 ? await DataParallelPool.start(p, { workers: ranks, recipe, maxBatch: 64 }) : null;
      if (ranks > 1) expect(pool).not.toBeNull();
      const vars = [...p.encoder.trainableVariables, ...p.heads.flatMap((h) => [...h.variables])];
      const adam = new Adam(vars);
      const h = new Harmoniser({ name: 'equal' }, p.tasks.map((t) => t.kind));
      for (let k = 0; k < 6; k++) {
        const batch = gatherBatch(data, Array.from({ length: 48 }, (_, i) => (i * 5 + k * 11) % 128));
        const r = pool ? pool.computeStepGradients(p, batch, h, 'parameter', `k${k}`) : computeStepGradients(p, batch, h, 'parameter', new Rng(`k${k}`));
        adam.apply(r.grads, 0.05);
        tf.dispose(r.grads.filter((g): g is tf.Tensor => g !== null));
      }
      await pool?.close();
      const w = weights(p);
      p.dispose();
      return w;
    };
    const one = await run(1);
    const two = await run(2);
    let d = 0, m = 0;
    two.forEach((x, i) => x.forEach((v, k) => {
      d = Math.max(d, Math.abs(v - one[i]![k]!));
      m = Math.max(m, Math.abs(one[i]![k]!));
    }));
    expect(d / m).toBeLessThan(1e-4);
    // the weights moved: six steps at lr 0.05
    const start = weights(buildParts(args));
    expect(Math.max(...one.map((x, i) => Math.max(...x.map((v, k) => Math.abs(v - start[i]![k]!)))))).toBeGreaterThan(0.01);
  }, 120_000);
});
