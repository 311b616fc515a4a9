/**
 * Leave-symbols-out evaluation (`trainer lso`): the held-out symbols of a run (config
 * data.holdout), which pre-training, training, the normalisers and the label fits never saw, are
 * scored with the frozen encoder and heads, beside each task's naive baselines and beside a model
 * of the same config trained on that symbol alone.
 *
 * Each held-out symbol is prepared as a symbol the model never saw is at inference: features
 * scaled by a normaliser fitted on its own history before the evaluated rows (normalizerForSeries'
 * 'history' fallback: its training range), labels from task states fitted on the same rows. The
 * three contenders (universal, alone, baselines) are scored on the same test rows and the same
 * labels. Differences carry a paired stationary block bootstrap interval (core) over those rows.
 */
import { readFile } from 'node:fs/promises';
import { DataError, Rng } from '@task-agnostic/core';
import { blockBootstrap, difference, pooledDifference, type Difference, type PooledSeries } from './bootstrap.js';
import { gatherTargets } from '@task-agnostic/heads';
import { normalizerForSeries, type TaskAgnosticModel } from '@task-agnostic/model';
import {
  applyTaskBlend,
  buildDataset,
  defaultComponents,
  evaluateSplit,
  forecastCalibration,
  featurePipeline,
  fuseTaskRows,
  modelParts,
  parseTrainingConfig,
  epochStepCount,
  type MultiTaskDataset,
  type MultiTaskParts,
  type TrainableTask,
} from '@task-agnostic/training';
import type { TrainerConfig } from './config.js';
import { loadData, type SymbolData } from './data-source.js';
import { primaryMetric, type Verdict } from './evaluate-run.js';
import { configBoundaries, datasetOptions, scalarMetrics, trainRun, type Log } from './train-run.js';
import { screenSeries } from './universe.js';
import { aloneDir, loadAloneModel, saveAloneModel } from './alone-store.js';
import { alignOnTimestamps } from './against.js';
import { metricOnRows } from './intervals.js';

export interface LsoTaskResult {
  readonly task: string;
  readonly metric: string;
  readonly higherIsBetter: boolean;
  readonly universal: number;
  readonly alone: number | null;
  readonly bestBaseline: { readonly name: string; readonly value: number } | null;
  /** universal vs the best baseline (point estimate), and with its interval. */
  readonly vsBaseline: Verdict;
  readonly vsBaselineDiff: Difference | null;
  readonly vsAlone: Verdict;
  readonly vsAloneDiff: Difference | null;
}

export interface LsoSymbolResult {
  readonly symbol: string;
  readonly bars: number;
  readonly source: string;
  readonly testWindows: number;
  /** How the symbol's features were scaled (normalizerForSeries' note). */
  readonly normaliser: string;
  readonly tasks: readonly LsoTaskResult[];
  /** The single-symbol model's budget: training windows, epochs run, optimiser steps, wall and CPU seconds. */
  readonly alone: AloneBudget | null;
}

/** What a model's training cost: windows, epochs run (early stopping included), optimiser steps. */
export interface TrainingBudget {
  readonly trainWindows: number;
  readonly epochs: number;
  /** epochs x the steps of an epoch (training.stepsPerEpoch, else ceil(trainWindows / batchSize)): one optimiser step per batch. */
  readonly steps: number;
  /**
   * A seed ensemble's members, each with its own budget; the ensemble's epochs and steps above are
   * their SUMS (trainWindows: member 0's, the members train on the same windows).
   */
  readonly members?: readonly MemberBudget[];
}

/** One ensemble member's training budget. */
export interface MemberBudget extends TrainingBudget {
  readonly seed: number;
}

export interface AloneBudget extends TrainingBudget {
  /** The epoch cap it was given (early stopping may end it sooner). */
  readonly maxEpochs: number;
  readonly seconds: number;
  /** process CPU seconds (main thread and data-parallel workers) of its pre-training and training. */
  readonly cpuSeconds: number;
  /** Loaded from the run folder (<run>/alone/<SYMBOL>/) rather than trained now; the figures above are its training's. */
  readonly reused: boolean;
}

/** How a run counts optimiser steps per epoch: a batch size (one pass), or the training config (its stepsPerEpoch, else one pass). */
export type EpochSteps = number | { readonly batchSize: number; readonly stepsPerEpoch?: number | undefined };

/** Optimiser steps in one epoch over `trainWindows` windows: training.stepsPerEpoch, else ceil(windows / batchSize). */
export function stepsPerEpochOf(trainWindows: number, batch: EpochSteps): number {
  return epochStepCount(trainWindows, typeof batch === 'number' ? { batchSize: batch } : batch);
}

/** Optimiser steps of `epochs` epochs over `trainWindows` windows (stepsPerEpochOf). */
export function trainingSteps(trainWindows: number, epochs: number, batch: EpochSteps): number {
  return epochs * stepsPerEpochOf(trainWindows, batch);
}

/**
 * The optimiser steps `--alone-epochs match` gives an alone model: a run's steps, or for a seed
 * ensemble ONE member's, the members' mean (rounded), not their sum (the alone model is one model).
 */
export function stepsToMatch(b: TrainingBudget): number {
  if (!b.members?.length) return b.steps;
  return Math.round(b.members.reduce((a, m) => a + m.steps, 0) / b.members.length);
}

/**
 * The epoch cap that gives a model of `trainWindows` windows at least `steps` optimiser steps (the
 * universal run's; lso passes the stride-thinned count, so about that many), so the alone model
 * may train as long as the universal one did; early stopping on its own validation rows still
 * decides when it stops. At least 1.
 */
export function epochsForSteps(steps: number, trainWindows: number, batch: EpochSteps): number {
  if (!(trainWindows > 0)) throw new DataError(`cannot match a step budget with ${trainWindows} training windows`);
  return Math.max(1, Math.ceil(steps / stepsPerEpochOf(trainWindows, batch)));
}

export interface LsoReport {
  readonly heldOut: readonly string[];
  readonly skipped: readonly string[];
  readonly symbols: readonly LsoSymbolResult[];
  /**
   * Per task: on how many held-out symbols universal beats the best baseline / the alone model (point,
   * and significant), and the pooled differences: the mean over symbols of each symbol's difference,
   * its interval drawn on the symbols' common timeline (pooledDifference).
   */
  readonly summary: readonly LsoTaskSummary[];
  readonly bootstrap: { readonly resamples: number; readonly blockLength: number; readonly level: number };
  /** The universal run's budget, when known (from its training.json). */
  readonly universalBudget: TrainingBudget | null;
  /** `--against <run>`: the run vs another run on the same test rows and labels (null without it). */
  readonly against: LsoAgainst | null;
}

/** The run vs another run (lso --against), per held-out symbol and pooled per task. */
export interface LsoAgainst {
  /** The other run's folder. */
  readonly run: string;
  readonly symbols: readonly {
    readonly symbol: string;
    /** Test rows compared: those both runs scored (same end timestamps). */
    readonly n: number;
    readonly runRows: number;
    readonly otherRows: number;
    readonly tasks: readonly {
      readonly task: string;
      readonly metric: string;
      readonly higherIsBetter: boolean;
      /** Each run's metric on the n common rows. */
      readonly run: number;
      readonly other: number;
      /** run - other, signed so that > 0 favours the run (for a loss: other - run), with its interval. */
      readonly diff: Difference;
    }[];
  }[];
  /** Per task: on how many symbols the run is better (point, significant) and the pooled difference (pooledDifference). */
  readonly pooled: readonly { readonly task: string; readonly metric: string; readonly symbols: number; readonly better: number; readonly betterSignificant: number; readonly pooled: Difference | null }[];
}

export interface LsoTaskSummary {
  readonly task: string;
  readonly metric: string;
  readonly beatsBaseline: number;
  readonly beatsBaselineSignificant: number;
  readonly beatsAlone: number;
  readonly beatsAloneSignificant: number;
  readonly symbols: number;
  /** Mean over symbols of universal - best baseline (signed: > 0 favours universal), with its joint interval. */
  readonly pooledVsBaseline: Difference | null;
  /** Mean over symbols of universal - alone, with its joint interval. */
  readonly pooledVsAlone: Difference | null;
}

export interface LsoOptions {
  readonly log?: Log;
  /** Train a model on each held-out symbol alone (default true). */
  readonly alone?: boolean;
  /**
   * Epochs of the alone models (default: the config's training epochs), or 'matchSteps': as many
   * epochs as give the alone model the universal run's optimiser steps (needs universalBudget; of a
   * seed ensemble, one member's: stepsToMatch).
   */
  readonly aloneEpochs?: number | 'matchSteps';
  /** The universal run's budget (reported, and what 'matchSteps' matches). */
  readonly universalBudget?: TrainingBudget;
  /** Window stride of the alone models' training data (default 1: all of the symbol's windows). */
  readonly aloneStride?: number;
  /** Bootstrap resamples (default 200). */
  readonly resamples?: number;
  readonly progress?: boolean;
  /**
   * The run folder: each alone model is saved in <runDir>/alone/<SYMBOL>/ and reused from there
   * when present (trained with the same stride and epoch cap). Without it nothing is saved.
   */
  readonly runDir?: string;
  /** Retrain and overwrite saved alone models trained with other settings (default: a clear error). */
  readonly retrainAlone?: boolean;
  /** Only these held-out symbols (default: all of data.holdout). */
  readonly symbols?: readonly string[];
  /**
   * Another run's model (a single run or a seed ensemble; same tasks and label settings: openAgainst)
   * scored on the same test rows and labels, with its own normaliser fitted on each symbol's history.
   */
  readonly against?: { readonly run: string; readonly model: TaskAgnosticModel };
}

function compare(a: number | undefined, b: number | undefined, higher: boolean): Verdict {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) return 'n/a';
  if (Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b))) return 'equal';
  return (higher ? a > b : a < b) ? 'better' : 'worse';
}

/** The held-out symbols' candles, loaded the way the run loads its own. */
async function loadHeldOut(cfg: TrainerConfig, symbol: string): Promise<SymbolData> {
  if (cfg.data.source !== 'csv' || !cfg.data.path) throw new DataError('leave-symbols-out needs file data (source csv with a path)');
  const [d] = await loadData({ path: cfg.data.path, symbols: [symbol], interval: cfg.data.interval, policy: cfg.data.policy, ...(cfg.data.exchange ? { exchange: cfg.data.exchange } : {}) });
  return d!;
}

/** The held-out symbol's dataset: its own normaliser and label fits (training range), every test window. */
function heldOutDataset(cfg: TrainerConfig, model: TaskAgnosticModel, d: SymbolData): MultiTaskDataset {
  const featureConfig = defaultComponents.parseFeatureSetConfig(model.config.features) as Parameters<typeof featurePipeline>[0];
  return buildDataset(
    [{ symbol: d.symbol, candles: d.candles }],
    model.tasks as unknown as TrainableTask[],
    featurePipeline(featureConfig),
    { ...datasetOptions(cfg), stride: 1, normalisation: 'perSymbol', taskFit: 'perSymbol', windowLength: model.windowLength },
    configBoundaries(cfg.data.split, [d]),
  );
}

/**
 * A model's forecasts on a held-out symbol's rows as every evaluation scores them: regression heads
 * after their calibration, then each head combined with its naive baseline where the model's
 * validation chose so (model.blends; the baseline computed on the symbol's own rows and task states).
 */
function modelForecasts(model: TaskAgnosticModel, raw: readonly Float32Array[], d: SymbolData, states: readonly Readonly<Record<string, unknown>>[], rows: readonly number[]): Float32Array[] {
  const calibration = forecastCalibration(model);
  const tasks = model.tasks as unknown as TrainableTask[];
  // a fusion reads the fused and direction heads raw and the volatility head calibrated, before any blend
  const rawCopies = raw.map((r) => Float32Array.from(r));
  const calibrated = tasks.map((t, i) => {
    const out = raw[i]!;
    const cal = calibration.get(t.id);
    const od = t.outputDim;
    if (cal) for (let r = 0; r < rows.length; r++) for (let j = 0; j < od; j++) out[r * od + j] = cal.scale[j]! * out[r * od + j]! + cal.shift[j]!;
    return out;
  });
  const indexOf = (id: string): number => tasks.findIndex((t) => t.id === id);
  const stateOf = (id: string) => states[indexOf(id)]!;
  const fused = new Map<string, Float32Array>();
  for (const f of model.fusions.values()) {
    const vi = indexOf(f.volatilityTask);
    const vd = tasks[vi]!.outputDim;
    const volForecast = Float32Array.from({ length: rows.length }, (_, r) => calibrated[vi]![r * vd]!);
    const directionRaw = f.directionTask === undefined ? undefined : rawCopies[indexOf(f.directionTask)]!;
    fused.set(f.task, fuseTaskRows(f, tasks, { headRaw: rawCopies[indexOf(f.task)]!, volForecast, ...(directionRaw ? { directionRaw } : {}) }, d.candles, stateOf, rows));
  }
  return tasks.map((t, i) => fused.get(t.id) ?? applyTaskBlend(t, model.blends.get(t.id), calibrated[i]!, d.candles, states[i]!, rows));
}

/** Evaluates the frozen `model` on every held-out symbol of `cfg`. */
export async function evaluateLeaveSymbolsOut(cfg: TrainerConfig, model: TaskAgnosticModel, o: LsoOptions = {}): Promise<LsoReport> {
  const log = o.log ?? (() => {});
  const all = cfg.data.holdout;
  if (all.length === 0) throw new DataError('this run holds no symbols out (config data.holdout is empty): train with --holdout A,B or the universal preset');
  const unknown = (o.symbols ?? []).filter((s) => !all.includes(s));
  if (unknown.length) throw new DataError(`not held out by this run: ${unknown.join(', ')} (its held-out symbols: ${all.join(', ')})`);
  const heldOut = o.symbols ? all.filter((s) => o.symbols!.includes(s)) : all;
  const resamples = o.resamples ?? 200;
  const level = 0.95;
  const symbols: LsoSymbolResult[] = [];
  const skipped: string[] = [];
  let blockLength = 1;
  // per task, each symbol's differences for the pooled figures
  const pooled = model.tasks.map(() => ({ baseline: [] as PooledSeries[], alone: [] as PooledSeries[], against: [] as PooledSeries[] }));
  const againstSymbols: LsoAgainst['symbols'][number][] = [];
  for (const symbol of heldOut) {
    const d = await loadHeldOut(cfg, symbol);
    if (screenSeries(cfg, [d], log, { throwWhenEmpty: false }).length === 0) {
      skipped.push(symbol);
      continue;
    }
    const ds = heldOutDataset(cfg, model, d);
    if (ds.test.n < 2) {
      log(`skipping ${symbol}: ${ds.test.n} test windows`);
      skipped.push(symbol);
      continue;
    }
    blockLength = Math.max(1, ds.horizon);
    const note = normalizerForSeries(model, symbol, d.candles, ds.boundaries[0]!.trainEnd, { minRows: 1 }).note;
    log(`lso ${symbol}: ${d.candles.length} bars, ${ds.test.n} test windows; ${note}`);
    const states = ds.symbolTaskStates[symbol]!;
    const frozen: MultiTaskParts = { ...modelParts(model), taskStates: [...states] };
    const rows = Array.from(ds.test.endRows!);
    const uni = { outputs: modelForecasts(model, evaluateSplit(frozen, ds.test, 256).outputs, d, states, rows) };
    const testTs = Float64Array.from(rows, (r) => d.candles.tsMs[r]!);
    // the other run (--against): its own features, window and normaliser on the symbol's history; the run's label states
    let vs: { outputs: Float32Array[]; otherRows: number; ia: Int32Array; ib: Int32Array; ts: Float64Array } | null = null;
    if (o.against) {
      const om = o.against.model;
      const ods = heldOutDataset(cfg, om, d);
      const orows = Array.from(ods.test.endRows!);
      const parts: MultiTaskParts = { ...modelParts(om), taskStates: [...states] };
      const outputs = modelForecasts(om, evaluateSplit(parts, ods.test, 256).outputs, d, states, orows);
      const aligned = alignOnTimestamps(testTs, Float64Array.from(orows, (r) => d.candles.tsMs[r]!), `${symbol}'s test rows`);
      vs = { outputs, otherRows: orows.length, ...aligned };
      log(`lso ${symbol}: against ${o.against.run} on ${aligned.ia.length} common test rows (the run ${rows.length}, the other ${orows.length})`);
    }
    const againstTasks: LsoAgainst['symbols'][number]['tasks'][number][] = [];
    // the model trained on this symbol alone, scored on the same rows and labels
    let alone: ({ outputs: Float32Array[] } & AloneBudget) | null = null;
    if (o.alone ?? true) {
      const t0 = Date.now();
      const cpu0 = cpuSeconds();
      const stride = o.aloneStride ?? 1;
      // the run's training settings with the training package's defaults filled in
      const training = parseTrainingConfig(cfg.training);
      const configEpochs = training.epochs;
      let maxEpochs = configEpochs;
      if (o.aloneEpochs === 'matchSteps') {
        if (!o.universalBudget) throw new DataError("--alone-epochs match needs the universal run's budget (the run folder's training.json with its history)");
        // the alone model's training windows: the stride-1 training rows above, thinned like training thins them
        maxEpochs = epochsForSteps(stepsToMatch(o.universalBudget), Math.ceil(ds.train.n / stride), training);
      } else if (o.aloneEpochs !== undefined) maxEpochs = o.aloneEpochs;
      const aloneCfg: TrainerConfig = {
        ...cfg,
        data: { ...cfg.data, symbols: [symbol], holdout: [], stride },
        training: { ...cfg.training, epochs: maxEpochs },
      };
      const dir = o.runDir ? aloneDir(o.runDir, symbol) : null;
      const saved = dir ? await loadAloneModel(dir, { stride, maxEpochs }, { replace: o.retrainAlone ?? false }) : null;
      let aloneModel: TaskAgnosticModel;
      let budget: AloneBudget;
      if (saved) {
        aloneModel = saved.model;
        const { trainWindows, epochs, steps, seconds, cpuSeconds: cpu } = saved.record;
        budget = { trainWindows, epochs, maxEpochs, steps, seconds, cpuSeconds: cpu, reused: true };
        log(`lso ${symbol}: the alone model saved in ${dir} (stride ${stride}, cap ${maxEpochs} epochs), not retrained`);
      } else {
        log(`lso ${symbol}: training a model on ${symbol} alone (at most ${maxEpochs} epochs)`);
        const r = await trainRun(aloneCfg, [d], { progress: o.progress ?? false });
        aloneModel = r.model;
        const trainWindows = r.dataset.train.n;
        const epochs = r.history.length;
        budget = { trainWindows, epochs, maxEpochs, steps: trainingSteps(trainWindows, epochs, training), seconds: (Date.now() - t0) / 1000, cpuSeconds: cpuSeconds() - cpu0, reused: false };
        if (dir) {
          const { trainWindows: w, epochs: e, steps, seconds, cpuSeconds: cpu } = budget;
          await saveAloneModel(dir, aloneModel, { symbol, stride, maxEpochs, trainWindows: w, epochs: e, steps, seconds, cpuSeconds: cpu, createdAt: new Date().toISOString() });
          log(`lso ${symbol}: alone model saved in ${dir}`);
        }
      }
      try {
        const ids = (m: TaskAgnosticModel) => m.tasks.map((t) => t.id).join(',');
        if (ids(aloneModel) !== ids(model) || aloneModel.windowLength !== model.windowLength) {
          throw new DataError(`the alone model of ${symbol} has tasks ${ids(aloneModel)} and window ${aloneModel.windowLength}, the run's model ${ids(model)} and ${model.windowLength}: remove ${dir ?? 'it'} to retrain it`);
        }
        const parts: MultiTaskParts = { ...modelParts(aloneModel), taskStates: [...states] };
        alone = { outputs: modelForecasts(aloneModel, evaluateSplit(parts, ds.test, 256).outputs, d, states, rows), ...budget };
        log(`lso ${symbol}: alone model ${budgetText(budget)}`);
      } finally {
        aloneModel.dispose();
      }
    }
    const tasks: LsoTaskResult[] = (model.tasks as unknown as TrainableTask[]).map((t, i) => {
      const pm = primaryMetric(t.kind);
      const sign = pm.higherIsBetter ? 1 : -1;
      const dim = ds.test.targetDims[i]!;
      const y = ds.test.targets[i]!;
      const metricOf = (out: Float32Array, idx: Int32Array | null): number => {
        const m = idx ? t.metrics(gatherTargets(out, t.outputDim, idx), gatherTargets(y, dim, idx), idx.length) : t.metrics(out, y, ds.test.n);
        return m[pm.name] as number;
      };
      const universal = metricOf(uni.outputs[i]!, null);
      const baselines = t.baseline ? t.baseline(d.candles, states[i]!, rows) : [];
      let best: { name: string; value: number } | null = null;
      for (const b of baselines) {
        const v = scalarMetrics(b.metrics)[pm.name];
        if (v !== undefined && Number.isFinite(v) && (!best || sign * (v - best.value) > 0)) best = { name: b.name, value: v };
      }
      const seed = `${cfg.seed}:lso:${symbol}:${t.id}`;
      let vsBaselineDiff: Difference | null = null;
      if (best && t.baseline) {
        const name = best.name;
        const diff = (idx: Int32Array) => {
          const r = Array.from(idx, (k) => rows[k]!);
          const b = t.baseline!(d.candles, states[i]!, r).find((x) => x.name === name)!;
          return sign * (metricOf(uni.outputs[i]!, idx) - (b.metrics[pm.name] as number));
        };
        const ci = blockBootstrap(ds.test.n, diff, { resamples, blockLength, level, seed: new Rng(seed + ':b').seedInt() });
        vsBaselineDiff = difference(sign * (universal - best.value), ci);
        pooled[i]!.baseline.push({ ts: testTs, value: vsBaselineDiff.value, diff });
      }
      let aloneValue: number | null = null;
      let vsAloneDiff: Difference | null = null;
      if (alone) {
        const out = alone.outputs[i]!;
        aloneValue = metricOf(out, null);
        const diff = (idx: Int32Array) => sign * (metricOf(uni.outputs[i]!, idx) - metricOf(out, idx));
        const ci = blockBootstrap(ds.test.n, diff, { resamples, blockLength, level, seed: new Rng(seed + ':a').seedInt() });
        vsAloneDiff = difference(sign * (universal - aloneValue), ci);
        pooled[i]!.alone.push({ ts: testTs, value: vsAloneDiff.value, diff });
      }
      if (vs) {
        // both runs on the common rows, against the run's labels
        const n = vs.ia.length;
        const src = { kind: t.kind, outputDim: t.outputDim, targetDim: dim, metrics: t.metrics.bind(t) };
        const yc = gatherTargets(y, dim, vs.ia);
        const a = metricOnRows(src, pm.name, gatherTargets(uni.outputs[i]!, t.outputDim, vs.ia), yc);
        const b = metricOnRows(src, pm.name, gatherTargets(vs.outputs[i]!, t.outputDim, vs.ib), yc);
        // > 0 favours the run: run - other, or other - run for a loss (no -0 when they agree)
        const diff = (idx: Int32Array) => (pm.higherIsBetter ? a(idx) - b(idx) : b(idx) - a(idx));
        const all = Int32Array.from({ length: n }, (_, k) => k);
        const [runValue, otherValue] = [a(all), b(all)];
        const ci = blockBootstrap(n, diff, { resamples, blockLength, level, seed: new Rng(seed + ':v').seedInt() });
        const d2 = difference(pm.higherIsBetter ? runValue - otherValue : otherValue - runValue, ci);
        pooled[i]!.against.push({ ts: vs.ts, value: d2.value, diff });
        againstTasks.push({ task: t.id, metric: pm.name, higherIsBetter: pm.higherIsBetter, run: runValue, other: otherValue, diff: d2 });
      }
      return {
        task: t.id,
        metric: pm.name,
        higherIsBetter: pm.higherIsBetter,
        universal,
        alone: aloneValue,
        bestBaseline: best,
        vsBaseline: compare(universal, best?.value, pm.higherIsBetter),
        vsBaselineDiff,
        vsAlone: compare(universal, aloneValue ?? undefined, pm.higherIsBetter),
        vsAloneDiff,
      };
    });
    const aloneBudget: AloneBudget | null = alone
      ? { trainWindows: alone.trainWindows, epochs: alone.epochs, maxEpochs: alone.maxEpochs, steps: alone.steps, seconds: alone.seconds, cpuSeconds: alone.cpuSeconds, reused: alone.reused }
      : null;
    symbols.push({ symbol, bars: d.candles.length, source: d.source, testWindows: ds.test.n, normaliser: note, tasks, alone: aloneBudget });
    if (vs) againstSymbols.push({ symbol, n: vs.ia.length, runRows: rows.length, otherRows: vs.otherRows, tasks: againstTasks });
  }
  const pool = (series: PooledSeries[], task: string, what: string) =>
    series.length ? pooledDifference(series, { resamples, blockLength, level, seed: new Rng(`${cfg.seed}:lso:pooled:${task}:${what}`).seedInt() }) : null;
  const summary = model.tasks.map((t, i): LsoTaskSummary => {
    const rs = symbols.map((s) => s.tasks.find((x) => x.task === t.id)!);
    return {
      task: t.id,
      metric: rs[0]?.metric ?? '',
      beatsBaseline: rs.filter((r) => r.vsBaseline === 'better').length,
      beatsBaselineSignificant: rs.filter((r) => r.vsBaselineDiff?.verdict === 'better').length,
      beatsAlone: rs.filter((r) => r.vsAlone === 'better').length,
      beatsAloneSignificant: rs.filter((r) => r.vsAloneDiff?.verdict === 'better').length,
      symbols: rs.length,
      pooledVsBaseline: pool(pooled[i]!.baseline, t.id, 'b'),
      pooledVsAlone: pool(pooled[i]!.alone, t.id, 'a'),
    };
  });
  const against: LsoAgainst | null = o.against
    ? {
        run: o.against.run,
        symbols: againstSymbols,
        pooled: model.tasks.map((t, i) => {
          const rs = againstSymbols.map((s) => s.tasks[i]!);
          return {
            task: t.id,
            metric: rs[0]?.metric ?? '',
            symbols: rs.length,
            better: rs.filter((r) => r.diff.value > 0).length,
            betterSignificant: rs.filter((r) => r.diff.verdict === 'better').length,
            pooled: pool(pooled[i]!.against, t.id, 'v'),
          };
        }),
      }
    : null;
  return { heldOut, skipped, symbols, summary, bootstrap: { resamples, blockLength, level }, universalBudget: o.universalBudget ?? null, against };
}

/**
 * A run's training budget from its training.json (`history`, `dataset.samples.train`), or null
 * when the file is missing, unreadable or has no history (an artifact trained elsewhere). A seed
 * ensemble's training.json (`members`, each with its `history` and `trainWindows`; trainer
 * ensemble) gives the SUM of its members' epochs and steps, each member's budget in `members`;
 * null when any member's history is unknown.
 */
export async function readTrainingBudget(trainingJson: string, epochSteps: EpochSteps): Promise<TrainingBudget | null> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(trainingJson, 'utf8'));
  } catch {
    return null;
  }
  return trainingBudget(raw, epochSteps);
}

/** readTrainingBudget of a training.json already parsed (or built: ensembleTrainingSummary). */
export function trainingBudget(raw: unknown, epochSteps: EpochSteps): TrainingBudget | null {
  const one = (history: unknown, trainWindows: unknown): TrainingBudget | null => {
    const epochs = Array.isArray(history) ? history.length : 0;
    if (epochs === 0 || typeof trainWindows !== 'number' || !(trainWindows > 0)) return null;
    return { trainWindows, epochs, steps: trainingSteps(trainWindows, epochs, epochSteps) };
  };
  const t = raw as { history?: unknown; dataset?: { samples?: { train?: unknown } }; members?: unknown };
  if (t.history === undefined && Array.isArray(t.members)) {
    const entries = t.members as { seed?: unknown; history?: unknown; trainWindows?: unknown }[];
    const members: MemberBudget[] = [];
    for (const m of entries) {
      const b = one(m?.history, m?.trainWindows);
      if (!b || typeof m.seed !== 'number') return null;
      members.push({ seed: m.seed, ...b });
    }
    if (members.length === 0) return null;
    const sum = (f: (m: MemberBudget) => number) => members.reduce((a, m) => a + f(m), 0);
    return { trainWindows: members[0]!.trainWindows, epochs: sum((m) => m.epochs), steps: sum((m) => m.steps), members };
  }
  return one(t.history, t.dataset?.samples?.train);
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function budgetText(b: TrainingBudget & { cpuSeconds?: number; seconds?: number }): string {
  const cost = b.cpuSeconds !== undefined ? `, ${b.cpuSeconds.toFixed(0)} CPU s (${(b.seconds ?? 0).toFixed(0)} s wall)` : '';
  const members = b.members?.length
    ? ` (seed ensemble: the sum of its ${b.members.length} members'; ${b.members.map((m) => `seed ${m.seed} ${m.epochs} epochs, ${m.steps} steps`).join('; ')}; --alone-epochs match gives one member's mean, ${stepsToMatch(b)} steps)`
    : '';
  return `${b.trainWindows} training windows, ${b.epochs} epochs, ${b.steps} optimiser steps${cost}${members}`;
}

function num(v: number | null | undefined, digits = 4): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

function diffText(d: Difference | null): string {
  return d ? `${num(d.value)} [${num(d.lo)}, ${num(d.hi)}] ${d.verdict}` : '-';
}

/** The report as text tables. */
export function printLso(r: LsoReport, log: Log): void {
  const rows: string[][] = [['symbol', 'task', 'metric', 'universal', 'alone', 'best baseline', 'universal - baseline [95%]', 'universal - alone [95%]']];
  for (const s of r.symbols) {
    for (const t of s.tasks) {
      rows.push([s.symbol, t.task, t.metric, num(t.universal), num(t.alone), t.bestBaseline ? `${num(t.bestBaseline.value)} (${t.bestBaseline.name})` : '-', diffText(t.vsBaselineDiff), diffText(t.vsAloneDiff)]);
    }
  }
  const sum: string[][] = [['task', 'metric', 'beats best baseline', 'significantly', 'pooled - baseline [95%]', 'beats alone', 'significantly', 'pooled - alone [95%]']];
  for (const t of r.summary) {
    sum.push([t.task, t.metric, `${t.beatsBaseline}/${t.symbols}`, `${t.beatsBaselineSignificant}/${t.symbols}`, diffText(t.pooledVsBaseline ?? null), `${t.beatsAlone}/${t.symbols}`, `${t.beatsAloneSignificant}/${t.symbols}`, diffText(t.pooledVsAlone ?? null)]);
  }
  const table = (m: string[][]) => {
    const w = m[0]!.map((_, j) => Math.max(...m.map((row) => (row[j] ?? '').length)));
    return m.map((row) => row.map((c, j) => c.padEnd(w[j]!)).join('  ')).join('\n');
  };
  log(`\nleave-symbols-out (held out: ${r.heldOut.join(', ')}${r.skipped.length ? `; skipped ${r.skipped.join(', ')}` : ''}); differences signed so that > 0 favours the universal model; paired block bootstrap, ${r.bootstrap.resamples} resamples, blocks of ${r.bootstrap.blockLength} rows:\n${table(rows)}`);
  log(`\nsummary over held-out symbols (pooled: the mean of the symbols' differences, resampled on their common timeline):\n${table(sum)}`);
  if (r.against) {
    const vs: string[][] = [['symbol', 'task', 'metric', 'n', 'run', 'other', 'run - other [95%]']];
    for (const s of r.against.symbols) for (const t of s.tasks) vs.push([s.symbol, t.task, t.metric, String(s.n), num(t.run), num(t.other), diffText(t.diff)]);
    const pv: string[][] = [['task', 'metric', 'run better', 'significantly', 'pooled run - other [95%]']];
    for (const t of r.against.pooled) pv.push([t.task, t.metric, `${t.better}/${t.symbols}`, `${t.betterSignificant}/${t.symbols}`, diffText(t.pooled)]);
    log(`\nthe run against ${r.against.run} on the same test rows (n: rows both scored) and labels; > 0 favours the run (for a loss: other - run):\n${table(vs)}`);
    log(`\npooled over held-out symbols (the mean of the symbols' differences, resampled on their common timeline):\n${table(pv)}`);
  }
  const budgets = r.symbols.filter((s) => s.alone).map((s) => `  alone ${s.symbol}: ${budgetText(s.alone!)} (cap ${s.alone!.maxEpochs} epochs${s.alone!.reused ? '; saved earlier, reused' : ''})`);
  if (r.universalBudget || budgets.length) log(`\nbudgets (pre-training as configured for both):\n${r.universalBudget ? `  universal: ${budgetText(r.universalBudget)}\n` : ''}${budgets.join('\n')}`);
}
