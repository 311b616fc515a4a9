/** Small numeric helpers shared by the packages (all float64, NaN-free inputs assumed). */

type Num = ArrayLike<number>;

export function mean(x: Num): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return x.length ? s / x.length : NaN;
}

/** Sample variance (n - 1 denominator when `sample`, else population). */
export function variance(x: Num, sample = true): number {
  const n = x.length;
  if (n < (sample ? 2 : 1)) return NaN;
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < n; i++) s += (x[i]! - m) ** 2;
  return s / (sample ? n - 1 : n);
}

export function std(x: Num, sample = true): number {
  return Math.sqrt(variance(x, sample));
}

/** Population skewness. */
export function skewness(x: Num): number {
  const n = x.length;
  const m = mean(x);
  let m2 = 0;
  let m3 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - m;
    m2 += d * d;
    m3 += d * d * d;
  }
  m2 /= n;
  m3 /= n;
  return m2 > 0 ? m3 / m2 ** 1.5 : 0;
}

/** Population excess kurtosis (0 for a normal distribution). */
export function excessKurtosis(x: Num): number {
  const n = x.length;
  const m = mean(x);
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - m;
    const d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
  }
  m2 /= n;
  m4 /= n;
  return m2 > 0 ? m4 / (m2 * m2) - 3 : 0;
}

/** Sample autocorrelation at `lag`. */
export function autocorrelation(x: Num, lag: number): number {
  const n = x.length;
  const m = mean(x);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - m;
    den += d * d;
    if (i >= lag) num += d * (x[i - lag]! - m);
  }
  return den > 0 ? num / den : 0;
}

/** Pearson correlation. */
export function correlation(x: Num, y: Num): number {
  const n = Math.min(x.length, y.length);
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i]! - mx;
    const b = y[i]! - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

/** Linear-interpolated quantile q in [0, 1] (type 7, as numpy's default). */
export function quantile(x: Num, q: number): number {
  const sorted = Float64Array.from(x).sort();
  return quantileSorted(sorted, q);
}

export function quantileSorted(sorted: Num, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Share of `sorted` values <= v (binary search), in [0, 1]. */
export function percentileRank(sorted: Num, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length ? lo / sorted.length : NaN;
}

/** Log returns of a price series: out[i] = ln(p[i] / p[i-1]), out[0] = NaN. */
export function logReturns(p: Num): Float64Array {
  const out = new Float64Array(p.length);
  out[0] = NaN;
  for (let i = 1; i < p.length; i++) out[i] = Math.log(p[i]! / p[i - 1]!);
  return out;
}
