/**
 * One multi-task gradient computation, in either gradient mode:
 *
 * - 'parameter': per-task gradients with respect to all shared parameters where the harmoniser
 *   needs them (PCGrad: one forward+backward per task; GradNorm: per-task norms on the last shared
 *   weight W), otherwise one backward pass of the weighted sum.
 * - 'representation': the MGDA-UB shortcut. The encoder runs once (inside the gradient tape) to
 *   give z; every task's dL_i/dz (and its head gradients) is computed on the cheap heads over a
 *   detached copy of z; the harmoniser combines the dL_i/dz into one dz; then ONE encoder
 *   backward pass propagates dz (a vector-Jacobian product, the gradient of sum(z * dz) with dz
 *   held constant).
 *
 * Returns gradients aligned to `variables` (encoder trainables, then every head's variables).
 *
 * With a `collective` (data-parallel training, see data-parallel.ts) the batch is this rank's
 * slice: losses, per-task gradients, gradient norms and the returned gradients are reduced over
 * all ranks to their full-batch values (each slice's mean weighted by its share of the rows).
 */
import type { Rng } from '@task-agnostic/core';
import { DataError } from '@task-agnostic/core';
import { KernelRunner, tf } from '@task-agnostic/tf';
import type { TaskStateLike, TrainableEncoder, TrainableHead, TrainableTask } from './contracts.js';
import { reduceGradients, reduceLosses, tensorValues, type StepCollective } from './collective.js';
import type { Harmoniser } from './harmoniser.js';
import { pcgradCombine, pcgradOrders } from './pcgrad.js';

export type GradientMode = 'parameter' | 'representation';

export interface MultiTaskParts {
  readonly encoder: TrainableEncoder;
  readonly heads: readonly TrainableHead[];
  readonly tasks: readonly TrainableTask[];
  /** When true only the heads train (task transfer on a frozen encoder). */
  readonly freezeEncoder?: boolean;
  /** Each task's fitted state, passed to its loss (fitted class weights). */
  readonly taskStates?: readonly TaskStateLike[];
}

/** Task i's loss with its fitted state when there is one. */
export function taskLoss(parts: MultiTaskParts, i: number, output: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  const st = parts.taskStates?.[i];
  return st ? parts.tasks[i]!.loss(output, targets, st) : parts.tasks[i]!.loss(output, targets);
}

/** A batch: windows [n, T, F] and, per task, targets [n, targetDim]. */
export interface MultiTaskBatch {
  readonly x: Float32Array;
  readonly n: number;
  readonly targets: readonly Float32Array[];
  readonly targetDims: readonly number[];
}

export interface StepGradients {
  readonly grads: (tf.Tensor | null)[];
  readonly losses: number[];
  readonly weights: number[];
  readonly gradNorms: number[] | null;
}

export function trainableVariablesOf(parts: MultiTaskParts): tf.Variable[] {
  const shared = parts.freezeEncoder ? [] : [...parts.encoder.trainableVariables];
  return [...shared, ...parts.heads.flatMap((h) => [...h.variables])];
}

function inputs(parts: MultiTaskParts, batch: MultiTaskBatch): { x: tf.Tensor3D; ys: tf.Tensor2D[] } {
  const [T, F] = parts.encoder.inputShape;
  if (batch.x.length !== batch.n * T * F) throw new DataError(`batch windows hold ${batch.x.length} values, expected n*T*F = ${batch.n}*${T}*${F}`);
  if (batch.targets.length !== parts.tasks.length) throw new DataError(`batch has targets for ${batch.targets.length} tasks, model has ${parts.tasks.length}`);
  const x = tf.tensor3d(batch.x, [batch.n, T, F]);
  const ys = batch.targets.map((t, i) => tf.tensor2d(t, [batch.n, batch.targetDims[i]!]));
  return { x, ys };
}

function scalarValue(t: tf.Tensor): number {
  const v = t.dataSync()[0]!;
  if (!Number.isFinite(v)) throw new DataError(`a training loss became ${v}; lower the learning rate or check the data for outliers`);
  return v;
}

function norm(t: tf.Tensor): number {
  return tf.tidy(() => Math.sqrt(tf.sum(tf.square(t)).dataSync()[0]!));
}

/** Computes this step's gradients; the caller disposes `grads`. */
export function computeStepGradients(
  parts: MultiTaskParts,
  batch: MultiTaskBatch,
  harmoniser: Harmoniser,
  mode: GradientMode,
  rng: Rng,
  collective?: StepCollective,
): StepGradients {
  const variables = trainableVariablesOf(parts);
  const { x, ys } = inputs(parts, batch);
  try {
    // Loss weighting is linear, so for methods that need neither per-task gradients nor their
    // norms representation mode equals one backward pass of the weighted sum: take that path.
    const perTask = harmoniser.projectsGradients || harmoniser.needsGradNorms;
    if ((mode === 'representation' && perTask) || parts.freezeEncoder) return representationStep(parts, x, ys, harmoniser, rng, variables, collective);
    if (harmoniser.projectsGradients) return pcgradParameterStep(parts, x, ys, harmoniser, rng, variables, collective);
    return weightedParameterStep(parts, x, ys, harmoniser, variables, collective);
  } finally {
    x.dispose();
    ys.forEach((y) => y.dispose());
  }
}

function weightedParameterStep(
  parts: MultiTaskParts,
  x: tf.Tensor3D,
  ys: tf.Tensor2D[],
  harmoniser: Harmoniser,
  variables: tf.Variable[],
  collective: StepCollective | undefined,
): StepGradients {
  let losses: number[] = [];
  let weights: number[] = [];
  // Where this step's task weights do not depend on this step's losses (every harmoniser but
  // loss-ratio), the slice losses are reduced with the final gradients instead of in a reduce of
  // their own in the middle of the forward pass: one barrier fewer per step (each is a point where
  // a preempted rank stalls the others).
  const deferLosses = collective?.allReduceScaled !== undefined && !harmoniser.weightsUseLosses;
  const { value, grads } = tf.variableGrads(() => {
    const z = parts.encoder.apply(x, { training: true });
    const aux = parts.encoder.auxLoss();
    const ls = parts.tasks.map((_, i) => taskLoss(parts, i, parts.heads[i]!.apply(z, { training: true }), ys[i]!));
    losses = deferLosses ? ls.map(scalarValue) : reduceLosses(collective, ls.map(scalarValue));
    weights = harmoniser.weights(losses);
    // weights enter as constants: scalars made from numbers carry no gradient
    let total = tf.mul(ls[0]!, weights[0]!) as tf.Scalar;
    for (let i = 1; i < ls.length; i++) total = tf.add(total, tf.mul(ls[i]!, weights[i]!));
    return aux ? tf.add(total, aux) : total;
  }, variables);
  value.dispose();
  let gradNorms: number[] | null = null;
  if (harmoniser.needsGradNorms) {
    const W = parts.encoder.lastSharedWeights;
    gradNorms = parts.tasks.map((_, i) => {
      const r = tf.variableGrads(() => taskLoss(parts, i, parts.heads[i]!.apply(parts.encoder.apply(x, { training: true }), { training: true }), ys[i]!), [W]);
      const g = collective ? reduceGradients(collective, [r.grads[W.name] ?? null], collective.fraction)[0] : r.grads[W.name];
      const n = g ? norm(g) : 0;
      r.value.dispose();
      if (collective) g?.dispose();
      tf.dispose(Object.values(r.grads));
      return n;
    });
  }
  const out = variables.map((v) => grads[v.name] ?? null);
  // deferred: the slice losses ride along in the final reduce (their sums replace them on rank 0)
  return { grads: collective ? reduceGradients(collective, out, collective.fraction, true, deferLosses ? losses : undefined) : out, losses, weights, gradNorms };
}

function flatten(gs: readonly (tf.Tensor | null | undefined)[], vars: readonly tf.Variable[]): tf.Tensor1D {
  return tf.tidy(() => tf.concat(vars.map((v, k) => (gs[k] ? tf.reshape(gs[k]!, [-1]) : tf.zeros([v.size]))) as tf.Tensor1D[]));
}

function unflatten(flat: tf.Tensor1D, vars: readonly tf.Variable[]): tf.Tensor[] {
  const parts = tf.split(flat, vars.map((v) => v.size));
  return parts.map((p, k) => {
    const r = tf.reshape(p, vars[k]!.shape);
    p.dispose();
    return r;
  });
}

function pcgradParameterStep(
  parts: MultiTaskParts,
  x: tf.Tensor3D,
  ys: tf.Tensor2D[],
  harmoniser: Harmoniser,
  rng: Rng,
  variables: tf.Variable[],
  collective: StepCollective | undefined,
): StepGradients {
  const shared = [...parts.encoder.trainableVariables];
  const T = parts.tasks.length;
  const flats: tf.Tensor1D[] = [];
  const headGrads = new Map<string, tf.Tensor>();
  const losses: number[] = [];
  for (let i = 0; i < T; i++) {
    const head = parts.heads[i]!;
    const { value, grads } = tf.variableGrads(() => {
      const z = parts.encoder.apply(x, { training: true });
      const aux = parts.encoder.auxLoss();
      const l = tf.mul(taskLoss(parts, i, head.apply(z, { training: true }), ys[i]!), harmoniser.scale[i]!) as tf.Scalar;
      // the auxiliary loss is shared out equally so the sum over tasks counts it once
      return aux ? tf.add(l, tf.div(aux, T)) : l;
    }, [...shared, ...head.variables]);
    losses.push(scalarValue(value));
    value.dispose();
    const flat = flatten(shared.map((v) => grads[v.name]), shared);
    flats.push(collective ? (reduceGradients(collective, [flat], collective.fraction)[0] as tf.Tensor1D) : flat);
    for (const v of shared) grads[v.name]?.dispose();
    const hv = head.variables.filter((v) => grads[v.name]);
    const hg = collective ? reduceGradients(collective, hv.map((v) => grads[v.name]!), collective.fraction) : hv.map((v) => grads[v.name]!);
    hv.forEach((v, k) => headGrads.set(v.name, hg[k]!));
  }
  const globalLosses = reduceLosses(collective, losses);
  const weights = harmoniser.weights(globalLosses);
  const combined = pcgradCombine(flats, pcgradOrders(T, rng));
  flats.forEach((f) => f.dispose());
  const sharedGrads = unflatten(combined, shared);
  combined.dispose();
  const byName = new Map<string, tf.Tensor>(shared.map((v, k) => [v.name, sharedGrads[k]!]));
  for (const [k, g] of headGrads) byName.set(k, g);
  return { grads: variables.map((v) => byName.get(v.name) ?? null), losses: globalLosses, weights, gradNorms: null };
}

interface HeadStage {
  /** The combined gradient w.r.t. z (kept: the caller disposes it). */
  readonly dz: tf.Tensor2D;
  /** Head gradients by variable name, already weighted (kept: the caller disposes them). */
  readonly headGrads: Map<string, tf.Tensor>;
  readonly losses: number[];
  readonly weights: number[];
  readonly gradNorms: number[] | null;
}

/**
 * Per-task losses and dL_i/dz on a detached copy of z (each task's head forward and backward
 * only), harmonised into one dz. Every returned tensor is tf.keep'ed so it survives an enclosing
 * gradient tape's scope.
 */
function headStage(parts: MultiTaskParts, z: tf.Tensor2D, ys: tf.Tensor2D[], harmoniser: Harmoniser, rng: Rng, collective: StepCollective | undefined): HeadStage {
  const T = parts.tasks.length;
  // a Variable shares z's values but starts a new gradient path (no tape node links it to z)
  const zVar = tf.variable(z, true);
  const dzs: tf.Tensor2D[] = [];
  const raw: Map<string, tf.Tensor>[] = [];
  const localLosses: number[] = [];
  try {
    for (let i = 0; i < T; i++) {
      const head = parts.heads[i]!;
      const { value, grads } = tf.variableGrads(
        () => taskLoss(parts, i, head.apply(zVar, { training: true }), ys[i]!),
        [zVar, ...head.variables],
      );
      localLosses.push(scalarValue(value));
      value.dispose();
      dzs.push((grads[zVar.name] as tf.Tensor2D | undefined) ?? tf.zerosLike(zVar));
      const m = new Map<string, tf.Tensor>();
      for (const v of head.variables) if (grads[v.name]) m.set(v.name, grads[v.name]!);
      raw.push(m);
    }
  } finally {
    zVar.dispose();
  }
  const losses = reduceLosses(collective, localLosses);
  const weights = harmoniser.weights(losses);
  // A slice's dL_i/dz rows are the full batch's rows times n / rows (the slice mean's scale).
  const f = collective?.fraction ?? 1;
  let gradNorms: number[] | null = null;
  if (harmoniser.needsGradNorms) {
    if (!collective) gradNorms = dzs.map(norm);
    else {
      const sq = Float64Array.from(dzs, (d) => f * f * tf.tidy(() => tf.sum(tf.square(d)).dataSync()[0]!));
      gradNorms = Array.from(collective.allReduce(sq), Math.sqrt);
    }
  }
  const [n, D] = dzs[0]!.shape;
  const dz = tf.keep(
    tf.tidy(() => {
      if (harmoniser.projectsGradients) {
        if (collective) {
          // PCGrad's projections use dot products over the whole batch: gather every rank's rows.
          const full = dzs.map((d, i) => {
            const buf = new Float64Array(collective.totalRows * D);
            const local = d.dataSync();
            const s = f * harmoniser.scale[i]!;
            for (let k = 0; k < local.length; k++) buf[collective.rowOffset * D + k] = local[k]! * s;
            return tf.tensor1d(Float32Array.from(collective.allReduce(buf)));
          });
          const flat = pcgradCombine(full, pcgradOrders(T, rng));
          return tf.reshape(tf.slice(flat, [collective.rowOffset * D], [n * D]), [n, D]) as tf.Tensor2D;
        }
        const flat = pcgradCombine(dzs.map((d, i) => tf.reshape(tf.mul(d, harmoniser.scale[i]!), [-1]) as tf.Tensor1D), pcgradOrders(T, rng));
        return tf.reshape(flat, [n, D]) as tf.Tensor2D;
      }
      if (collective) {
        let acc = tf.mul(dzs[0]!, weights[0]! * f) as tf.Tensor2D;
        for (let i = 1; i < T; i++) acc = tf.add(acc, tf.mul(dzs[i]!, weights[i]! * f));
        return acc;
      }
      let acc = tf.mul(dzs[0]!, weights[0]!) as tf.Tensor2D;
      for (let i = 1; i < T; i++) acc = tf.add(acc, tf.mul(dzs[i]!, weights[i]!));
      return acc;
    }),
  );
  dzs.forEach((d) => d.dispose());
  const headGrads = new Map<string, tf.Tensor>();
  // PCGrad weights are 1 x scale, so this also applies curriculum scales to PCGrad's heads
  raw.forEach((m, i) => {
    if (collective) {
      const keys = [...m.keys()];
      const red = reduceGradients(collective, keys.map((k) => m.get(k)!), weights[i]! * f);
      keys.forEach((k, j) => headGrads.set(k, tf.keep(red[j]!)));
      return;
    }
    for (const [k, g] of m) {
      if (weights[i] === 1) headGrads.set(k, tf.keep(g));
      else {
        headGrads.set(k, tf.keep(tf.mul(g, weights[i]!)));
        g.dispose();
      }
    }
  });
  return { dz, headGrads, losses, weights, gradNorms };
}

/**
 * One encoder forward inside the gradient tape; the heads work on a detached copy of z (their
 * own small tapes, nested); the encoder's backward pass then propagates the combined dz once,
 * as the gradient of sum(z * dz) with dz a constant. One forward means one dropout mask.
 */
function representationStep(
  parts: MultiTaskParts,
  x: tf.Tensor3D,
  ys: tf.Tensor2D[],
  harmoniser: Harmoniser,
  rng: Rng,
  variables: tf.Variable[],
  collective: StepCollective | undefined,
): StepGradients {
  let stage: HeadStage | null = null;
  const byName = new Map<string, tf.Tensor>();
  try {
    if (parts.freezeEncoder) {
      const z = tf.tidy(() => parts.encoder.apply(x, { training: true }));
      try {
        stage = headStage(parts, z, ys, harmoniser, rng, collective);
      } finally {
        z.dispose();
      }
    } else {
      const shared = [...parts.encoder.trainableVariables];
      const { value, grads } = tf.variableGrads(() => {
        const z = parts.encoder.apply(x, { training: true });
        const aux = parts.encoder.auxLoss();
        stage = headStage(parts, z, ys, harmoniser, rng, collective);
        const vjp = tf.sum(tf.mul(z, stage.dz)) as tf.Scalar;
        return aux ? tf.add(vjp, collective ? tf.mul(aux, collective.fraction) : aux) : vjp;
      }, shared);
      value.dispose();
      // dz already carries each slice's share, so the encoder's gradients are summed as they are
      const sv = shared.filter((v) => grads[v.name]);
      const sg = collective ? reduceGradients(collective, sv.map((v) => grads[v.name]!), 1, true) : sv.map((v) => grads[v.name]!);
      sv.forEach((v, k) => {
        if (sg[k]) byName.set(v.name, sg[k]!);
      });
    }
  } finally {
    (stage as HeadStage | null)?.dz.dispose();
  }
  const st = stage as unknown as HeadStage;
  for (const [k, g] of st.headGrads) byName.set(k, g);
  return { grads: variables.map((v) => byName.get(v.name) ?? null), losses: st.losses, weights: st.weights, gradNorms: st.gradNorms };
}

/**
 * The global L2 norm of the gradients (nulls skipped): the squares summed in float64 straight from
 * the backend's memory on cpu and wasm (a copy elsewhere), with no tensor op. A training step used
 * to spend 2 kernels per variable and a read-back on it (~10% of a small model's kernels per step).
 */
export function globalNorm(grads: readonly (tf.Tensor | null)[]): number {
  const runner = KernelRunner.forCurrentBackend();
  let sum = 0;
  for (const g of grads) {
    if (!g) continue;
    // a view of the backend's memory is read at once, before any other allocation
    const v = tensorValues(runner, g);
    for (let k = 0; k < v.length; k++) sum += v[k]! * v[k]!;
  }
  return Math.sqrt(sum);
}

/** The factor that brings gradients of global norm `norm` within `maxNorm`: 1 when they are within it, when `maxNorm` <= 0 (no clipping) or when the norm is not finite. */
export function clipScale(norm: number, maxNorm: number): number {
  return !(maxNorm > 0) || norm <= maxNorm || !Number.isFinite(norm) ? 1 : maxNorm / norm;
}

/**
 * Scales gradients (returns new tensors, disposes old) so their global norm <= maxNorm. The
 * training loops pass `clipScale(globalNorm(grads), maxNorm)` to `Adam.apply` instead, which
 * scales as it reads (the same float32 values, no tensor per variable).
 */
export function clipByGlobalNorm(grads: (tf.Tensor | null)[], maxNorm: number): { grads: (tf.Tensor | null)[]; norm: number } {
  const total = globalNorm(grads);
  const scale = clipScale(total, maxNorm);
  if (scale === 1) return { grads, norm: total };
  const out = grads.map((g) => {
    if (!g) return null;
    const s = tf.mul(g, scale);
    g.dispose();
    return s;
  });
  return { grads: out, norm: total };
}
