/**
 * TEST DOUBLES ONLY (not exported from index.ts): a tiny deterministic encoder and two tasks that
 * satisfy the training contracts, so the loop and harmonisers can be tested exactly without the
 * real encoders/heads packages. Integration tests use the real packages where they exist.
 */
import type { CandleColumns } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';
import type { TaskLabelsLike, TaskStateLike, TrainableEncoder, TrainableHead, TrainableTask } from './contracts.js';

let counter = 0;
function v(shape: number[], seed: number, name: string, scale = 0.3): tf.Variable {
  return tf.variable(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), scale), true, `${name}_${counter++}`);
}

/** flatten [N,T,F] -> tanh(x W1 + b1) W2 -> [N,D]; W2 is the "last shared" weight. */
export function fakeEncoder(T: number, F: number, D: number, seed: number): TrainableEncoder & { dispose(): void } {
  const W1 = v([T * F, D], seed, 'enc_w1');
  const b1 = tf.variable(tf.zeros([D]), true, `enc_b1_${counter++}`);
  const W2 = v([D, D], seed + 1, 'enc_w2');
  const vars = [W1, b1, W2];
  return {
    inputShape: [T, F],
    outputDim: D,
    apply: (x) => tf.tidy(() => tf.matMul(tf.tanh(tf.add(tf.matMul(tf.reshape(x, [x.shape[0], T * F]), W1), b1)), W2)) as tf.Tensor2D,
    variables: vars,
    trainableVariables: vars,
    lastSharedWeights: W2,
    auxLoss: () => null,
    dispose: () => vars.forEach((x) => x.dispose()),
  };
}

function linearHead(D: number, out: number, seed: number): TrainableHead {
  const W = v([D, out], seed, 'head_w');
  const b = tf.variable(tf.zeros([out]), true, `head_b_${counter++}`);
  return {
    apply: (z) => tf.tidy(() => tf.add(tf.matMul(z, W), b)) as tf.Tensor2D,
    variables: [W, b],
    dispose: () => {
      W.dispose();
      b.dispose();
    },
  };
}

function notUsed(): never {
  throw new Error('test double: not used in this test');
}

export function fakeRegressionTask(id = 'reg', horizon = 1): TrainableTask {
  return {
    id,
    kind: 'regression',
    horizon,
    outputDim: 1,
    fit: (_c: CandleColumns, _e: number): TaskStateLike => ({}),
    labels: (_c: CandleColumns, _s: TaskStateLike): TaskLabelsLike => notUsed(),
    buildHead: (D, seed) => linearHead(D, 1, seed),
    loss: (o, t) => tf.tidy(() => tf.mean(tf.square(tf.sub(o, t)))) as tf.Scalar,
    metrics: (o, t, n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (o[i]! - t[i]!) ** 2;
      return { mse: s / n };
    },
  };
}

export function fakeClassificationTask(id = 'cls', classes = 3, horizon = 1): TrainableTask {
  return {
    id,
    kind: 'classification',
    horizon,
    outputDim: classes,
    fit: (): TaskStateLike => ({}),
    labels: (): TaskLabelsLike => notUsed(),
    buildHead: (D, seed) => linearHead(D, classes, seed),
    loss: (o, t) =>
      tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(tf.reshape(t, [-1]), 'int32'), classes), o)) as tf.Scalar,
    metrics: (o, t, n) => {
      let ok = 0;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let k = 1; k < classes; k++) if (o[i * classes + k]! > o[i * classes + best]!) best = k;
        if (best === t[i]) ok++;
      }
      return { accuracy: ok / n };
    },
  };
}

/** A two-feature pipeline (log return, log range) with a z-score normaliser; records what it was fitted on. */
export function fakePipeline(): import('./contracts.js').FeaturePipeline & { fits: { rows: number; mean: number[] }[] } {
  const fits: { rows: number; mean: number[] }[] = [];
  return {
    fits,
    compute: (c) => {
      const data = new Float32Array(c.length * 2);
      for (let t = 1; t < c.length; t++) {
        data[t * 2] = Math.log(c.close[t]! / c.close[t - 1]!) * 100;
        data[t * 2 + 1] = Math.log(c.high[t]! / c.low[t]!) * 100;
      }
      return { data, rows: c.length, cols: 2, names: ['ret', 'range'], warmup: 1 };
    },
    fitNormalizer: (m, start, end) => {
      const mean = [0, 0];
      const sd = [0, 0];
      for (let f = 0; f < 2; f++) {
        for (let r = start; r < end; r++) mean[f]! += m.data[r * 2 + f]! / (end - start);
        for (let r = start; r < end; r++) sd[f]! += (m.data[r * 2 + f]! - mean[f]!) ** 2 / (end - start);
        sd[f] = Math.sqrt(sd[f]!) || 1;
      }
      fits.push({ rows: end - start, mean });
      return {
        transform: (x) => {
          const data = new Float32Array(x.data.length);
          for (let r = x.warmup; r < x.rows; r++) for (let f = 0; f < 2; f++) data[r * 2 + f] = (x.data[r * 2 + f]! - mean[f]!) / sd[f]!;
          return { ...x, data };
        },
        toJSON: () => ({ mean, sd }),
      };
    },
    makeWindows: (m, ends, W) => {
      const out = new Float32Array(ends.length * W * m.cols);
      for (let i = 0; i < ends.length; i++) out.set(m.data.subarray((ends[i]! - W + 1) * m.cols, (ends[i]! + 1) * m.cols), i * W * m.cols);
      return out;
    },
  };
}

/** Regression task: the log return over (t, t+h], valid where t+h exists. */
export function fakeForwardReturnTask(h: number): TrainableTask {
  const base = fakeRegressionTask(`ret${h}`, h);
  return {
    ...base,
    fit: (c, trainEnd) => ({ trainEnd, n: c.length }),
    labels: (c) => {
      const targets = new Float32Array(c.length);
      const valid = new Uint8Array(c.length);
      for (let t = 0; t + h < c.length; t++) {
        targets[t] = Math.log(c.close[t + h]! / c.close[t]!) * 100;
        valid[t] = 1;
      }
      return { targets, targetDim: 1, valid };
    },
  };
}

