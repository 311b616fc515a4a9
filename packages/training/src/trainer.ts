/**
 * The multi-task training loop: seeded shuffles inside the training split only, per-task losses,
 * the chosen harmoniser and gradient mode, Adam with warm-up + cosine decay or reduce-on-plateau,
 * global-norm clipping, early stopping on the validation loss (sum of the per-task losses), a
 * checkpoint after every epoch and exact resume, a progress bar and a JSONL log.
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactError, ConfigError, DataError, ProgressBar, Rng } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';
import { Adam } from './adam.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type TensorBlock } from './checkpoint.js';
import { epochStepCount, parseTrainingConfig, type TrainingConfig, type TrainingConfigInput } from './config.js';
import { evaluateSplit } from './evaluate.js';
import { Harmoniser, type HarmoniserState } from './harmoniser.js';
import { LrSchedule, type ScheduleState } from './schedule.js';
import { withInputNoise } from './augment.js';
import { checkSplit, gatherBatch, sampleWeightSums, type MultiTaskSplit } from './split.js';
import { clipScale, computeStepGradients, globalNorm, trainableVariablesOf, type MultiTaskParts } from './step.js';
import { openDataParallel, type DataParallelPool, type PartsRecipe } from './data-parallel.js';
import { WeightAverage } from './weight-average.js';

export interface TrainingData {
  readonly train: MultiTaskSplit;
  readonly val: MultiTaskSplit;
}

export interface EpochRecord {
  readonly epoch: number;
  readonly phase?: string;
  readonly lr: number;
  readonly trainLoss: Record<string, number>;
  readonly valLoss: Record<string, number>;
  readonly valTotal: number;
  readonly valMetrics: Record<string, Record<string, number>>;
  readonly weights: Record<string, number>;
  readonly harmoniser: Record<string, number[]>;
  readonly gradNorm: number;
  readonly timeMs: number;
  readonly numTensors: number;
}

export interface TrainHooks {
  /** Return 'stop' to end training after this epoch (a normal finish: best weights are restored). */
  onEpoch?(record: EpochRecord): void | 'stop' | Promise<void | 'stop'>;
  /** Aborting stops between batches; the last completed epoch's checkpoint stays. */
  readonly signal?: AbortSignal;
  /** Continue from the checkpoint in config.checkpointDir when there is one. */
  readonly resume?: boolean;
  /** Label for logs (curriculum phase name). */
  readonly phase?: string;
  readonly progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** How worker threads rebuild the model for data-parallel training (config.workers); without it, one thread. */
  readonly dataParallel?: PartsRecipe;
}

export interface TrainResult {
  readonly history: EpochRecord[];
  readonly bestEpoch: number;
  readonly bestValLoss: number;
  readonly stoppedEarly: boolean;
  readonly aborted: boolean;
  readonly resumedFromEpoch: number | null;
  /** Validation loss per task of the weights the run started from (before any step). */
  readonly initialValLoss: Record<string, number>;
}

interface LoopState {
  initial: Record<string, number>;
  history: EpochRecord[];
  best: number;
  bestEpoch: number;
  bad: number;
}

function allVariables(parts: MultiTaskParts): tf.Variable[] {
  return [...parts.encoder.variables, ...parts.heads.flatMap((h) => [...h.variables])];
}

/** A copy of the variables' values (best weights, the raw weights while the average is in, a head refit's start). */
export function snapshot(vars: readonly tf.Variable[]): TensorBlock[] {
  return vars.map((v) => ({ name: v.name, shape: v.shape, data: new Float32Array(v.dataSync() as Float32Array) }));
}

/** Puts a snapshot (or checkpoint blocks) back into the variables, shape-checked; `what` names the source in errors. */
export function restore(vars: readonly tf.Variable[], blocks: readonly TensorBlock[], what: string): void {
  if (blocks.length !== vars.length) throw new ArtifactError(`${what}: holds ${blocks.length} variables, the model has ${vars.length}`);
  vars.forEach((v, i) => {
    const b = blocks[i]!;
    if (b.data.length !== v.size || b.shape.join('x') !== v.shape.join('x')) {
      throw new ArtifactError(`${what}: variable ${i} (${v.name}) has shape [${v.shape}], the checkpoint has [${b.shape}] (${b.name})`);
    }
    tf.tidy(() => v.assign(tf.tensor(b.data, v.shape, v.dtype)));
  });
}

function byTask(parts: MultiTaskParts, xs: readonly number[]): Record<string, number> {
  return Object.fromEntries(parts.tasks.map((t, i) => [t.id, xs[i]!]));
}

export async function trainMultiTask(
  parts: MultiTaskParts,
  data: TrainingData,
  configInput: TrainingConfigInput | TrainingConfig,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const dp = await openDataParallel(parts, parseTrainingConfig(configInput), hooks.dataParallel);
  try {
    return await trainLoop(parts, data, configInput, hooks, dp);
  } finally {
    await dp?.close();
  }
}

async function trainLoop(
  parts: MultiTaskParts,
  data: TrainingData,
  configInput: TrainingConfigInput | TrainingConfig,
  hooks: TrainHooks,
  dp: DataParallelPool | null,
): Promise<TrainResult> {
  const config = parseTrainingConfig(configInput);
  const T = parts.tasks.length;
  if (T === 0) throw new ConfigError('no tasks to train', 'tasks');
  if (parts.heads.length !== T) throw new ConfigError(`${parts.heads.length} heads for ${T} tasks`, 'heads');
  checkSplit(data.train, 'train split');
  checkSplit(data.val, 'validation split');
  if (data.train.n === 0) throw new DataError('the training split is empty');
  if (data.val.n === 0) throw new DataError('the validation split is empty: early stopping and checkpoints need validation windows (raise valFraction or supply more candles)');
  const [W, F] = parts.encoder.inputShape;
  if (data.train.windowLength !== W || data.train.featureCount !== F) {
    throw new DataError(`windows are [${data.train.windowLength}, ${data.train.featureCount}], the encoder expects [${W}, ${F}]`);
  }

  const trainVars = trainableVariablesOf(parts);
  const vars = allVariables(parts);
  const adam = new Adam(trainVars, { beta1: config.beta1, beta2: config.beta2, weightDecay: config.weightDecay });
  // the averaged weights (training.emaDecay) are what validation, early stopping and the final model see
  const ema = config.emaDecay !== undefined ? new WeightAverage(trainVars, config.emaDecay) : null;
  const averaged = (): TensorBlock[] => ema!.values().map((data, i) => ({ name: `${trainVars[i]!.name}/ema`, shape: trainVars[i]!.shape, data }));
  if (config.taskWeights) {
    for (const id of Object.keys(config.taskWeights)) if (!parts.tasks.some((t) => t.id === id)) throw new ConfigError(`no task '${id}' in this run`, `training.taskWeights.${id}`);
  }
  const scale = config.taskWeights ? parts.tasks.map((t) => config.taskWeights![t.id] ?? 1) : undefined;
  const harmoniser = new Harmoniser(config.harmoniser, parts.tasks.map((t) => t.kind), scale);
  const batchesPerEpoch = epochStepCount(data.train.n, config);
  const stream = data.train.sampleWeights
    ? new WeightedBatchStream(config.seed, data.train.sampleWeights, config.batchSize)
    : config.stepsPerEpoch === undefined
      ? null
      : new BatchStream(config.seed, data.train.n, config.batchSize);
  const schedule = new LrSchedule(config.schedule, config.learningRate, batchesPerEpoch * config.epochs);
  const st: LoopState = { initial: {}, history: [], best: Number.POSITIVE_INFINITY, bestEpoch: -1, bad: 0 };
  let bestWeights: TensorBlock[] | null = null;
  let startEpoch = 0;
  let globalStep = 0;
  let resumedFromEpoch: number | null = null;
  // sample weights draw other batches: a checkpoint made under other weights (or none) must not be resumed
  const sw = data.train.sampleWeights ? weightDigest(data.train.sampleWeights) : undefined;
  const fingerprint = JSON.stringify({ ...config, checkpointDir: undefined, logPath: undefined, progress: undefined, workers: undefined, tasks: parts.tasks.map((t) => t.id), ...(sw ? { sampleWeights: sw } : {}) });

  if (hooks.resume && config.checkpointDir && hasCheckpoint(config.checkpointDir)) {
    const ck = await loadCheckpoint(config.checkpointDir);
    if (ck.meta.state.fingerprint !== fingerprint) {
      throw new ArtifactError(`the checkpoint in ${config.checkpointDir} was made with a different training config, task list or sample weights; remove it or use the same config`);
    }
    restore(vars, ck.groups.variables ?? [], 'checkpoint variables');
    const mBlocks = ck.groups['adam.m'] ?? [];
    const vBlocks = ck.groups['adam.v'] ?? [];
    adam.setState({ step: ck.meta.state.adamStep as number, m: mBlocks.map((b) => b.data), v: vBlocks.map((b) => b.data) });
    harmoniser.setState(ck.meta.state.harmoniser as HarmoniserState);
    if (ema) ema.setState({ updates: ck.meta.state.emaUpdates as number, values: (ck.groups.ema ?? []).map((b) => b.data) });
    schedule.setState(ck.meta.state.schedule as ScheduleState);
    const loop = ck.meta.state.loop as LoopState;
    // JSON writes Infinity as null
    Object.assign(st, loop, { best: loop.best ?? Number.POSITIVE_INFINITY });
    bestWeights = ck.groups.best ?? null;
    startEpoch = ck.meta.epoch + 1;
    globalStep = ck.meta.globalStep;
    resumedFromEpoch = ck.meta.epoch;
    // the log may hold the line of an epoch whose checkpoint the crash prevented: that epoch reruns
    if (config.logPath) await truncateLog(config.logPath, ck.meta.epoch, hooks.phase);
  }

  if (resumedFromEpoch === null) st.initial = byTask(parts, evaluateSplit(parts, data.val, config.batchSize).losses);
  // a run that had already stopped early stays stopped (its last checkpoint is the stopping epoch's)
  let stoppedEarly = resumedFromEpoch !== null && st.bad > config.earlyStopping.patience;
  let aborted = false;
  for (let epoch = startEpoch; epoch < config.epochs && !stoppedEarly; epoch++) {
    const t0 = Date.now();
    const perm = stream ? null : new Rng(`${config.seed}:shuffle:${epoch}`).permutation(data.train.n);
    const bar = config.progress ? new ProgressBar({ total: batchesPerEpoch, label: `${hooks.phase ? hooks.phase + ' ' : ''}epoch ${epoch + 1}/${config.epochs}`, unit: 'batches', stream: hooks.progressStream }) : null;
    const lossSums = new Float64Array(T);
    let seen = 0;
    let normSum = 0;
    let lr = 0;
    for (let b = 0; b < batchesPerEpoch; b++) {
      if (hooks.signal?.aborted) {
        aborted = true;
        break;
      }
      const idx = perm ? perm.subarray(b * config.batchSize, Math.min(data.train.n, (b + 1) * config.batchSize)) : stream!.batch(epoch * batchesPerEpoch + b);
      const batch = config.inputNoise > 0 ? withInputNoise(gatherBatch(data.train, idx), config.inputNoise, new Rng(`${config.seed}:noise:${globalStep}`)) : gatherBatch(data.train, idx);
      const rngKey = `${config.seed}:step:${globalStep}`;
      const r = dp ? dp.computeStepGradients(parts, batch, harmoniser, config.gradientMode, rngKey) : computeStepGradients(parts, batch, harmoniser, config.gradientMode, new Rng(rngKey));
      // clipping: the norm read from the gradients' memory, the scale applied by Adam as it reads them
      const norm = globalNorm(r.grads);
      lr = schedule.lrAt(globalStep);
      adam.apply(r.grads, lr, clipScale(norm, config.clipNorm));
      ema?.update();
      tf.dispose(r.grads.filter((g): g is tf.Tensor => g !== null));
      harmoniser.afterStep(r.losses, r.gradNorms);
      r.losses.forEach((l, i) => (lossSums[i]! += l * batch.n));
      seen += batch.n;
      normSum += norm;
      globalStep++;
      bar?.tick(1, parts.tasks.map((t, i) => `${t.id} ${r.losses[i]!.toFixed(4)} w${r.weights[i]!.toFixed(2)}`).join(' | '));
    }
    if (aborted) break;
    // validated (and, when best, kept) with the averaged weights; the raw ones go back before the checkpoint
    const raw = ema ? snapshot(trainVars) : null;
    if (ema) restore(trainVars, averaged(), 'averaged weights');
    const ev = evaluateSplit(parts, data.val, config.batchSize);
    const valTotal = ev.losses.reduce((a, c) => a + c, 0);
    schedule.onEpochEnd(valTotal);
    const record: EpochRecord = {
      epoch,
      ...(hooks.phase ? { phase: hooks.phase } : {}),
      lr,
      trainLoss: byTask(parts, Array.from(lossSums, (s) => s / seen)),
      valLoss: byTask(parts, ev.losses),
      valTotal,
      valMetrics: Object.fromEntries(parts.tasks.map((t, i) => [t.id, ev.metrics[i]!])),
      weights: byTask(parts, harmoniser.lastWeights()),
      harmoniser: harmoniser.diagnostics(),
      gradNorm: normSum / batchesPerEpoch,
      timeMs: Date.now() - t0,
      numTensors: tf.memory().numTensors,
    };
    st.history.push(record);
    bar?.done(`val ${valTotal.toFixed(4)}`);
    if (Number.isFinite(valTotal) && valTotal < st.best - config.earlyStopping.minDelta) {
      st.best = valTotal;
      st.bestEpoch = epoch;
      st.bad = 0;
      if (config.earlyStopping.restoreBest) bestWeights = snapshot(vars);
    } else {
      st.bad++;
      if (st.bad > config.earlyStopping.patience) stoppedEarly = true;
    }
    if (raw) restore(trainVars, raw, 'raw weights');
    if (config.logPath) {
      await mkdir(path.dirname(config.logPath), { recursive: true });
      await appendFile(config.logPath, JSON.stringify(record) + '\n');
    }
    if (config.checkpointDir) {
      const a = adam.getState();
      await saveCheckpoint(
        config.checkpointDir,
        {
          epoch,
          globalStep,
          rng: { seed: config.seed, epoch: epoch + 1, step: globalStep },
          state: { fingerprint, adamStep: a.step, harmoniser: harmoniser.getState(), schedule: schedule.getState(), loop: st, ...(ema ? { emaUpdates: ema.updates } : {}) },
        },
        {
          variables: snapshot(vars),
          'adam.m': a.m.map((d, i) => ({ name: `${trainVars[i]!.name}/m`, shape: trainVars[i]!.shape, data: d })),
          'adam.v': a.v.map((d, i) => ({ name: `${trainVars[i]!.name}/v`, shape: trainVars[i]!.shape, data: d })),
          ...(bestWeights ? { best: bestWeights } : {}),
          ...(ema ? { ema: averaged() } : {}),
        },
      );
    }
    if ((await hooks.onEpoch?.(record)) === 'stop') break;
  }
  if (!aborted && config.earlyStopping.restoreBest && bestWeights) restore(vars, bestWeights, 'best weights');
  else if (!aborted && ema) restore(trainVars, averaged(), 'averaged weights'); // no best epoch to restore: the model ends on the average
  adam.dispose();
  return { history: st.history, bestEpoch: st.bestEpoch, bestValLoss: st.best, stoppedEarly, aborted, resumedFromEpoch, initialValLoss: st.initial };
}

/** A short digest of sample weights for the checkpoint fingerprint: count, sum and sum of squares (12 significant digits). */
function weightDigest(w: Float64Array): string {
  const { sum, sumSq } = sampleWeightSums(w);
  return `${w.length}:${sum.toPrecision(12)}:${sumSq.toPrecision(12)}`;
}

/**
 * Keeps the JSONL log's lines up to `lastEpoch` (of this phase; other phases' lines stay), so a
 * resumed run's log has each epoch once. Written to a temporary file and renamed.
 */
async function truncateLog(file: string, lastEpoch: number, phase: string | undefined): Promise<void> {
  if (!existsSync(file)) return;
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim());
  const kept = lines.filter((l) => {
    try {
      const r = JSON.parse(l) as { epoch?: unknown; phase?: unknown };
      return r.phase !== phase || typeof r.epoch !== 'number' || r.epoch <= lastEpoch;
    } catch {
      return false; // a line torn by the crash
    }
  });
  if (kept.length === lines.length) return;
  await writeFile(file + '.tmp', kept.map((l) => l + '\n').join(''));
  await rename(file + '.tmp', file);
}

/**
 * training.stepsPerEpoch's batches: step s takes the windows at positions [s * batchSize, (s + 1) *
 * batchSize) of the endless sequence pass 0, pass 1, ... where pass k is the seeded permutation
 * `${seed}:stream:${k}` of the n training windows. Every batch is full (one may span two passes), each
 * window comes once per pass, and a step's batch depends only on (seed, n, batchSize, step): a resumed
 * run draws the batches the uninterrupted one would have.
 */
export class BatchStream {
  private readonly passes = new Map<number, Int32Array>();

  constructor(
    private readonly seed: number,
    private readonly n: number,
    private readonly batchSize: number,
  ) {
    if (!(n > 0)) throw new DataError('a batch stream needs at least one training window');
  }

  /** The window indices of optimiser step `step` (0-based, counted over the whole run). */
  batch(step: number): Int32Array {
    const out = new Int32Array(this.batchSize);
    let pos = step * this.batchSize;
    for (let i = 0; i < this.batchSize; i++, pos++) {
      const k = Math.floor(pos / this.n);
      out[i] = this.pass(k)[pos - k * this.n]!;
    }
    return out;
  }

  private pass(k: number): Int32Array {
    let p = this.passes.get(k);
    if (!p) {
      p = new Rng(`${this.seed}:stream:${k}`).permutation(this.n);
      // a batch reads at most two passes in a row: keep the newest two
      for (const old of this.passes.keys()) if (old < k - 1) this.passes.delete(old);
      this.passes.set(k, p);
    }
    return p;
  }
}

/**
 * The batches of a training split with sample weights (MultiTaskSplit.sampleWeights): step s draws
 * batchSize windows independently, with replacement, window i with probability w_i / sum(w), from
 * the seeded stream `${seed}:weighted:${s}`. A step's batch depends only on (seed, weights,
 * batchSize, step), so a resumed run draws the batches the uninterrupted one would have. Windows of
 * weight 0 are never drawn.
 */
export class WeightedBatchStream {
  private readonly cdf: Float64Array;

  constructor(
    private readonly seed: number,
    weights: ArrayLike<number>,
    private readonly batchSize: number,
  ) {
    const n = weights.length;
    if (!(n > 0)) throw new DataError('a weighted batch stream needs at least one training window');
    sampleWeightSums(weights);
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) this.cdf[i] = sum += weights[i]!;
  }

  /** The window indices of optimiser step `step` (0-based, counted over the whole run). */
  batch(step: number): Int32Array {
    const rng = new Rng(`${this.seed}:weighted:${step}`);
    const cdf = this.cdf;
    const total = cdf[cdf.length - 1]!;
    const out = new Int32Array(this.batchSize);
    for (let k = 0; k < this.batchSize; k++) {
      const u = rng.next() * total;
      // the first i with cdf[i] > u (so a window of weight 0, whose cdf equals its predecessor's, is skipped)
      let lo = 0;
      let hi = cdf.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      out[k] = lo;
    }
    return out;
  }
}
