/**
 * Self-supervised pre-training of the encoder (source design, "Self-Supervised Pre-training"):
 * masked reconstruction (30% of time steps hidden), contrastive InfoNCE, temporal order and
 * next-step statistics, each selectable, combined as a weighted sum. Small objective heads
 * (decoder, projection, order classifier, next-step head) live here and are thrown away after.
 * Windows come from the training range only; validation losses from the validation range.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DataError, ProgressBar, Rng } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';
import { z } from 'zod/v3';
import { Adam } from './adam.js';
import { zodToConfigError } from './config.js';
import type { TrainableEncoder } from './contracts.js';
import { splitSegments, type MultiTaskDataset } from './dataset.js';
import { LrSchedule } from './schedule.js';
import { clipScale, globalNorm } from './step.js';
import { binaryLogitLoss, infoNceLoss, maskedReconstructionLoss } from './ssl-losses.js';
import {
  applyMask, augment, checkSource, meanAbsNextReturn, nextStepTargets, orderPairs, positivesOf, sampleAnchors, sampleMask, windowsOf,
  type SamplerOptions, type SslSource,
} from './ssl-sampler.js';

export const SSL_OBJECTIVES = ['masked', 'contrastive', 'order', 'next-step'] as const;
export type SslObjective = (typeof SSL_OBJECTIVES)[number];

export const PretrainConfigSchema = z
  .object({
    objectives: z.array(z.enum(SSL_OBJECTIVES)).min(1).default(['masked', 'contrastive', 'order', 'next-step']),
    /** Weight of each objective in the sum (default 1). */
    weights: z.record(z.enum(SSL_OBJECTIVES), z.number().min(0)).default({}),
    seed: z.number().int().default(42),
    epochs: z.number().int().positive().default(10),
    stepsPerEpoch: z.number().int().positive().default(50),
    batchSize: z.number().int().min(2).default(32),
    learningRate: z.number().positive().max(1).default(1e-3),
    warmupSteps: z.number().int().min(0).default(20),
    clipNorm: z.number().min(0).default(1),
    maskRatio: z.number().gt(0).lt(1).default(0.3), // "30% masked", source design
    temperature: z.number().positive().default(0.1),
    positiveMaxShift: z.number().int().min(0).default(4),
    jitterStd: z.number().min(0).default(0.05),
    scaleStd: z.number().min(0).default(0.1),
    /** Default 2 * window length. */
    negativeMinGap: z.number().int().min(0).optional(),
    /** Default window length .. 4 * window length. */
    orderMinGap: z.number().int().min(1).optional(),
    orderMaxGap: z.number().int().min(1).optional(),
    valBatches: z.number().int().min(1).default(4),
    logPath: z.string().min(1).optional(),
    progress: z.boolean().default(true),
  })
  .strict();
export type PretrainConfig = z.infer<typeof PretrainConfigSchema>;
export type PretrainConfigInput = z.input<typeof PretrainConfigSchema>;

export function parsePretrainConfig(json: unknown): PretrainConfig {
  const r = PretrainConfigSchema.safeParse(json ?? {});
  if (!r.success) throw zodToConfigError(r.error, 'pretrain');
  return r.data;
}

export interface PretrainEpoch {
  readonly epoch: number;
  readonly train: Partial<Record<SslObjective, number>>;
  readonly val: Partial<Record<SslObjective, number>>;
  readonly valTotal: number;
  readonly timeMs: number;
  readonly numTensors: number;
}

export interface PretrainHooks {
  onEpoch?(e: PretrainEpoch): void | Promise<void>;
  readonly signal?: AbortSignal;
  /** Stop as soon as the validation reconstruction loss is at or below this (curriculum condition). */
  readonly stopAtReconstructionLoss?: number;
  /** The reconstruction condition is only checked from this many epochs on. */
  readonly minEpochs?: number;
}

/**
 * Training and validation sources from a dataset: window ends inside each split, next bar included.
 * One range per segment of each series' splits (dataset's splitSegments: one training and one
 * validation range per series, plus one more of each per validation block), so the sources hold a
 * series' matrix once per segment.
 */
export function sslSourcesFromDataset(ds: MultiTaskDataset): { train: SslSource; val: SslSource } {
  const W = ds.windowLength;
  type Parts = { matrices: MultiTaskDataset['matrices'][number][]; closes: MultiTaskDataset['series'][number]['candles']['close'][]; ranges: { minEnd: number; maxEnd: number }[] };
  const train: Parts = { matrices: [], closes: [], ranges: [] };
  const val: Parts = { matrices: [], closes: [], ranges: [] };
  ds.boundaries.forEach((b, s) => {
    const m = ds.matrices[s]!;
    const seg = splitSegments(b, ds.purgeGap);
    for (const [to, rows] of [[train, seg.train], [val, seg.val]] as const) {
      for (const r of rows) {
        to.matrices.push(m);
        to.closes.push(ds.series[s]!.candles.close);
        // the next bar of a window's end stays inside the segment
        to.ranges.push({ minEnd: Math.max(r.start, m.warmup + W - 1), maxEnd: r.end - 2 });
      }
    }
  });
  return { train, val };
}

function glorot(shape: [number, number], seed: number, name: string): tf.Variable {
  const s = Math.sqrt(2 / (shape[0] + shape[1]));
  return tf.tidy(() => tf.variable(tf.mul(tf.truncatedNormal(shape, 0, 1, 'float32', seed), s), true, name));
}
function zeros(n: number, name: string): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zeros([n]), true, name));
}

interface Dense {
  w: tf.Variable;
  b: tf.Variable;
}
function dense(i: number, o: number, rng: Rng, name: string): Dense {
  return { w: glorot([i, o], rng.seedInt(), `${name}/w`), b: zeros(o, `${name}/b`) };
}
function applyDense(d: Dense, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, d.w), d.b) as tf.Tensor2D;
}

let instance = 0;

/** The objective heads used during pre-training. */
class SslHeads {
  readonly decoder: Dense;
  readonly proj1: Dense;
  readonly proj2: Dense;
  readonly order1: Dense;
  readonly order2: Dense;
  readonly next: Dense;
  constructor(D: number, W: number, F: number, rng: Rng) {
    const p = `ssl${instance++}`;
    const P = Math.max(8, Math.min(D, 64));
    this.decoder = dense(D, W * F, rng, `${p}/decoder`);
    this.proj1 = dense(D, D, rng, `${p}/proj1`);
    this.proj2 = dense(D, P, rng, `${p}/proj2`);
    this.order1 = dense(2 * D, 32, rng, `${p}/order1`);
    this.order2 = dense(32, 1, rng, `${p}/order2`);
    this.next = dense(D, 2, rng, `${p}/next`);
  }
  get variables(): tf.Variable[] {
    return [this.decoder, this.proj1, this.proj2, this.order1, this.order2, this.next].flatMap((d) => [d.w, d.b]);
  }
  dispose(): void {
    this.variables.forEach((v) => v.dispose());
  }
}

interface SslBatch {
  masked?: { x: Float32Array; input: Float32Array; mask: Float32Array };
  contrastive?: { a: Float32Array; b: Float32Array };
  order?: { first: Float32Array; second: Float32Array; label: Float32Array };
  next?: { x: Float32Array; sign: Float32Array; size: Float32Array };
  n: number;
}

function sampleBatch(src: SslSource, objectives: readonly SslObjective[], n: number, o: SamplerOptions, meanAbs: number, rng: Rng): SslBatch {
  const W = o.windowLength;
  const F = src.matrices[0]!.cols;
  const anchors = sampleAnchors(src, n, o.negativeMinGap, rng.split('anchors'));
  const x = windowsOf(src, anchors, W);
  const b: SslBatch = { n };
  for (const obj of objectives) {
    if (obj === 'masked') {
      const mask = sampleMask(n, W, o.maskRatio, rng.split('mask'));
      b.masked = { x, input: applyMask(x, mask, W, F), mask };
    } else if (obj === 'contrastive') {
      const r = rng.split('contrastive');
      const pos = windowsOf(src, positivesOf(src, anchors, o.positiveMaxShift, r), W);
      b.contrastive = { a: augment(x, n, W, F, o, r), b: augment(pos, n, W, F, o, r) };
    } else if (obj === 'order') {
      const p = orderPairs(src, anchors, o.orderMinGap, o.orderMaxGap, rng.split('order'));
      b.order = { first: windowsOf(src, p.first, W), second: windowsOf(src, p.second, W), label: p.label };
    } else {
      const t = nextStepTargets(src, anchors, meanAbs);
      b.next = { x, ...t };
    }
  }
  return b;
}

/** The per-objective losses of one batch (inside a gradient tape or a tidy). */
function objectiveLosses(encoder: TrainableEncoder, heads: SslHeads, b: SslBatch, temperature: number, training: boolean): Map<SslObjective, tf.Scalar> {
  const [W, F] = encoder.inputShape;
  const n = b.n;
  const enc = (x: Float32Array, rows: number) => encoder.apply(tf.tensor3d(x, [rows, W, F]), { training });
  const out = new Map<SslObjective, tf.Scalar>();
  if (b.masked) {
    const z = enc(b.masked.input, n);
    const recon = tf.reshape(applyDense(heads.decoder, z), [n, W, F]) as tf.Tensor3D;
    out.set('masked', maskedReconstructionLoss(recon, tf.tensor3d(b.masked.x, [n, W, F]), tf.tensor2d(b.masked.mask, [n, W])));
  }
  if (b.contrastive) {
    const both = new Float32Array(2 * n * W * F);
    both.set(b.contrastive.a);
    both.set(b.contrastive.b, n * W * F);
    const z = enc(both, 2 * n);
    const p = applyDense(heads.proj2, tf.relu(applyDense(heads.proj1, z)) as tf.Tensor2D);
    out.set('contrastive', infoNceLoss(tf.slice(p, [0, 0], [n, -1]), tf.slice(p, [n, 0], [n, -1]), temperature));
  }
  if (b.order) {
    const both = new Float32Array(2 * n * W * F);
    both.set(b.order.first);
    both.set(b.order.second, n * W * F);
    const z = enc(both, 2 * n);
    const pair = tf.concat([tf.slice(z, [0, 0], [n, -1]), tf.slice(z, [n, 0], [n, -1])], 1) as tf.Tensor2D;
    const logit = applyDense(heads.order2, tf.relu(applyDense(heads.order1, pair)) as tf.Tensor2D);
    out.set('order', binaryLogitLoss(logit, tf.tensor2d(b.order.label, [n, 1])));
  }
  if (b.next) {
    const z = enc(b.next.x, n);
    const o = applyDense(heads.next, z);
    const signLoss = binaryLogitLoss(tf.slice(o, [0, 0], [n, 1]), tf.tensor2d(b.next.sign, [n, 1]));
    const sizeLoss = tf.mean(tf.square(tf.sub(tf.slice(o, [0, 1], [n, 1]), tf.tensor2d(b.next.size, [n, 1]))));
    out.set('next-step', tf.add(signLoss, sizeLoss) as tf.Scalar);
  }
  return out;
}

export interface PretrainResult {
  readonly history: PretrainEpoch[];
  readonly aborted: boolean;
  readonly reachedReconstructionTarget: boolean;
}

/** Pre-trains `encoder` in place on the training source; validation losses on the validation source. */
export async function pretrainEncoder(
  encoder: TrainableEncoder,
  sources: { train: SslSource; val: SslSource },
  configInput: PretrainConfigInput | PretrainConfig = {},
  hooks: PretrainHooks = {},
): Promise<PretrainResult> {
  const c = parsePretrainConfig(configInput);
  const [W, F] = encoder.inputShape;
  checkSource(sources.train, W);
  checkSource(sources.val, W);
  if (sources.train.matrices[0]!.cols !== F) throw new DataError(`features have ${sources.train.matrices[0]!.cols} columns, the encoder expects ${F}`);
  const o: SamplerOptions = {
    windowLength: W,
    maskRatio: c.maskRatio,
    positiveMaxShift: c.positiveMaxShift,
    jitterStd: c.jitterStd,
    scaleStd: c.scaleStd,
    negativeMinGap: c.negativeMinGap ?? 2 * W,
    orderMinGap: c.orderMinGap ?? W,
    orderMaxGap: c.orderMaxGap ?? 4 * W,
  };
  const objectives = [...new Set(c.objectives)];
  const weight = (k: SslObjective) => c.weights[k] ?? 1;
  const rng = new Rng(`${c.seed}:pretrain`);
  const heads = new SslHeads(encoder.outputDim, W, F, rng.split('heads'));
  const vars = [...encoder.trainableVariables, ...heads.variables];
  const adam = new Adam(vars);
  const schedule = new LrSchedule({ type: 'cosine', warmupSteps: c.warmupSteps, minLrRatio: 0.05 }, c.learningRate, c.epochs * c.stepsPerEpoch);
  const meanAbs = meanAbsNextReturn(sources.train);
  // the validation batches are fixed for the whole run so epochs compare like with like
  const valBatches = Array.from({ length: c.valBatches }, (_, i) => sampleBatch(sources.val, objectives, c.batchSize, o, meanAbs, new Rng(`${c.seed}:val:${i}`)));
  const history: PretrainEpoch[] = [];
  let aborted = false;
  let reached = false;
  let step = 0;
  try {
    for (let epoch = 0; epoch < c.epochs && !aborted && !reached; epoch++) {
      const t0 = Date.now();
      const sums = new Map<SslObjective, number>();
      const bar = c.progress ? new ProgressBar({ total: c.stepsPerEpoch, label: `pretrain ${epoch + 1}/${c.epochs}`, unit: 'steps' }) : null;
      for (let s = 0; s < c.stepsPerEpoch; s++) {
        if (hooks.signal?.aborted) {
          aborted = true;
          break;
        }
        const batch = sampleBatch(sources.train, objectives, c.batchSize, o, meanAbs, new Rng(`${c.seed}:pretrain:${step}`));
        let parts: [SslObjective, number][] = [];
        const { value, grads } = tf.variableGrads(() => {
          const ls = objectiveLosses(encoder, heads, batch, c.temperature, true);
          parts = [...ls].map(([k, v]) => [k, v.dataSync()[0]!]);
          let total: tf.Scalar | null = null;
          for (const [k, v] of ls) {
            const wv = tf.mul(v, weight(k)) as tf.Scalar;
            total = total ? (tf.add(total, wv) as tf.Scalar) : wv;
          }
          const aux = encoder.auxLoss();
          return aux ? tf.add(total!, aux) : total!;
        }, vars);
        value.dispose();
        const gs = vars.map((v) => grads[v.name] ?? null);
        adam.apply(gs, schedule.lrAt(step), clipScale(globalNorm(gs), c.clipNorm));
        tf.dispose(gs.filter((g): g is tf.Tensor => g !== null));
        for (const [k, v] of parts) sums.set(k, (sums.get(k) ?? 0) + v);
        step++;
        bar?.tick(1, parts.map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' | '));
      }
      if (aborted) break;
      const val = new Map<SslObjective, number>();
      for (const b of valBatches) {
        tf.tidy(() => {
          for (const [k, v] of objectiveLosses(encoder, heads, b, c.temperature, false)) val.set(k, (val.get(k) ?? 0) + v.dataSync()[0]! / valBatches.length);
        });
      }
      const rec: PretrainEpoch = {
        epoch,
        train: Object.fromEntries([...sums].map(([k, v]) => [k, v / c.stepsPerEpoch])),
        val: Object.fromEntries(val),
        valTotal: [...val].reduce((a, [k, v]) => a + weight(k) * v, 0),
        timeMs: Date.now() - t0,
        numTensors: tf.memory().numTensors,
      };
      history.push(rec);
      bar?.done(`val ${rec.valTotal.toFixed(4)}`);
      if (c.logPath) {
        await mkdir(path.dirname(c.logPath), { recursive: true });
        await appendFile(c.logPath, JSON.stringify({ phase: 'pretrain', ...rec }) + '\n');
      }
      await hooks.onEpoch?.(rec);
      if (hooks.stopAtReconstructionLoss !== undefined && epoch + 1 >= (hooks.minEpochs ?? 0) && (rec.val.masked ?? Infinity) <= hooks.stopAtReconstructionLoss) reached = true;
    }
  } finally {
    adam.dispose();
    heads.dispose();
  }
  return { history, aborted, reachedReconstructionTarget: reached };
}
