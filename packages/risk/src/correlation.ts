/**
 * Rolling Pearson correlation of two return series over their last `window` values, aligned at
 * the end (both series end at the same bar). `rollingCorrelation` recomputes; `CorrelationCache`
 * keeps running sums per pair and slides them by the new values only, so a check costs O(new bars)
 * instead of O(window) once warm.
 */

interface Sums {
  n: number;
  sx: number;
  sy: number;
  sxx: number;
  syy: number;
  sxy: number;
}

function pearson(s: Sums): number {
  const { n } = s;
  if (n < 2) return 0;
  const vx = s.sxx - (s.sx * s.sx) / n;
  const vy = s.syy - (s.sy * s.sy) / n;
  // Relative tolerance: a constant series has zero variance up to rounding.
  if (vx <= 1e-12 * Math.max(s.sxx, 1e-300) || vy <= 1e-12 * Math.max(s.syy, 1e-300)) return 0;
  const r = (s.sxy - (s.sx * s.sy) / n) / Math.sqrt(vx * vy);
  return r > 1 ? 1 : r < -1 ? -1 : r;
}

function fullSums(a: ArrayLike<number>, b: ArrayLike<number>, window: number): Sums {
  const n = Math.min(window, a.length, b.length);
  const oa = a.length - n;
  const ob = b.length - n;
  const s: Sums = { n, sx: 0, sy: 0, sxx: 0, syy: 0, sxy: 0 };
  for (let i = 0; i < n; i++) {
    const x = a[oa + i]!;
    const y = b[ob + i]!;
    s.sx += x;
    s.sy += y;
    s.sxx += x * x;
    s.syy += y * y;
    s.sxy += x * y;
  }
  return s;
}

/** Pearson correlation over the last min(window, |a|, |b|) aligned values; 0 when either is constant or n < 2. */
export function rollingCorrelation(a: ArrayLike<number>, b: ArrayLike<number>, window: number): { correlation: number; samples: number } {
  const s = fullSums(a, b, window);
  return { correlation: pearson(s), samples: s.n };
}

interface Entry extends Sums {
  a: ArrayLike<number>;
  b: ArrayLike<number>;
  lenA: number;
  lenB: number;
  slides: number;
}

/**
 * Per-pair cache. Valid for append-only series: pass the same array object with values pushed at
 * the end (a JS number[] you push to). A different object, unequal growth or a shrink recomputes
 * the window from scratch; sums are also recomputed after `window` slides to bound rounding drift.
 */
export class CorrelationCache {
  private readonly entries = new Map<string, Entry>();
  /** Counts for the benchmark and tests: full recomputations and incremental slides. */
  readonly stats = { full: 0, slid: 0, hits: 0 };

  correlation(key: string, a: ArrayLike<number>, b: ArrayLike<number>, window: number): { correlation: number; samples: number } {
    const e = this.entries.get(key);
    if (e && e.a === a && e.b === b) {
      const ka = a.length - e.lenA;
      const kb = b.length - e.lenB;
      if (ka === 0 && kb === 0) {
        this.stats.hits++;
        return { correlation: pearson(e), samples: e.n };
      }
      if (ka === kb && ka > 0 && e.n === window && ka < window && e.slides + ka < window) {
        for (let j = 0; j < ka; j++) {
          const xo = a[e.lenA - window + j]!;
          const yo = b[e.lenB - window + j]!;
          const xn = a[e.lenA + j]!;
          const yn = b[e.lenB + j]!;
          e.sx += xn - xo;
          e.sy += yn - yo;
          e.sxx += xn * xn - xo * xo;
          e.syy += yn * yn - yo * yo;
          e.sxy += xn * yn - xo * yo;
        }
        e.lenA = a.length;
        e.lenB = b.length;
        e.slides += ka;
        this.stats.slid++;
        return { correlation: pearson(e), samples: e.n };
      }
    }
    const s = fullSums(a, b, window);
    this.entries.set(key, { ...s, a, b, lenA: a.length, lenB: b.length, slides: 0 });
    this.stats.full++;
    return { correlation: pearson(s), samples: s.n };
  }

  /** Drops pairs whose key is not in `keep` (closed positions). */
  prune(keep: ReadonlySet<string>): void {
    for (const k of this.entries.keys()) if (!keep.has(k)) this.entries.delete(k);
  }

  get size(): number {
    return this.entries.size;
  }
}
