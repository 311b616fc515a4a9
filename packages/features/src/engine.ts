/**
 * The one feature engine: the kernels of a config driven one bar at a time. computeFeatures runs
 * it in a tight loop over typed arrays; StreamingFeatures feeds it live candles. Same code, same
 * float64 arithmetic, so the two cannot disagree.
 */
import { ConfigError, DataError, type CandleColumns } from '@task-agnostic/core';
import { buildKernel, featureNames } from './catalog.js';
import type { FeatureSetConfig } from './config.js';
import { MAX_BOOK_LEVELS, newContext, type BarContext, type FeatureKernel } from './context.js';
import { ExtrasState, type ExtraGroup } from './extras.js';
import { SharedWindows, type SharedWindow } from './shared.js';

export class FeatureEngine {
  readonly names: readonly string[];
  readonly cols: number;
  /** First bar index at which every column is valid. */
  readonly warmup: number;
  /** Extra data groups the config needs. */
  readonly needs: ReadonlySet<ExtraGroup>;
  readonly extras: ExtrasState;
  private readonly usesExtras: boolean;
  private readonly kernels: FeatureKernel[];
  /** Advances the shared windows, then runs every kernel (see unrolledStep). */
  private readonly runAll: (ctx: BarContext, out: Float64Array, at: number) => void;
  private readonly windows: SharedWindow[];
  private readonly offsets: Int32Array;
  private readonly ctx: BarContext = newContext();
  private readonly maxGapBars: number;
  /** Interval in ms: from the config, else set by the caller (batch) or learnt (streaming). */
  intervalMs: number;
  private readonly fixedInterval: boolean;
  private prevTs = NaN;

  constructor(config: FeatureSetConfig) {
    this.names = Object.freeze(featureNames(config));
    const shared = new SharedWindows();
    const built = config.features.map((f) => buildKernel(f, shared));
    this.windows = shared.all;
    this.kernels = built.map((b) => b.kernel);
    this.offsets = new Int32Array(this.kernels.length);
    let at = 0;
    let warm = 0;
    let levels = 0;
    this.kernels.forEach((k, i) => {
      this.offsets[i] = at;
      at += k.names.length;
      warm = Math.max(warm, k.warmup);
    });
    for (const s of config.features) if (s.kind === 'ob_imbalance') levels = Math.max(levels, s.levels);
    if (levels > MAX_BOOK_LEVELS) throw new ConfigError(`ob_imbalance levels ${levels} exceeds ${MAX_BOOK_LEVELS}`, 'features.levels');
    this.cols = at;
    this.warmup = warm;
    this.runAll = unrolledStep(this.windows, this.kernels, this.offsets);
    this.needs = new Set(built.map((b) => b.needs).filter((g): g is ExtraGroup => g !== null));
    this.extras = new ExtrasState(Math.max(levels, 1));
    this.usesExtras = this.needs.size > 0;
    this.maxGapBars = config.maxGapBars;
    this.intervalMs = config.intervalMs ?? NaN;
    this.fixedInterval = config.intervalMs !== undefined;
  }

  /** Index of the next bar. */
  get barsSeen(): number {
    return this.ctx.index + 1;
  }

  /**
   * Validates candle i of `src` (row `row` in messages), then advances every window and kernel,
   * writing the row's columns at out[at..]. Align the extras BEFORE this (it reads them). Reading
   * the typed arrays here, rather than taking six number arguments, keeps the doubles unboxed: a
   * call with double arguments that V8 does not inline allocates a heap number per argument.
   */
  step(row: number, src: CandleColumns, i: number, out: Float64Array, at: number): void {
    const tsMs = src.tsMs[i]!;
    const open = src.open[i]!;
    const high = src.high[i]!;
    const low = src.low[i]!;
    const close = src.close[i]!;
    const volume = src.volume[i]!;
    if (!(open > 0 && high > 0 && low > 0 && close > 0 && volume >= 0 && high >= low && Number.isFinite(open + high + low + close + volume + tsMs))) {
      badCandle(row, tsMs, open, high, low, close, volume);
    }
    const prevTs = this.prevTs;
    if (prevTs === prevTs) {
      const dt = tsMs - prevTs;
      if (!(dt > 0)) throw new DataError(`row ${row}: tsMs ${tsMs} is not after the previous candle's ${prevTs} (candles must be sorted and unique)`);
      if (dt < this.intervalMs && this.fixedInterval) {
        throw new DataError(`row ${row}: step of ${dt} ms is shorter than the configured intervalMs ${this.intervalMs}`);
      }
      if (!(dt >= this.intervalMs)) this.intervalMs = dt; // learn the smallest step (NaN at first)
      if (dt > this.maxGapBars * this.intervalMs) {
        throw new DataError(`row ${row}: gap of ${dt / this.intervalMs} intervals before tsMs ${tsMs} exceeds maxGapBars ${this.maxGapBars}`);
      }
    }
    this.prevTs = tsMs;
    const ctx = this.ctx;
    ctx.index++;
    ctx.prevClose = ctx.index === 0 ? NaN : ctx.close;
    ctx.tsMs = tsMs;
    ctx.open = open;
    ctx.high = high;
    ctx.low = low;
    ctx.close = close;
    ctx.volume = volume;
    ctx.logReturn = ctx.index === 0 ? NaN : Math.log(close / ctx.prevClose);
    if (this.usesExtras) this.extras.fill(ctx);
    this.runAll(ctx, out, at);
  }
}

/**
 * One function per engine that calls each window's advance and each kernel's step from its own
 * call site (`k3.step(ctx, out, at + 12)`), instead of one loop over a mixed array. A loop's single
 * call site sees every kernel class and goes megamorphic (a lookup per call); separate sites stay
 * monomorphic, so V8 calls directly or inlines. The generated text holds only indices and offsets.
 */
function unrolledStep(windows: readonly SharedWindow[], kernels: readonly FeatureKernel[], offsets: Int32Array): (ctx: BarContext, out: Float64Array, at: number) => void {
  const lines: string[] = [];
  windows.forEach((_, i) => lines.push(`w${i}.advance(ctx);`));
  kernels.forEach((_, i) => lines.push(`k${i}.step(ctx, out, at + ${offsets[i]! | 0});`));
  const params = [...windows.map((_, i) => `w${i}`), ...kernels.map((_, i) => `k${i}`)];
  const source = `return function step(ctx, out, at) {\n${lines.join('\n')}\n};`;
  const key = `${params.length}:${source}`;
  // One factory per layout: every engine of the same feature set gets a closure of the same
  // factory, so they share V8's type feedback and optimised code instead of each recompiling it.
  let make = factories.get(key);
  if (!make) {
    make = new Function(...params, source) as StepFactory;
    factories.set(key, make);
  }
  return make(...windows, ...kernels);
}

type StepFactory = (...xs: unknown[]) => (ctx: BarContext, out: Float64Array, at: number) => void;
const factories = new Map<string, StepFactory>();

/** Throws the DataError that names the first bad field of a candle that failed the fast check. */
function badCandle(row: number, tsMs: number, o: number, h: number, l: number, c: number, v: number): never {
  const fields: [string, number][] = [['tsMs', tsMs], ['open', o], ['high', h], ['low', l], ['close', c], ['volume', v]];
  for (const [f, x] of fields) if (!Number.isFinite(x)) throw new DataError(`row ${row}: ${f} is ${x}, not a finite number`);
  for (const [f, x] of fields.slice(1, 5)) if (x <= 0) throw new DataError(`row ${row}: ${f} is ${x}; prices must be > 0`);
  if (v < 0) throw new DataError(`row ${row}: volume is ${v}; it must be >= 0`);
  throw new DataError(`row ${row}: high ${h} is below low ${l}`);
}
