/**
 * Regime recovery against the synthetic generator's ground truth (not against the labels): on the
 * test windows of every synthetic symbol, the regime head's most probable class at row t is compared
 * with the generator's regime of the forward window (t, t+h] (the most frequent true regime over those
 * bars, ties to the lower index: what the regime label describes) and with the regime in force at t.
 * Accuracy comes with a stationary block-bootstrap 95% interval over the per-window hits (core's
 * bootstrapMean, Politis-White block length: the windows overlap and regimes last hundreds of
 * bars) and, for reference, the Wilson interval that treats windows as independent (optimistic).
 */
import { REGIMES, bootstrapMean, type BootstrapInterval } from '@task-agnostic/core';
import type { TaskOutputs } from '@task-agnostic/core';
import type { SyntheticTruth } from './data-source.js';

export interface RegimeTruthBySymbol {
  readonly n: number;
  /** Share of test rows whose predicted regime equals the true forward-window regime. */
  readonly accuracy: number;
  /** The same against the true regime in force at t. */
  readonly accuracyNow: number;
  /** The oracle (the generator's own causal filter, its regime at t) against the same forward truth, on the same rows. */
  readonly oracleAccuracy?: number;
  /** Rows = true forward regime, columns = predicted, REGIMES order. */
  readonly confusion: number[][];
}

export interface RegimeTruthReport {
  readonly horizon: number;
  readonly n: number;
  readonly accuracy: number;
  /** Wilson 95% interval of `accuracy` over the n rows (treats rows as independent: optimistic). */
  readonly interval: readonly [number, number];
  /** Stationary block bootstrap of `accuracy` over the per-window hits (honours the overlap). */
  readonly blockInterval: BootstrapInterval | null;
  readonly accuracyNow: number;
  /** The oracle against the same truth on the same rows (when the series carry it): what a causal filter that knows the generator achieves. */
  readonly oracleAccuracy?: number;
  /** Distinct true regime spells the test rows cover: the honest count of independent cases. */
  readonly spells: number;
  readonly bySymbol: Record<string, RegimeTruthBySymbol>;
}

/** Wilson score interval for k successes in n trials (z = 1.96). */
export function wilsonInterval(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

/** The most frequent true regime over bars t+1..t+h (ties to the lower REGIMES index). */
export function forwardTrueRegime(regimes: Uint8Array, t: number, h: number): number {
  const counts = new Array<number>(REGIMES.length).fill(0);
  for (let k = t + 1; k <= t + h; k++) counts[regimes[k]!]!++;
  let best = 0;
  for (let j = 1; j < counts.length; j++) if (counts[j]! > counts[best]!) best = j;
  return best;
}

export interface RegimeTruthInput {
  /** Per test row: the series index and the window's last candle row t. */
  readonly seriesIds: Int32Array;
  readonly endRows: Int32Array;
  /** The model's decoded outputs for those rows (regime must be present). */
  readonly outputs: readonly TaskOutputs[];
  /** Per series: its symbol and the generator's truth (series without truth are skipped). */
  readonly series: readonly { readonly symbol: string; readonly truth?: SyntheticTruth | undefined }[];
  /** The regime task's horizon h. */
  readonly horizon: number;
}

/** Accuracy of the regime head against the generator's truth; null when no series has truth. */
export function regimeTruthAccuracy(o: RegimeTruthInput): RegimeTruthReport | null {
  const K = REGIMES.length;
  const per = new Map<number, { n: number; ok: number; okNow: number; okOracle: number; nOracle: number; confusion: number[][] }>();
  const hits: number[] = [];
  let spells = 0;
  for (let i = 0; i < o.endRows.length; i++) {
    const s = o.seriesIds[i]!;
    const truth = o.series[s]?.truth;
    const pred = o.outputs[i]?.regime;
    if (!truth || !pred) continue;
    const t = o.endRows[i]!;
    if (t + o.horizon >= truth.regimes.length) continue;
    let p = per.get(s);
    if (!p) {
      p = { n: 0, ok: 0, okNow: 0, okOracle: 0, nOracle: 0, confusion: Array.from({ length: K }, () => new Array<number>(K).fill(0)) };
      per.set(s, p);
    }
    const y = forwardTrueRegime(truth.regimes, t, o.horizon);
    const yhat = REGIMES.indexOf(pred.label);
    p.n++;
    hits.push(yhat === y ? 1 : 0);
    if (yhat === y) p.ok++;
    if (yhat === truth.regimes[t]) p.okNow++;
    if (truth.oracle) {
      p.nOracle++;
      if (truth.oracle[t] === y) p.okOracle++;
    }
    p.confusion[y]![yhat]!++;
  }
  if (per.size === 0) return null;
  // Spells: maximal runs of one true regime over the bars the test rows look at, per series.
  for (const s of per.keys()) {
    const truth = o.series[s]!.truth!;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < o.endRows.length; i++) {
      if (o.seriesIds[i] !== s) continue;
      lo = Math.min(lo, o.endRows[i]!);
      hi = Math.max(hi, Math.min(o.endRows[i]! + o.horizon, truth.regimes.length - 1));
    }
    spells++;
    for (let k = lo + 1; k <= hi; k++) if (truth.regimes[k] !== truth.regimes[k - 1]) spells++;
  }
  let n = 0;
  let ok = 0;
  let okNow = 0;
  let okOracle = 0;
  let nOracle = 0;
  const bySymbol: Record<string, RegimeTruthBySymbol> = {};
  for (const [s, p] of per) {
    n += p.n;
    ok += p.ok;
    okNow += p.okNow;
    okOracle += p.okOracle;
    nOracle += p.nOracle;
    bySymbol[o.series[s]!.symbol] = { n: p.n, accuracy: p.ok / p.n, accuracyNow: p.okNow / p.n, ...(p.nOracle ? { oracleAccuracy: p.okOracle / p.nOracle } : {}), confusion: p.confusion };
  }
  const blockInterval = n >= 2 ? bootstrapMean(hits, { seed: 1, resamples: 1000 }) : null;
  return { horizon: o.horizon, n, accuracy: ok / n, interval: wilsonInterval(ok, n), blockInterval, accuracyNow: okNow / n, ...(nOracle ? { oracleAccuracy: okOracle / nOracle } : {}), spells, bySymbol };
}
