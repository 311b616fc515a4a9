/**
 * TEST DOUBLES ONLY (not exported from index.ts): small, honest implementations of the
 * features / encoders / heads contracts, so the model's own logic (artifact, batching, streaming)
 * is tested independently of the upstream packages. The integration tests use the real ones.
 */
import { ConfigError, DataError, Rng, type Candle, type CandleColumns } from '@task-agnostic/core';
import { glorotUniform, tf } from '@task-agnostic/tf';
import type { Encoder, FeatureMatrix, Head, ModelComponents, Normalizer, StreamingFeatures, Task, TaskState } from './contracts.js';

let uid = 0;
function zerosVariable(n: number, name: string): tf.Variable {
  const z = tf.zeros([n]);
  const v = tf.variable(z, true, `${name}_${uid++}`);
  z.dispose();
  return v;
}
function variable(shape: number[], seed: number, name: string): tf.Variable {
  const init = glorotUniform(shape, seed);
  const v = tf.variable(init, true, `${name}_${uid++}`);
  init.dispose();
  return v;
}

/** Names of the fake feature set; `variant` renames one to simulate a changed feature set. */
export function fakeFeatureNames(config: unknown): string[] {
  const variant = (config as { variant?: string } | undefined)?.variant;
  return ['ret_1', variant === 'renamed' ? 'range_hl2' : 'range_hl', 'vol_ratio', 'ret_3'];
}

/** features at t read candles <= t: log return, (high-low)/close, volume / previous volume, 3-bar log return. */
function featureRow(c: CandleColumns | Candle[], t: number, out: Float64Array | Float32Array, off: number): void {
  const get = (i: number): Candle => (Array.isArray(c) ? c[i]! : { tsMs: c.tsMs[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]! });
  const now = get(t);
  const prev = get(t - 1);
  out[off] = Math.log(now.close / prev.close);
  out[off + 1] = (now.high - now.low) / now.close;
  out[off + 2] = now.volume / Math.max(prev.volume, 1e-9);
  out[off + 3] = Math.log(now.close / get(t - 3).close);
}
const FAKE_WARMUP = 3;

export function fakeComputeFeatures(candles: CandleColumns, config: unknown): FeatureMatrix {
  const names = fakeFeatureNames(config);
  const F = names.length;
  const data = new Float32Array(candles.length * F);
  for (let t = FAKE_WARMUP; t < candles.length; t++) featureRow(candles, t, data, t * F);
  return { data, rows: candles.length, cols: F, names, warmup: FAKE_WARMUP };
}

export class FakeStreamingFeatures implements StreamingFeatures {
  readonly names: readonly string[];
  readonly warmup = FAKE_WARMUP;
  private readonly history: Candle[] = [];
  constructor(config: unknown) {
    this.names = fakeFeatureNames(config);
  }
  update(candle: Candle): Float64Array | null {
    this.history.push(candle);
    if (this.history.length > FAKE_WARMUP + 1) this.history.shift();
    if (this.history.length <= FAKE_WARMUP) return null;
    const out = new Float64Array(this.names.length);
    featureRow(this.history, this.history.length - 1, out, 0);
    return out;
  }
}

export class FakeNormalizer implements Normalizer {
  constructor(
    readonly names: readonly string[],
    readonly mean: readonly number[],
    readonly std: readonly number[],
  ) {}
  static fit(m: FeatureMatrix, start: number, end: number): FakeNormalizer {
    const mean: number[] = [];
    const std: number[] = [];
    for (let j = 0; j < m.cols; j++) {
      let s = 0;
      let s2 = 0;
      for (let i = start; i < end; i++) s += m.data[i * m.cols + j]!;
      const mu = s / (end - start);
      for (let i = start; i < end; i++) s2 += (m.data[i * m.cols + j]! - mu) ** 2;
      mean.push(mu);
      std.push(Math.sqrt(s2 / (end - start)) || 1);
    }
    return new FakeNormalizer(m.names, mean, std);
  }
  transform(m: FeatureMatrix): FeatureMatrix {
    const data = new Float32Array(m.data.length);
    for (let i = m.warmup; i < m.rows; i++) this.transformRow(m.data.subarray(i * m.cols, (i + 1) * m.cols), data.subarray(i * m.cols, (i + 1) * m.cols));
    return { ...m, data };
  }
  transformRow(row: ArrayLike<number>, out = new Float32Array(this.names.length)): Float32Array {
    for (let j = 0; j < this.names.length; j++) out[j] = (row[j]! - this.mean[j]!) / this.std[j]!;
    return out;
  }
  toJSON(): unknown {
    return { names: [...this.names], mean: [...this.mean], std: [...this.std] };
  }
  static fromJSON(s: unknown): FakeNormalizer {
    const o = s as { names?: unknown; mean?: unknown; std?: unknown };
    if (!Array.isArray(o?.names) || !Array.isArray(o.mean) || !Array.isArray(o.std)) throw new ConfigError('bad normaliser state', 'normalizer');
    return new FakeNormalizer(o.names as string[], o.mean as number[], o.std as number[]);
  }
}

export function fakeMakeWindows(m: FeatureMatrix, endRows: ArrayLike<number>, T: number, out?: Float32Array): Float32Array {
  const F = m.cols;
  const w = out ?? new Float32Array(endRows.length * T * F);
  for (let k = 0; k < endRows.length; k++) {
    const e = endRows[k]!;
    if (e - T + 1 < m.warmup || e >= m.rows) throw new DataError(`window ending at ${e} is out of range`);
    w.set(m.data.subarray((e - T + 1) * F, (e + 1) * F), k * T * F);
  }
  return w;
}

/** Encoder double: per-step dense F->D with tanh, mean over time, dense D->D. Config { dim }. */
export function fakeBuildEncoder(config: unknown, inputShape: readonly [number, number], seed: number): Encoder {
  const dim = (config as { dim: number }).dim;
  const [T, F] = inputShape;
  const rng = new Rng(seed);
  const w1 = variable([F, dim], rng.seedInt(), 'fake_enc/w1');
  const b1 = zerosVariable(dim, 'fake_enc/b1');
  const w2 = variable([dim, dim], rng.seedInt(), 'fake_enc/w2');
  const vars = [w1, b1, w2];
  return {
    config,
    inputShape: [T, F],
    outputDim: dim,
    variables: vars,
    apply: (x) =>
      tf.tidy(() => {
        const n = x.shape[0];
        const h = tf.tanh(tf.add(tf.matMul(tf.reshape(x, [n * T, F]), w1), b1));
        return tf.matMul(tf.mean(tf.reshape(h, [n, T, dim]), 1) as tf.Tensor2D, w2) as tf.Tensor2D;
      }),
    paramCount: () => vars.reduce((a, v) => a + v.size, 0),
    dispose: () => vars.forEach((v) => v.dispose()),
  };
}

function denseHead(inputDim: number, outputDim: number, seed: number): Head {
  const w = variable([inputDim, outputDim], seed, 'fake_head/w');
  const b = zerosVariable(outputDim, 'fake_head/b');
  return {
    variables: [w, b],
    apply: (z) => tf.tidy(() => tf.add(tf.matMul(z, w), b) as tf.Tensor2D),
    dispose: () => [w, b].forEach((v) => v.dispose()),
  };
}

/** Task doubles: 'direction' (3-class softmax), 'return' (mean, log std), anything else ('x_*'): a custom 2-output regression. */
export function fakeGetTask(id: string, config?: unknown): Task {
  const outputDim = id === 'direction' ? 3 : 2;
  const width = (config as { width?: number } | undefined)?.width;
  return {
    id,
    kind: id === 'direction' ? 'classification' : 'regression',
    // 'return' outputs (mean, log-std): a Gaussian head (what a seed ensemble mixes as a Gaussian)
    ...(id === 'return' && (width ?? outputDim) === 2 ? { calibrationForm: 'gaussian' as const } : {}),
    horizon: 4,
    outputDim: width ?? outputDim,
    buildHead: (inputDim, seed) => denseHead(inputDim, width ?? outputDim, seed),
    decode(o: ArrayLike<number>, state: TaskState): unknown {
      if (id === 'direction') {
        const m = Math.max(o[0]!, o[1]!, o[2]!);
        const e = [0, 1, 2].map((i) => Math.exp(o[i]! - m));
        const s = e[0]! + e[1]! + e[2]!;
        return { up: e[0]! / s, down: e[1]! / s, sideways: e[2]! / s };
      }
      const scale = typeof state.scale === 'number' ? state.scale : 1;
      return { expected: o[0]! * scale, std: Math.exp(o[1]!) * scale };
    },
  };
}

export const fakeComponents: ModelComponents = {
  parseEncoderConfig: (json) => {
    const dim = (json as { dim?: unknown } | null)?.dim;
    if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) throw new ConfigError('must be a positive integer', 'encoder.dim');
    return { dim };
  },
  buildEncoder: fakeBuildEncoder,
  getTask: fakeGetTask,
  parseFeatureSetConfig: (json) => json ?? { variant: 'base' },
  featureNames: fakeFeatureNames,
  createStreamingFeatures: (c) => new FakeStreamingFeatures(c),
  computeFeatures: fakeComputeFeatures,
  makeWindows: fakeMakeWindows,
  normalizerFromJSON: (s) => FakeNormalizer.fromJSON(s),
};
