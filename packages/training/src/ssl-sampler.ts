/**
 * Batches for the self-supervised objectives, drawn with a seeded Rng from one split's rows only:
 * anchors (other assets and distant times of the same asset are each other's negatives), masks
 * with exactly round(maskRatio * T) hidden steps per window, positives (a nearby or overlapping
 * window of the same asset, both augmented by jitter and scaling), ordered pairs, and next-bar
 * return statistics.
 */
import type { Rng } from '@task-agnostic/core';
import { DataError } from '@task-agnostic/core';
import type { FeatureMatrixLike } from './contracts.js';

/** Window ends e allowed in one series: minEnd <= e <= maxEnd, where e + 1 (the next bar) is still inside the split. */
export interface EndRange {
  readonly minEnd: number;
  readonly maxEnd: number;
}

export interface SslSource {
  /** Normalised feature matrices, one per series. */
  readonly matrices: readonly FeatureMatrixLike[];
  /** Close prices per series (next-step statistics). */
  readonly closes: readonly Float64Array[];
  readonly ranges: readonly EndRange[];
}

export interface SamplerOptions {
  readonly windowLength: number;
  readonly maskRatio: number;
  /** Positives end within +-maxShift bars of the anchor. */
  readonly positiveMaxShift: number;
  readonly jitterStd: number;
  readonly scaleStd: number;
  /** Anchors of the same series in one batch are at least this many bars apart. */
  readonly negativeMinGap: number;
  readonly orderMinGap: number;
  readonly orderMaxGap: number;
}

export interface Anchor {
  readonly series: number;
  readonly end: number;
}

export function checkSource(src: SslSource, W: number): void {
  if (src.matrices.length === 0) throw new DataError('self-supervised source has no series');
  src.ranges.forEach((r, s) => {
    const m = src.matrices[s]!;
    if (r.minEnd < m.warmup + W - 1) throw new DataError(`series ${s}: minEnd ${r.minEnd} would read rows before the warm-up (${m.warmup}) with window ${W}`);
    if (r.maxEnd + 1 >= m.rows || r.maxEnd + 1 >= src.closes[s]!.length) throw new DataError(`series ${s}: maxEnd ${r.maxEnd} leaves no next bar`);
  });
  if (!src.ranges.some((r) => r.maxEnd >= r.minEnd)) throw new DataError('self-supervised source: no series has a usable window');
}

export function sampleAnchors(src: SslSource, n: number, minGap: number, rng: Rng): Anchor[] {
  const sizes = src.ranges.map((r) => Math.max(0, r.maxEnd - r.minEnd + 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  const out: Anchor[] = [];
  for (let i = 0; i < n; i++) {
    let pick: Anchor | null = null;
    for (let tries = 0; tries < 20 && !pick; tries++) {
      let k = rng.int(total);
      let s = 0;
      while (k >= sizes[s]!) k -= sizes[s++]!;
      const cand = { series: s, end: src.ranges[s]!.minEnd + k };
      const tooClose = out.some((a) => a.series === cand.series && Math.abs(a.end - cand.end) < minGap);
      if (!tooClose || tries === 19) pick = cand;
    }
    out.push(pick!);
  }
  return out;
}

/** Copies windows [n, W, F] for the anchors. */
export function windowsOf(src: SslSource, anchors: readonly Anchor[], W: number): Float32Array {
  const F = src.matrices[0]!.cols;
  const out = new Float32Array(anchors.length * W * F);
  anchors.forEach((a, i) => {
    const m = src.matrices[a.series]!;
    out.set(m.data.subarray((a.end - W + 1) * F, (a.end + 1) * F), i * W * F);
  });
  return out;
}

/** [n, W] mask with exactly round(ratio * W) ones per row (at least 1), positions drawn per row. */
export function sampleMask(n: number, W: number, ratio: number, rng: Rng): Float32Array {
  const k = Math.max(1, Math.round(ratio * W));
  const mask = new Float32Array(n * W);
  const idx = new Int32Array(W);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < W; t++) idx[t] = t;
    for (let t = 0; t < k; t++) {
      const j = t + rng.int(W - t);
      const tmp = idx[t]!;
      idx[t] = idx[j]!;
      idx[j] = tmp;
      mask[i * W + idx[t]!] = 1;
    }
  }
  return mask;
}

/** x with masked steps set to 0 (the normalised mean). */
export function applyMask(x: Float32Array, mask: Float32Array, W: number, F: number): Float32Array {
  const out = x.slice();
  const n = mask.length / W;
  for (let i = 0; i < n; i++) for (let t = 0; t < W; t++) if (mask[i * W + t]) out.fill(0, (i * W + t) * F, (i * W + t + 1) * F);
  return out;
}

/** Jitter (additive N(0, jitterStd)) and per-window per-feature scaling (1 + N(0, scaleStd)). */
export function augment(x: Float32Array, n: number, W: number, F: number, o: SamplerOptions, rng: Rng): Float32Array {
  const out = new Float32Array(x.length);
  const scale = new Float64Array(F);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) scale[f] = 1 + o.scaleStd * rng.normal();
    for (let t = 0; t < W; t++) {
      const base = (i * W + t) * F;
      for (let f = 0; f < F; f++) out[base + f] = x[base + f]! * scale[f]! + o.jitterStd * rng.normal();
    }
  }
  return out;
}

/** A positive for each anchor: same series, end shifted by a uniform draw in [-maxShift, maxShift], clamped into the range. */
export function positivesOf(src: SslSource, anchors: readonly Anchor[], maxShift: number, rng: Rng): Anchor[] {
  return anchors.map((a) => {
    const r = src.ranges[a.series]!;
    const e = a.end + rng.int(2 * maxShift + 1) - maxShift;
    return { series: a.series, end: Math.min(r.maxEnd, Math.max(r.minEnd, e)) };
  });
}

/**
 * Ordered pairs: for each anchor a later window of the same series (gap in [minGap, maxGap]);
 * with probability 1/2 the pair is swapped. label = 1 when the first window is the earlier one.
 */
export function orderPairs(src: SslSource, anchors: readonly Anchor[], minGap: number, maxGap: number, rng: Rng): { first: Anchor[]; second: Anchor[]; label: Float32Array } {
  const first: Anchor[] = [];
  const second: Anchor[] = [];
  const label = new Float32Array(anchors.length);
  anchors.forEach((a, i) => {
    const r = src.ranges[a.series]!;
    const gap = minGap + rng.int(Math.max(1, maxGap - minGap + 1));
    let early = a.end;
    let late = early + gap;
    if (late > r.maxEnd) {
      late = r.maxEnd;
      early = Math.max(r.minEnd, late - gap);
    }
    if (late === early) late = Math.min(r.maxEnd, early + 1);
    const swap = rng.bernoulli(0.5);
    first.push({ series: a.series, end: swap ? late : early });
    second.push({ series: a.series, end: swap ? early : late });
    label[i] = late === early ? 0.5 : swap ? 0 : 1;
  });
  return { first, second, label };
}

/** Next-bar statistics: [sign(r) > 0 as 0/1, |r| / meanAbs] with r = log(close[e+1] / close[e]). */
export function nextStepTargets(src: SslSource, anchors: readonly Anchor[], meanAbs: number): { sign: Float32Array; size: Float32Array } {
  const sign = new Float32Array(anchors.length);
  const size = new Float32Array(anchors.length);
  anchors.forEach((a, i) => {
    const c = src.closes[a.series]!;
    const r = Math.log(c[a.end + 1]! / c[a.end]!);
    sign[i] = r > 0 ? 1 : 0;
    size[i] = Math.abs(r) / meanAbs;
  });
  return { sign, size };
}

/** Mean |log return| of the next bars over the source's ranges (the size scale). */
export function meanAbsNextReturn(src: SslSource): number {
  let s = 0;
  let n = 0;
  src.ranges.forEach((r, k) => {
    const c = src.closes[k]!;
    for (let e = r.minEnd; e <= r.maxEnd; e++) {
      s += Math.abs(Math.log(c[e + 1]! / c[e]!));
      n++;
    }
  });
  return n > 0 && s > 0 ? s / n : 1;
}
