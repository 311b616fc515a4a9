/**
 * The tilt policy bar by bar, as the trader and the trainer's backtests both run it: one TiltRunner
 * per symbol is shown every closed bar in order (`observe`: the model's outputs and the volatility
 * forecast at its close) and asked for a decision (`decide`) given the exposure held at that close.
 *
 *   score      = the mean standardised signal of the heads the policy reads (tilt-policy), smoothed by
 *                an exponential moving average of half-life `halfLife` bars (0: the bar's own score);
 *   multiplier = clamp(1 + weight x score, 0, maxTilt) (weight 0: 1, the baseline);
 *   base       = targetAnnualVol / (max(forecast, minVolatility) x sqrt(barsPerYear)), capped at maxLeverage
 *                (backtest's volTargetFractions: weight 0 is vol-targeted buy-and-hold);
 *   target     = min(maxLeverage, base x multiplier), a fraction of equity, long or flat.
 *
 * Turnover control: it decides only on rebalance bars, those whose open time is a multiple of
 * `rebalanceEvery` bars since the epoch (UTC-anchored, so a trader and a backtest that start at
 * different bars rebalance at the same ones), and then trades only when |target - held| exceeds the
 * policy's no-trade `band`; otherwise it holds (keeps the position). The decision's size is the
 * target itself: the risk gate's 'decision' sizing mode caps it and every layer still applies.
 */
import type { TaskOutputs, TradingDecision } from '@task-agnostic/core';
import { ConfigError, holdDecision } from '@task-agnostic/core';
import { checkTiltPolicy, tiltDecision, type TiltPolicy } from './tilt-policy.js';

/**
 * The risk settings the tilt trades under, merged over the configured ones (risk's withRiskOverrides):
 * the gate sizes by the decision ('decision' mode: the tilt's target, capped at max leverage and the
 * remaining exposure) with no entry thresholds; every limit, halt and the kill switch stay. The
 * strategy layer's trade-based allocation is left out: it judges round trips, and each of the tilt's
 * re-sizings closes part of one.
 */
export const TILT_RISK_OVERRIDES: Readonly<Record<string, unknown>> = Object.freeze({
  minConfidence: 0,
  minAgreement: 0,
  sizing: { mode: 'decision' },
  strategy: { lookbackTrades: 1, minTrades: 1_000_000 },
});

export interface TiltRunnerOptions {
  /** Annualised volatility of the base position (0.4 = 40%). */
  readonly targetAnnualVol: number;
  readonly maxLeverage: number;
  /** Bars in 365 days of the interval traded (8760 = 1h). */
  readonly barsPerYear: number;
  /** Decide on every this-many-th bar, anchored at the epoch (24 on 1h = the bar opening at 00:00 UTC). */
  readonly rebalanceEvery: number;
  /** The bar length (ms). */
  readonly barMs: number;
  /** Per-bar forecasts below this are floored (default 1e-4, as volTargetFractions). */
  readonly minVolatility?: number;
}

/** What the runner would hold at the last bar it observed, before the band. */
export interface TiltTarget {
  /** Fraction of equity (long), or null while it cannot decide (warm-up, or a head absent). */
  readonly exposure: number | null;
  readonly multiplier: number;
  /** The (smoothed) score. */
  readonly score: number;
  readonly base: number;
  readonly reasoning: string;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

export class TiltRunner {
  private readonly lambda: number;
  private readonly k: number;
  private readonly floor: number;
  private readonly every: number;
  private ema = Number.NaN;
  private scored = 0;
  private ts = Number.NaN;
  private last: TiltTarget = { exposure: null, multiplier: Number.NaN, score: Number.NaN, base: Number.NaN, reasoning: 'HOLD: warming up (no bar observed yet)' };

  constructor(
    readonly policy: TiltPolicy,
    readonly o: TiltRunnerOptions,
  ) {
    checkTiltPolicy(policy);
    for (const key of ['targetAnnualVol', 'maxLeverage', 'barsPerYear', 'barMs'] as const) {
      if (!(o[key] > 0) || !Number.isFinite(o[key])) throw new ConfigError(`tilt runner ${key} must be a finite number > 0, got ${String(o[key])}`, key);
    }
    if (!Number.isInteger(o.rebalanceEvery) || o.rebalanceEvery < 1) throw new ConfigError(`tilt rebalanceEvery must be an integer >= 1, got ${o.rebalanceEvery}`, 'decisionPolicy.tilt.base.rebalanceEvery');
    const h = policy.halfLife ?? 0;
    this.lambda = h > 0 ? Math.pow(2, -1 / h) : 0;
    this.k = o.targetAnnualVol / Math.sqrt(o.barsPerYear);
    this.floor = o.minVolatility ?? 1e-4;
    this.every = o.rebalanceEvery;
  }

  /** The target at the last observed bar (before the band). */
  get target(): TiltTarget {
    return this.last;
  }

  /** Whether a bar opening at `tsMs` is a rebalance bar. */
  rebalancesAt(tsMs: number): boolean {
    return Math.floor(tsMs / this.o.barMs) % this.every === 0;
  }

  /**
   * One closed bar, in time order: the model's outputs at it (undefined while the model warms up) and
   * the volatility forecast at its close (per bar). Every bar must be observed, traded or not (a
   * restart replays its history through here), so the moving average and the forecast stay in step.
   */
  observe(tsMs: number, outputs: TaskOutputs | undefined, forecast: number): void {
    if (!(tsMs > this.ts) && !Number.isNaN(this.ts)) throw new RangeError(`tilt runner: bar ${tsMs} is not after ${this.ts}`);
    this.ts = tsMs;
    const p = this.policy;
    if (!(forecast >= 0) || !Number.isFinite(forecast)) {
      this.last = { exposure: null, multiplier: Number.NaN, score: this.ema, base: Number.NaN, reasoning: `HOLD: no volatility forecast for the base position (got ${String(forecast)})` };
      return;
    }
    const base = Math.min(this.o.maxLeverage, this.k / Math.max(forecast, this.floor));
    if (!outputs) {
      this.last = { exposure: null, multiplier: Number.NaN, score: this.ema, base, reasoning: 'HOLD: warming up (the model has no outputs yet)' };
      return;
    }
    const d = tiltDecision(outputs, p);
    if (d.multiplier === null) {
      this.last = { exposure: null, multiplier: Number.NaN, score: this.ema, base, reasoning: d.reasoning };
      return;
    }
    let m = d.multiplier;
    let why = d.reasoning;
    if (p.weight > 0 && this.lambda > 0) {
      this.ema = this.scored === 0 ? d.score : this.lambda * this.ema + (1 - this.lambda) * d.score;
      m = Math.max(0, Math.min(p.maxTilt, 1 + p.weight * this.ema));
      why = `tilt: score ${d.score.toFixed(3)}, smoothed (half-life ${p.halfLife} bars) ${this.ema.toFixed(3)} -> ${m.toFixed(3)}x the vol-targeted position`;
    } else this.ema = d.score;
    this.scored++;
    const exposure = Math.min(this.o.maxLeverage, base * m);
    this.last = { exposure, multiplier: m, score: this.ema, base, reasoning: `${why}: ${pct(base)} x ${m.toFixed(3)} = ${pct(exposure)} of equity` };
  }

  /**
   * The decision at the last observed bar given the exposure held at its close (signed fraction of
   * equity: qty x close / equity). Holds off rebalance bars and inside the band; long `target` or
   * flat otherwise. The decision carries no exits (the risk gate's 'decision' mode keeps them at 0).
   */
  decide(heldExposure: number, symbol?: string, outputs?: TaskOutputs): TradingDecision {
    const tsMs = Number.isNaN(this.ts) ? 0 : this.ts;
    const t = this.last;
    if (t.exposure === null) return holdDecision(tsMs, t.reasoning, symbol);
    if (!this.rebalancesAt(tsMs)) return holdDecision(tsMs, `${t.reasoning}; HOLD: not a rebalance bar (every ${this.every} bars)`, symbol);
    const held = Number.isFinite(heldExposure) ? heldExposure : 0;
    const band = this.policy.band ?? 0;
    if (Math.abs(t.exposure - held) <= band) return holdDecision(tsMs, `${t.reasoning}; HOLD: ${pct(held)} held is within the ${pct(band)} no-trade band`, symbol);
    const common = {
      tsMs,
      ...(symbol ? { symbol } : {}),
      confidence: Math.max(0, Math.min(1, t.multiplier / this.policy.maxTilt)),
      agreement: 1,
      stopLossPct: 0,
      takeProfitPct: 0,
      reasoning: `${t.reasoning}; ${pct(held)} held -> ${pct(t.exposure)}`,
      ...(outputs ? { outputs } : {}),
    };
    return t.exposure > 0 ? { ...common, action: 'buy', side: 'long', sizeFraction: t.exposure } : { ...common, action: 'sell', side: 'flat', sizeFraction: 0 };
  }
}
