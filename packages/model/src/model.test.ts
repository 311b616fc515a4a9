import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError, generateSyntheticMarket } from '@task-agnostic/core';
import { initBackend, tf } from '@task-agnostic/tf';
import { TaskAgnosticModel, componentSeeds } from './model.js';
import { FakeNormalizer, fakeComponents, fakeComputeFeatures, fakeMakeWindows } from './test-doubles.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const T = 8;
const candles = generateSyntheticMarket({ bars: 300, seed: 3 }).candles;
const matrix = fakeComputeFeatures(candles, undefined);
const normalizer = FakeNormalizer.fit(matrix, matrix.warmup, 200);

function makeModel(seed = 1, tasks: unknown[] = ['direction', 'return', { id: 'x_custom', config: { width: 3 } }]): TaskAgnosticModel {
  return TaskAgnosticModel.create(
    { windowLength: T, encoder: { dim: 6 }, tasks: tasks as never, seed },
    { normalizer, taskStates: { direction: {}, return: { scale: 2 }, x_custom: { scale: 1 } }, components: fakeComponents },
  );
}

function windows(ends: number[]): Float32Array {
  return fakeMakeWindows(normalizer.transform(matrix), ends, T);
}

describe('TaskAgnosticModel', () => {
  it('batch predict equals per-window encoder -> head -> decode computed step by step', () => {
    const model = makeModel();
    const ends = [20, 50, 51, 120, 299];
    const w = windows(ends);
    const outs = model.predict(w, ends.length);
    expect(outs).toHaveLength(ends.length);
    for (const [k] of ends.entries()) {
      const one = w.subarray(k * T * 4, (k + 1) * T * 4);
      const [dir, ret, cus] = tf.tidy(() => {
        const z = model.encoder.apply(tf.tensor3d(one, [1, T, 4]));
        return ['direction', 'return', 'x_custom'].map((id) => Array.from(model.heads.get(id)!.apply(z).dataSync()));
      });
      const e = dir!.map(Math.exp);
      const s = e[0]! + e[1]! + e[2]!;
      expect(outs[k]!.direction!.up).toBeCloseTo(e[0]! / s, 5);
      expect(outs[k]!.direction!.down).toBeCloseTo(e[1]! / s, 5);
      expect(outs[k]!.direction!.sideways).toBeCloseTo(e[2]! / s, 5);
      // return's state scale 2 reaches decode
      expect(outs[k]!.return!.expected).toBeCloseTo(ret![0]! * 2, 5);
      expect(outs[k]!.return!.std).toBeCloseTo(Math.exp(ret![1]!) * 2, 5);
      // a non-built-in task lands under custom
      expect(outs[k]!.custom!.x_custom).toEqual({ expected: expect.closeTo(cus![0]!, 5), std: expect.closeTo(Math.exp(cus![1]!), 5) });
      expect(Object.keys(outs[k]!).sort()).toEqual(['custom', 'direction', 'return']);
    }
    // predictRaw splits the concatenated outputs per task with the right widths
    const raw = model.predictRaw(w, ends.length);
    expect([...raw.keys()]).toEqual(['direction', 'return', 'x_custom']);
    expect(raw.get('x_custom')!.length).toBe(ends.length * 3);
    model.dispose();
  });

  it('embed, predictTask and predictCandles agree with predict', () => {
    const model = makeModel();
    const ends = [30, 31, 250];
    const w = windows(ends);
    const emb = model.embed(w, 3);
    expect(emb.length).toBe(3 * 6);
    const zRef = tf.tidy(() => Array.from(model.encoder.apply(tf.tensor3d(w, [3, T, 4])).dataSync()));
    expect(Array.from(emb)).toEqual(zRef);
    const all = model.predict(w, 3);
    // n is inferred when omitted; one window is a batch of one
    expect(model.predict(w)).toEqual(all);
    expect(model.predict(w.subarray(T * 4, 2 * T * 4))).toEqual([all[1]]);
    expect(model.predictTask('return', w, 3)).toEqual(all.map((o) => o.return));
    expect(model.predictCandles(candles, ends, { batchSize: 2 })).toEqual(all);
    expect(() => model.predictTask('nope', w, 3)).toThrow(/unknown task 'nope': this model has direction, return, x_custom/);
    model.dispose();
  });

  it('is deterministic by seed; different seeds differ; encoder and heads get independent seeds', () => {
    const w = windows([40]);
    const a = makeModel(5);
    const b = makeModel(5);
    const c = makeModel(6);
    expect(a.predictRaw(w, 1).get('direction')).toEqual(b.predictRaw(w, 1).get('direction'));
    expect(a.predictRaw(w, 1).get('direction')).not.toEqual(c.predictRaw(w, 1).get('direction'));
    const s = componentSeeds(5, ['direction', 'return']);
    expect(new Set([s.encoder, s.heads.get('direction'), s.heads.get('return')]).size).toBe(3);
    // adding a task does not change the other components' seeds
    expect(componentSeeds(5, ['direction']).heads.get('direction')).toBe(s.heads.get('direction'));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('rejects wrong shapes, missing states and a normaliser of another feature set', () => {
    const model = makeModel();
    expect(() => model.predict(new Float32Array(T * 4 * 2 - 1), 2)).toThrow(DataError);
    expect(() => model.predict(new Float32Array(T * 4 * 2 - 1), 2)).toThrow('windows has 63 values but [n=2, T=8, F=4] needs 64');
    expect(() => model.predict(new Float32Array(0), 0)).toThrow(/n must be a positive integer/);
    expect(() => model.predict(new Float32Array(T * 4 + 1))).toThrow('windows has 33 values, not a whole number of [T=8, F=4] windows');
    model.dispose();
    expect(() => model.predict(windows([40]), 1)).toThrow(/disposed/);
    expect(() =>
      TaskAgnosticModel.create({ windowLength: T, encoder: { dim: 4 }, tasks: ['direction'] }, { normalizer, taskStates: {}, components: fakeComponents }),
    ).toThrow("taskStates.direction: no fitted state for task 'direction'");
    const other = new FakeNormalizer(['ret_1', 'range_hl', 'vol_ratio', 'ret_5'], [0, 0, 0, 0], [1, 1, 1, 1]);
    expect(() =>
      TaskAgnosticModel.create({ windowLength: T, encoder: { dim: 4 }, tasks: ['direction'] }, { normalizer: other, taskStates: { direction: {} }, components: fakeComponents }),
    ).toThrow(new ConfigError("the normaliser does not fit the feature set: feature 3 is 'ret_5' in the normaliser but 'ret_3' in the feature set", "normalizer"));
  });

  it('does not leak tensors over 100 predictions, embeddings and task predictions', () => {
    const model = makeModel();
    const w = windows([60, 61]);
    model.predict(w, 2); // warm-up (kernels, lazily created constants)
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      model.predict(w, 2);
      model.embed(w, 2);
      model.predictTask('direction', w, 2);
    }
    expect(tf.memory().numTensors).toBe(before);
    const vars = model.paramCount();
    expect(vars).toBe(4 * 6 + 6 + 36 + (6 * 3 + 3) + (6 * 2 + 2) + (6 * 3 + 3));
    model.dispose();
    expect(tf.memory().numTensors).toBe(before - 3 - 6);
  });
});
