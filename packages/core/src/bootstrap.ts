/**
 * Stationary block bootstrap (Politis & Romano 1994) with the automatic mean block length of
 * Politis & White (2004), as corrected by Patton, Politis & White (2009).
 *
 * Evaluation windows overlap and returns cluster, so the i.i.d. bootstrap understates the
 * spread of a metric; resampling blocks of random (geometric) length keeps the dependence within
 * a block and the resampled series stationary. Paired differences (model - baseline on the same
 * windows) resample the same indices for both sides, so their correlation cancels as it should.
 *
 * Deterministic: the same seed gives the same interval. A mean over 10,000 windows with 1,000
 * resamples runs in well under a second (tools/bench stats.bench.ts).
 */
import { ConfigError } from './errors.js';
import { normalQuantile } from './distributions.js';
import { Rng, type Seed } from './rng.js';
import { quantileSorted } from './stats.js';

type Num = ArrayLike<number>;

export interface BootstrapOptions {
  /** Number of bootstrap resamples (default 1000). */
  resamples?: number;
  /** Two-sided confidence level of the percentile interval (default 0.95). */
  confidence?: number;
  /** Seed of the resampling stream (default 0). */
  seed?: Seed;
  /**
   * Mean block length (>= 1). Default: Politis-White on the data (on the paired difference for
   * paired bootstraps, on `blockSeries` for a generic statistic, else n^(1/3)).
   */
  blockLength?: number;
}

export interface StatisticBootstrapOptions extends BootstrapOptions {
  /** A per-window series (e.g. each window's loss or hit) whose dependence sets the block length. */
  blockSeries?: Num;
}

/** A point estimate with its percentile bootstrap interval. */
export interface BootstrapInterval {
  /** The statistic on the original sample. */
  estimate: number;
  lo: number;
  hi: number;
  /** Standard deviation of the bootstrap distribution. */
  se: number;
  confidence: number;
  /** Sample size (windows, bars or trades) the statistic was computed on. */
  n: number;
  resamples: number;
  /** Mean block length used. */
  blockLength: number;
}

export interface PairedBootstrapResult {
  a: BootstrapInterval;
  b: BootstrapInterval;
  /** a - b, resampled on the same indices. */
  diff: BootstrapInterval;
}

/** Bartlett-type flat-top window of Politis & White: 1 on [0, 1/2], falling linearly to 0 at 1. */
function flatTop(s: number): number {
  const a = Math.abs(s);
  if (a <= 0.5) return 1;
  if (a <= 1) return 2 * (1 - a);
  return 0;
}

/**
 * Politis-White (2004) automatic mean block length for the stationary bootstrap, with the
 * Patton-Politis-White (2009) correction (D_SB = 2 g(0)^2). Follows the reference implementation
 * b.star of R's np package: the bandwidth M is twice the first lag after which K_N consecutive
 * autocorrelations are insignificant. Returns a value in [1, ceil(min(3 sqrt(n), n / 3))].
 */
export function politisWhiteBlockLength(x: Num): number {
  const n = x.length;
  if (n < 8) return 1;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i]!;
  m /= n;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = x[i]! - m;
  const kn = Math.max(5, Math.ceil(Math.log10(n)));
  const mmax = Math.min(n - 1, Math.ceil(Math.sqrt(n)) + kn);
  const bmax = Math.ceil(Math.min(3 * Math.sqrt(n), n / 3));
  const acov = new Float64Array(mmax + 1);
  for (let k = 0; k <= mmax; k++) {
    let s = 0;
    for (let t = k; t < n; t++) s += d[t]! * d[t - k]!;
    acov[k] = s / n;
  }
  if (!(acov[0]! > 0)) return 1;
  const crit = normalQuantile(0.975) * Math.sqrt(Math.log10(n) / n);
  const significant = (k: number): boolean => Math.abs(acov[k]! / acov[0]!) >= crit;
  let mhat = 0;
  for (let j = 1; j + kn - 1 <= mmax && mhat === 0; j++) {
    let all = true;
    for (let k = j; k < j + kn; k++) if (significant(k)) { all = false; break; }
    if (all) mhat = j;
  }
  if (mhat === 0) {
    for (let k = mmax; k >= 1; k--) if (significant(k)) { mhat = k; break; }
    if (mhat === 0) mhat = 1;
  }
  const bigM = Math.min(2 * mhat, mmax);
  let g = 0;
  let g0 = acov[0]!;
  for (let k = 1; k <= bigM; k++) {
    const w = flatTop(k / bigM);
    g += 2 * w * k * acov[k]!;
    g0 += 2 * w * acov[k]!;
  }
  const dsb = 2 * g0 * g0;
  const b = Math.cbrt((2 * g * g) / dsb) * Math.cbrt(n);
  if (!Number.isFinite(b)) return 1;
  return Math.max(1, Math.min(b, bmax));
}

function checkOptions(n: number, o: BootstrapOptions): { resamples: number; confidence: number; rng: Rng } {
  const resamples = o.resamples ?? 1000;
  const confidence = o.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) throw new ConfigError(`resamples must be a positive integer, got ${resamples}`, 'resamples');
  if (!(confidence > 0 && confidence < 1)) throw new ConfigError(`confidence must be in (0, 1), got ${confidence}`, 'confidence');
  if (o.blockLength !== undefined && !(o.blockLength >= 1)) throw new ConfigError(`blockLength must be >= 1, got ${o.blockLength}`, 'blockLength');
  if (n < 1) throw new ConfigError('cannot bootstrap an empty sample', 'n');
  return { resamples, confidence, rng: new Rng(o.seed ?? 0) };
}

/**
 * One stationary-bootstrap resample of 0..n-1 into `out` (length n): blocks start uniformly and
 * have Geometric(1 / blockLength) lengths, wrapping around the end (Politis & Romano 1994).
 */
export function stationaryBootstrapIndices(out: Int32Array, blockLength: number, rng: Rng): Int32Array {
  const n = out.length;
  const p = 1 / Math.max(1, blockLength);
  const logq = p < 1 ? Math.log1p(-p) : -Infinity;
  let i = 0;
  while (i < n) {
    let start = rng.int(n);
    let len = p < 1 ? 1 + Math.floor(Math.log(1 - rng.next()) / logq) : 1;
    if (len > n - i) len = n - i;
    for (let k = 0; k < len; k++) {
      out[i++] = start++;
      if (start === n) start = 0;
    }
  }
  return out;
}

function summarise(estimate: number, all: Float64Array, confidence: number, n: number, blockLength: number): BootstrapInterval {
  // A statistic may be undefined on a resample (e.g. F1 of a class that was not drawn): skip it.
  const draws = all.filter((v) => Number.isFinite(v));
  const r = draws.length;
  let m = 0;
  for (let i = 0; i < r; i++) m += draws[i]!;
  m /= r;
  let v = 0;
  for (let i = 0; i < r; i++) v += (draws[i]! - m) ** 2;
  const sorted = draws.sort();
  const a = (1 - confidence) / 2;
  return {
    estimate,
    lo: quantileSorted(sorted, a),
    hi: quantileSorted(sorted, 1 - a),
    se: r > 1 ? Math.sqrt(v / (r - 1)) : 0,
    confidence,
    n,
    resamples: r,
    blockLength,
  };
}

/** Interval for the mean of `x` (fast path: block sums from prefix sums, no index arrays). */
export function bootstrapMean(x: Num, options: BootstrapOptions = {}): BootstrapInterval {
  const n = x.length;
  const { resamples, confidence, rng } = checkOptions(n, options);
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[i]!)) throw new ConfigError(`bootstrapMean: value ${i} is ${x[i]}; remove non-finite values first`, 'x');
  const blockLength = options.blockLength ?? politisWhiteBlockLength(x);
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + x[i]!;
  const total = prefix[n]!;
  const p = 1 / blockLength;
  const logq = p < 1 ? Math.log1p(-p) : -Infinity;
  const draws = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    let i = 0;
    while (i < n) {
      const start = rng.int(n);
      let len = p < 1 ? 1 + Math.floor(Math.log(1 - rng.next()) / logq) : 1;
      if (len > n - i) len = n - i;
      const end = start + len;
      s += end <= n ? prefix[end]! - prefix[start]! : total - prefix[start]! + prefix[end - n]!;
      i += len;
    }
    draws[r] = s / n;
  }
  return summarise(total / n, draws, confidence, n, blockLength);
}

/** Interval for mean(a) - mean(b) over the same windows (block length from the difference). */
export function bootstrapPairedMeanDifference(a: Num, b: Num, options: BootstrapOptions = {}): BootstrapInterval {
  if (a.length !== b.length) throw new ConfigError(`paired samples differ in length: ${a.length} vs ${b.length}`, 'b');
  const d = new Float64Array(a.length);
  for (let i = 0; i < d.length; i++) d[i] = a[i]! - b[i]!;
  return bootstrapMean(d, options);
}

/**
 * Interval for any statistic of n windows: `statistic(indices)` computes it on the windows listed
 * in `indices` (with repeats); the original sample is indices 0..n-1.
 */
export function bootstrapStatistic(
  n: number,
  statistic: (indices: Int32Array) => number,
  options: StatisticBootstrapOptions = {},
): BootstrapInterval {
  return bootstrapPairedStatistic(n, statistic, () => 0, options).a;
}

/**
 * Intervals for two statistics of the same n windows and for their difference a - b, all on the
 * same resampled indices (e.g. model macro-F1 - baseline macro-F1).
 */
export function bootstrapPairedStatistic(
  n: number,
  statisticA: (indices: Int32Array) => number,
  statisticB: (indices: Int32Array) => number,
  options: StatisticBootstrapOptions = {},
): PairedBootstrapResult {
  const { resamples, confidence, rng } = checkOptions(n, options);
  const blockLength =
    options.blockLength ?? (options.blockSeries ? politisWhiteBlockLength(options.blockSeries) : Math.max(1, Math.cbrt(n)));
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const estA = statisticA(idx);
  const estB = statisticB(idx);
  const da = new Float64Array(resamples);
  const db = new Float64Array(resamples);
  const dd = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    stationaryBootstrapIndices(idx, blockLength, rng);
    da[r] = statisticA(idx);
    db[r] = statisticB(idx);
    dd[r] = da[r]! - db[r]!;
  }
  return {
    a: summarise(estA, da, confidence, n, blockLength),
    b: summarise(estB, db, confidence, n, blockLength),
    diff: summarise(estA - estB, dd, confidence, n, blockLength),
  };
}
