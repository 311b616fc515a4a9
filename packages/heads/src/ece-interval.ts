/**
 * A bootstrap interval for the expected calibration error: the ECE of a classifier's probabilities
 * recomputed on stationary block resamples of the windows (core's bootstrap; blocks keep neighbouring
 * windows, which share a market state, together). The ECE is biased upward on small samples (an
 * exactly calibrated model shows a positive ECE), so a percentile interval says how far the point
 * estimate may move with another draw of windows, not that the true ECE lies inside it.
 */
import { bootstrapStatistic, type BootstrapInterval } from '@task-agnostic/core';

export interface EceIntervalOptions {
  /** Equal-width bins of the top-label confidence (default 15, as `reliability`). */
  readonly bins?: number;
  readonly resamples?: number;
  /** Two-sided level (default 0.9). */
  readonly confidence?: number;
  /** Mean block length in windows (default: the cube root of n, core's default). */
  readonly blockLength?: number;
  readonly seed?: number;
}

/** ECE of probabilities [n, K] with an interval from `resamples` block resamples of the n windows. */
export function eceInterval(probs: ArrayLike<number>, labels: ArrayLike<number>, n: number, K: number, o: EceIntervalOptions = {}): BootstrapInterval {
  if (probs.length !== n * K) throw new RangeError(`eceInterval: ${probs.length} probabilities for ${n} rows of ${K} classes`);
  if (labels.length < n) throw new RangeError(`eceInterval: ${labels.length} labels for ${n} rows`);
  const nBins = o.bins ?? 15;
  // the top label's confidence and hit per window, once
  const bin = new Int32Array(n);
  const conf = new Float64Array(n);
  const hit = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (probs[i * K + k]! > probs[i * K + best]!) best = k;
    const p = probs[i * K + best]!;
    conf[i] = p;
    hit[i] = best === labels[i] ? 1 : 0;
    bin[i] = Math.min(nBins - 1, Math.floor(p * nBins));
  }
  const cnt = new Float64Array(nBins);
  const sc = new Float64Array(nBins);
  const sa = new Float64Array(nBins);
  const ece = (idx: Int32Array): number => {
    cnt.fill(0);
    sc.fill(0);
    sa.fill(0);
    for (let j = 0; j < idx.length; j++) {
      const i = idx[j]!;
      const b = bin[i]!;
      cnt[b]!++;
      sc[b]! += conf[i]!;
      sa[b]! += hit[i]!;
    }
    let e = 0;
    for (let b = 0; b < nBins; b++) if (cnt[b]! > 0) e += Math.abs(sa[b]! - sc[b]!) / idx.length;
    return e;
  };
  return bootstrapStatistic(n, ece, {
    resamples: o.resamples ?? 500,
    confidence: o.confidence ?? 0.9,
    seed: o.seed ?? 0,
    ...(o.blockLength !== undefined ? { blockLength: o.blockLength } : {}),
  });
}
