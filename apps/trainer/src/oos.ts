/**
 * Out-of-sample evaluation and backtests of a saved model on any candles (`trainer evaluate|backtest
 * <run> --data <csv|dir> [--symbols A,B] [--from DATE] [--to DATE]`).
 *
 * The artifact is applied as it is: its normaliser, its fitted task states (label thresholds,
 * scales), its regression heads' calibration (as training's test metrics score them:
 * forecastCalibration) and whatever calibration its decode carries; nothing is refitted on the new candles.
 * A model trained with per-symbol normalisation and label fits applies the symbol's own (the ones
 * training used for it); a symbol it never saw gets normalizerForSeries' fallback (its own history
 * before --from) and the pooled task states.
 * Bars before --from serve as feature warm-up only; candles at or after --to are never read (so
 * labels near the end that would need them are dropped). Symbols the model never saw work alike.
 * Outputs go to <run>/oos/<label>/, apart from the run's own reports.
 */
import { DataError, ConfigError, lowerBound, sliceColumns, dieboldMariano, type CandleColumns } from '@task-agnostic/core';
import { normalizerForSeries, type TaskAgnosticModel } from '@task-agnostic/model';
import { applyTaskBlend, forecastCalibration, fuseTaskRows } from '@task-agnostic/training';
import type { Task } from '@task-agnostic/heads';
import path from 'node:path';
import { parseCandleFileName, type SymbolData } from './data-source.js';
import { compareOnWindows, type MetricSource, type WindowComparison } from './intervals.js';
import { primaryMetric } from './evaluate-run.js';
import { isoMinute as iso } from './format.js';

/** One symbol's out-of-sample range: candles [0, end) of which rows [start, end) are scored. */
export interface OosRange {
  readonly symbol: string;
  readonly interval: SymbolData['interval'];
  /** Candles up to (not including) --to; bars before `start` are warm-up only. */
  readonly candles: CandleColumns;
  readonly start: number;
  readonly from: string;
  readonly to: string;
  readonly warmupBars: number;
  readonly source: string;
}

/**
 * The name a loaded series has in the model. A model trained on every file of a folder where one
 * symbol has several exchanges' files (symbols 'all') knows the longest as SYMBOL and the others as
 * exchange:SYMBOL (data-source.ts); a file of such an exchange is that series, so it gets that name
 * and with it the normaliser and label fits training used for it. Otherwise the symbol is kept.
 */
export function seriesNameInModel(model: TaskAgnosticModel, symbol: string, source: string): string {
  const exchange = parseCandleFileName(path.basename(source))?.exchange;
  const key = exchange ? `${exchange}:${symbol}` : undefined;
  return key && (model.symbolNormalizers.has(key) || model.symbolTaskStates.has(key)) ? key : symbol;
}

/** Bars a model needs before the first row it scores: the features' warm-up plus one window. */
export function warmupNeeded(model: TaskAgnosticModel, candles: CandleColumns): { bars: number; features: number; window: number } {
  const features = (model.components.computeFeatures(candles, model.featureConfig) as { warmup?: number }).warmup ?? 0;
  return { bars: features + model.windowLength - 1, features, window: model.windowLength };
}

/**
 * Cuts each symbol's candles to the requested range and checks it: --from after the data ends,
 * --to not after --from, or too few bars before --from for the warm-up are errors naming the dates
 * and the data's range.
 */
export function oosRanges(model: TaskAgnosticModel, data: readonly SymbolData[], fromMs?: number, toMs?: number): OosRange[] {
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
    throw new ConfigError(`--to ${iso(toMs)} is not after --from ${iso(fromMs)}`, 'to');
  }
  return data.map((d) => {
    const c = d.candles;
    if (c.length === 0) throw new DataError(`${d.symbol}: no candles in ${d.source}`);
    const first = c.tsMs[0]!;
    const last = c.tsMs[c.length - 1]!;
    const range = `${d.symbol}'s candles run from ${iso(first)} to ${iso(last)} (${d.source})`;
    if (fromMs !== undefined && fromMs > last) throw new DataError(`--from ${iso(fromMs)} is after the data ends: ${range}`);
    if (toMs !== undefined && toMs <= first) throw new DataError(`--to ${iso(toMs)} is before the data starts: ${range}`);
    const end = toMs === undefined ? c.length : lowerBound(c, toMs);
    const candles = end === c.length ? c : sliceColumns(c, 0, end);
    const need = warmupNeeded(model, candles);
    const start = fromMs === undefined ? need.bars : lowerBound(c, fromMs);
    if (start < need.bars) {
      throw new DataError(
        `${d.symbol}: --from ${iso(fromMs!)} leaves ${start} bars before it, but the model needs ${need.bars} for warm-up (feature warm-up ${need.features} + window ${need.window} - 1); start at or after ${iso(c.tsMs[Math.min(need.bars, c.length - 1)]!)} or give earlier candles (${range})`,
      );
    }
    if (start >= end) {
      throw new DataError(`${d.symbol}: too few candles: ${end} bars in range, the model needs ${need.bars} for warm-up and at least one more to score (${range})`);
    }
    return { symbol: d.symbol, interval: d.interval, candles, start, from: iso(c.tsMs[start]!), to: iso(c.tsMs[end - 1]!), warmupBars: start, source: d.source };
  });
}

export interface OosTaskResult {
  readonly task: string;
  readonly metric: string;
  readonly higherIsBetter: boolean;
  /** Scored windows (rows with a label inside the range). */
  readonly windows: number;
  readonly model: Record<string, number>;
  readonly baselines: { name: string; description: string; metrics: Record<string, number> }[];
  readonly bestBaseline: string | null;
  readonly vsBestBaseline: WindowComparison | null;
  /** Forecast tasks: Diebold-Mariano (HLN) on the per-window loss, model vs best baseline. */
  readonly dieboldMariano: { statistic: number; pValue: number; horizon: number } | null;
}

/** Raw per-window outputs of the model and its best baseline, with the targets (row-major). */
export interface OosRaw {
  readonly outputs: Float32Array;
  readonly baseline: Float32Array;
  readonly targets: Float32Array;
  readonly n: number;
  /** Each window's timestamp (its last bar's open time), ascending. */
  readonly ts: Float64Array;
}

/** The model's scored windows of a task result (none when no row had a label): outputs, targets, timestamps. */
export interface OosScored {
  readonly outputs: Float32Array;
  readonly targets: Float32Array;
  readonly ts: Float64Array;
}

/** The scored windows behind an out-of-sample task result (for comparing two runs: trainer evaluate --against). */
export function oosScored(t: OosTaskResult): OosScored | null {
  return (t as { scored?: OosScored }).scored ?? null;
}

/** The raw windows behind an out-of-sample task result, when there was a baseline to compare. */
export function oosRaw(t: OosTaskResult): OosRaw | null {
  return (t as { raw?: OosRaw }).raw ?? null;
}

export interface OosEvaluation {
  readonly symbol: string;
  readonly from: string;
  readonly to: string;
  readonly warmupBars: number;
  readonly seenInTraining: boolean;
  readonly tasks: OosTaskResult[];
}

/** Scores every task of the model on one range with the artifact's own states, beside its naive baselines. */
export function evaluateOos(model: TaskAgnosticModel, r: OosRange, seenSymbols: readonly string[], seed = 0): OosEvaluation {
  const features = model.components.computeFeatures(r.candles, model.featureConfig);
  // the symbol's own normaliser and task states when the model has them (per-symbol training), as training scaled and labelled it
  const m = normalizerForSeries(model, r.symbol, r.candles, r.start, { features }).normalizer.transform(features);
  const states = model.taskStatesFor(r.symbol);
  const calibration = forecastCalibration(model);
  const n = r.candles.length;
  const tasks: OosTaskResult[] = [];
  for (const [ti, modelTask] of model.tasks.entries()) {
    const task = modelTask as unknown as Task;
    const state = states.get(task.id)!;
    const labels = task.labels(r.candles, state);
    const rows: number[] = [];
    for (let t = r.start; t < n; t++) if (labels.valid[t]) rows.push(t);
    const pm = primaryMetric(task.kind as 'classification' | 'regression');
    if (rows.length === 0) {
      tasks.push({ task: task.id, metric: pm.name, higherIsBetter: pm.higherIsBetter, windows: 0, model: {}, baselines: [], bestBaseline: null, vsBestBaseline: null, dieboldMariano: null });
      continue;
    }
    const od = task.outputDim;
    const td = task.targetDim;
    const outputs = new Float32Array(rows.length * od);
    const batch = 512;
    // a fusion also reads the volatility head (calibrated, before its blend) and maybe the direction head (raw) on the same rows
    const fusion = model.fusions.get(task.id) ?? null;
    const volTask = fusion ? (model.tasks.find((t) => t.id === fusion.volatilityTask) as unknown as Task | undefined) : undefined;
    const dirTask = fusion?.directionTask !== undefined ? (model.tasks.find((t) => t.id === fusion.directionTask) as unknown as Task | undefined) : undefined;
    const vol = volTask ? new Float32Array(rows.length * volTask.outputDim) : null;
    const dir = dirTask ? new Float32Array(rows.length * dirTask.outputDim) : null;
    for (let s = 0; s < rows.length; s += batch) {
      const ends = rows.slice(s, s + batch);
      const raw = model.predictRaw(model.components.makeWindows(m, ends, model.windowLength), ends.length, [task.id, ...(volTask ? [volTask.id] : []), ...(dirTask ? [dirTask.id] : [])]);
      outputs.set(raw.get(task.id)!, s * od);
      if (vol && volTask) vol.set(raw.get(volTask.id)!, s * volTask.outputDim);
      if (dir && dirTask) dir.set(raw.get(dirTask.id)!, s * dirTask.outputDim);
    }
    const volCal = volTask ? calibration.get(volTask.id) : undefined;
    if (vol && volCal) for (let i = 0; i < vol.length; i++) vol[i] = volCal.scale[0]! * vol[i]! + volCal.shift[0]!;
    const headRaw = fusion ? Float32Array.from(outputs) : null;
    const cal = calibration.get(task.id);
    if (cal) for (let i = 0; i < rows.length; i++) for (let j = 0; j < od; j++) outputs[i * od + j] = cal.scale[j]! * outputs[i * od + j]! + cal.shift[j]!;
    const targets = new Float32Array(rows.length * td);
    rows.forEach((t, i) => targets.set(labels.targets.subarray(t * td, (t + 1) * td), i * td));
    const src = task as unknown as MetricSource;
    const base = task.baseline(r.candles, state, rows);
    // each head combined with its naive baseline where the model's validation chose so
    outputs.set(
      fusion && volTask && vol && headRaw
        ? fuseTaskRows(
            fusion,
            model.tasks as unknown as Task[],
            { headRaw, volForecast: vol.filter((_, j) => j % volTask.outputDim === 0), ...(dir ? { directionRaw: dir } : {}) },
            r.candles,
            (id) => states.get(id)!,
            rows,
            base,
          )
        : applyTaskBlend(task, model.blends.get(task.id), outputs, r.candles, state, rows, base),
    );
    const metrics = scalar(src.metrics(outputs, targets, rows.length));
    let best: (typeof base)[number] | null = null;
    for (const b of base) {
      const v = b.metrics[pm.name];
      if (v === undefined || !Number.isFinite(v)) continue;
      if (!best || (pm.higherIsBetter ? v > best.metrics[pm.name]! : v < best.metrics[pm.name]!)) best = b;
    }
    const iv = best?.outputs ? compareOnWindows(src, pm.name, pm.higherIsBetter, outputs, best.outputs, targets, rows.length, { seed: seed + ti }) : null;
    let dm: OosTaskResult['dieboldMariano'] = null;
    if (task.kind === 'regression' && best?.outputs && rows.length > task.horizon + 1) {
      const la = new Float64Array(rows.length);
      const lb = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const y = targets.subarray(i * td, (i + 1) * td);
        la[i] = src.metrics(outputs.subarray(i * od, (i + 1) * od), y, 1)[pm.name] ?? NaN;
        lb[i] = src.metrics(best.outputs.subarray(i * od, (i + 1) * od), y, 1)[pm.name] ?? NaN;
      }
      if (la.every(Number.isFinite) && lb.every(Number.isFinite)) {
        const d = dieboldMariano(la, lb, { horizon: Math.max(1, task.horizon) });
        dm = { statistic: d.statistic, pValue: d.pValue, horizon: d.horizon };
      }
    }
    const result: OosTaskResult = {
      task: task.id,
      metric: pm.name,
      higherIsBetter: pm.higherIsBetter,
      windows: rows.length,
      model: metrics,
      baselines: base.map((b) => ({ name: b.name, description: b.description, metrics: scalar(b.metrics) })),
      bestBaseline: best?.name ?? null,
      vsBestBaseline: iv,
      dieboldMariano: dm,
    };
    // The raw windows, for pooling folds (walk-forward) and comparing runs; not enumerable, so not in the JSON.
    const ts = Float64Array.from(rows, (t) => r.candles.tsMs[t]!);
    Object.defineProperty(result, 'scored', { value: { outputs, targets, ts } satisfies OosScored });
    if (best?.outputs) Object.defineProperty(result, 'raw', { value: { outputs, baseline: best.outputs, targets, n: rows.length, ts } satisfies OosRaw });
    tasks.push(result);
  }
  return { symbol: r.symbol, from: r.from, to: r.to, warmupBars: r.warmupBars, seenInTraining: seenSymbols.includes(r.symbol), tasks };
}

function scalar(m: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter((e): e is [string, number] => typeof e[1] === 'number'));
}

/** The folder name for an out-of-sample run: symbols and the scored range. */
export function oosLabel(ranges: readonly OosRange[]): string {
  const day = (s: string): string => s.slice(0, 10);
  const syms = ranges.map((r) => r.symbol).join('-');
  const from = ranges.map((r) => r.from).sort()[0]!;
  const to = ranges.map((r) => r.to).sort().slice(-1)[0]!;
  return `${syms}_${day(from)}_${day(to)}`.replace(/[^A-Za-z0-9_.-]/g, '');
}
