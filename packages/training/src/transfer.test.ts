import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { embedSplit, trainNewHead } from './transfer.js';
import { selectTasks } from './split.js';
import { fakeClassificationTask, fakeEncoder } from './test-doubles.js';
import { toySplit } from './toy-data.js';
import type { TrainableEncoder } from './contracts.js';

const T = 6, F = 3, D = 8;
const data = { train: selectTasks(toySplit(300, T, F, 'tt'), [1]), val: selectTasks(toySplit(100, T, F, 'tv'), [1]) };
const enc = fakeEncoder(T, F, D, 2);
beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});
afterAll(() => enc.dispose());

/** The encoder, counting the windows it encodes. */
function counting(e: TrainableEncoder): TrainableEncoder & { windows: number } {
  const c = {
    ...e,
    windows: 0,
    apply: (x: tf.Tensor3D, o?: { training?: boolean }) => {
      c.windows += x.shape[0];
      return e.apply(x, o);
    },
  };
  return c;
}

const budget = { epochs: 4, batchSize: 32, learningRate: 0.03, progress: false, workers: 1 } as const;
const weights = (r: { head: { variables: readonly tf.Variable[] } }) => r.head.variables.map((v) => Array.from(v.dataSync()));

describe('trainNewHead on cached embeddings', () => {
  it('embedSplit holds the encoder output of every window, row for row', () => {
    const z = embedSplit(enc, data.val, 7); // an odd batch: rows cross batch borders
    expect([z.n, z.windowLength, z.featureCount]).toEqual([data.val.n, 1, D]);
    const direct = tf.tidy(() => enc.apply(tf.tensor3d(data.val.x, [data.val.n, T, F])).dataSync());
    for (let k = 0; k < direct.length; k++) expect(z.x[k]).toBeCloseTo(direct[k]!, 5);
    expect(z.targets).toBe(data.val.targets);
  });

  it('trains the same head as the per-batch path (no noise, no dropout) while encoding each window once', async () => {
    const cls = fakeClassificationTask('cls', 3);
    const a = counting(enc);
    const cached = await trainNewHead(a, cls, data, budget, {}, 5);
    const b = counting(enc);
    const plain = await trainNewHead(b, cls, data, budget, {}, 5, undefined, { cacheEmbeddings: false });
    expect(cached.cachedEmbeddings).toBe(true);
    expect(plain.cachedEmbeddings).toBe(false);
    // once per training and validation window
    expect(a.windows).toBe(data.train.n + data.val.n);
    // the per-batch path encodes every training window each epoch plus validation passes
    expect(b.windows).toBeGreaterThanOrEqual(budget.epochs * (data.train.n + data.val.n));
    const wa = weights(cached);
    const wb = weights(plain);
    wa.forEach((w, i) => w.forEach((x, k) => expect(x).toBeCloseTo(wb[i]![k]!, 4)));
    expect(cached.history.map((h) => h.valTotal)).toEqual(plain.history.map((h) => expect.closeTo(h.valTotal, 4)));
    expect(cached.history.at(-1)!.valLoss.cls).toBeLessThan(cached.history[0]!.valLoss.cls!);
    cached.head.dispose();
    plain.head.dispose();
  });
});
