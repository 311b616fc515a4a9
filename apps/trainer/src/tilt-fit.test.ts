import { describe, expect, it } from 'vitest';
import { volTargetFractions } from '@task-agnostic/backtest';
import { generateSyntheticMarket, sliceColumns, type TaskOutputs, type TradingDecision } from '@task-agnostic/core';
import type { Fuse } from '@task-agnostic/fusion';
import { backtestOutputs } from './backtest-run.js';
import { resolveConfig } from './config.js';
import type { SymbolData } from './data-source.js';
import { fitTiltPolicy, tiltCandidates, tiltFuse, tiltRisk, tiltScales, MAX_TILT, TILT_BANDS, TILT_HALF_LIVES, TILT_HEAD_SETS, TILT_WEIGHTS } from './tilt-fit.js';

const N = 2400;
const H = 24;
const HOUR = 3_600_000;
const market = generateSyntheticMarket({ bars: N + H, seed: 5 }).candles;
const candles = sliceColumns(market, 0, N);
const data: SymbolData = { symbol: 'SYNUSDT', interval: '1h', candles, source: 'synthetic', dropped: 0, filled: 0 };
// a forecast that moves, so the vol-targeted base moves
const forecast = Float64Array.from({ length: N }, (_, t) => 0.006 + 0.004 * Math.sin(t / 150));
const cfg = resolveConfig('quick');
const fitOpts = { rebalanceEvery: 24, garchHorizon: 24 };

/** Outputs whose direction head knows the next day's move (a perfect timer), and whose return head says the opposite. */
function outputsWith(dirSign: number, retSign: number): TaskOutputs[] {
  return Array.from({ length: N }, (_, t) => {
    const fwd = Math.log(market.close[t + H]! / market.close[t]!);
    const s = Math.sign(fwd);
    const up = 0.34 + 0.1 * dirSign * s;
    return { direction: { up, down: 0.68 - up, sideways: 0.32 }, return: { expected: retSign * fwd, std: 0.02 } } as TaskOutputs;
  });
}

/** backtestOutputs of a tilt with every decision and the exposure held when it was made. */
function recorded(policy: Parameters<typeof tiltFuse>[0], outputs: readonly TaskOutputs[]) {
  const seen: { d: TradingDecision; held: number; t: number }[] = [];
  const fuse = tiltFuse(policy, candles, forecast, { targetAnnualVol: 0.4, maxLeverage: 1, barsPerYear: 8760, rebalanceEvery: 24, barMs: HOUR });
  let t = 0;
  const spy: Fuse = (o, ctx) => {
    const d = fuse(o, ctx);
    seen.push({ d, held: ctx!.heldExposure!, t: t++ });
    return d;
  };
  const bt = backtestOutputs(cfg, data, 0, N, outputs, spy, tiltRisk(cfg.risk));
  return { seen, bt };
}

describe('the tilt as the trainer backtests it (TiltRunner -> risk gate -> engine)', () => {
  it('asks for base x clamp(1 + weight x score, 0, 2) on 00:00 UTC bars only, outside the band: an independent computation agrees bar by bar', () => {
    const outputs = outputsWith(1, -1);
    const scales = tiltScales([outputs]);
    const policy = { weight: 1, heads: ['direction' as const], scales: { direction: scales.direction! }, maxTilt: MAX_TILT, band: 0.1, halfLife: 0 };
    const { seen, bt } = recorded(policy, outputs);
    const base = volTargetFractions(forecast, { targetAnnualVol: 0.4, maxLeverage: 1, barsPerYear: 8760 });
    let trades = 0;
    for (const { d, held, t } of seen) {
      const s = (outputs[t]!.direction!.up - outputs[t]!.direction!.down) / scales.direction!;
      const target = Math.min(1, base[t]! * Math.max(0, Math.min(2, 1 + s)));
      const rebalance = Math.floor(candles.tsMs[t]! / HOUR) % 24 === 0;
      if (!rebalance || Math.abs(target - held) <= 0.1) expect(d.action).toBe('hold');
      else {
        trades++;
        expect(d.side).toBe(target > 0 ? 'long' : 'flat');
        expect(d.sizeFraction).toBeCloseTo(target, 12);
      }
    }
    expect(trades).toBeGreaterThan(20);
    // the gate sized by the decision: the position after the next open is the target (to the qty rounding)
    expect(bt.result.metrics.trades).toBeGreaterThan(0);
    expect(bt.decisions.vetoed).toBe(0);
  });

  it('turnover control cuts turnover: a wider band and a smoothed score trade less', () => {
    // a view that drifts and jitters (not the all-or-nothing timer): the target moves a little every day
    const outputs = Array.from({ length: N }, (_, t) => {
      const x = 0.04 * Math.sin(t / 90) + 0.02 * Math.sin(t * 1.7);
      return { direction: { up: 0.35 + x / 2, down: 0.35 - x / 2, sideways: 0.3 } } as TaskOutputs;
    });
    const sc = tiltScales([outputs]);
    const p = (band: number, halfLife: number) => ({ weight: 1, heads: ['direction' as const], scales: { direction: sc.direction! }, maxTilt: MAX_TILT, band, halfLife });
    const turnover = (band: number, halfLife: number) => recorded(p(band, halfLife), outputs).bt.result.metrics.turnover;
    const plain = turnover(0, 0);
    expect(turnover(0.3, 0)).toBeLessThan(plain * 0.8);
    expect(turnover(0, 48)).toBeLessThan(plain);
  });
});

describe('fitTiltPolicy', () => {
  it('keeps the head that carries the edge and drops the one that destroys it; every candidate (bands and half-lives too) is a trial', () => {
    const outputs = outputsWith(1, -1);
    const { policy, report } = fitTiltPolicy(cfg, [{ data, start: 0, end: N, outputs, forecast }], fitOpts);
    expect(policy.heads).toEqual(['direction']);
    expect(policy.weight).toBeGreaterThan(0);
    expect(report.chosen.objective).toBeGreaterThan(report.baseline);
    for (const c of report.candidates) expect(report.chosen.objective).toBeGreaterThanOrEqual(c.objective);
    expect(report.candidates).toHaveLength(TILT_BANDS.length + TILT_HEAD_SETS.length * TILT_WEIGHTS.length * TILT_BANDS.length * TILT_HALF_LIVES.length);
    expect(report.candidates).toHaveLength(tiltCandidates(tiltScales([outputs])).length);
    expect(report.candidates[0]).toMatchObject({ weight: 0, band: 0, halfLife: 0 });
    expect(report.baseline).toBe(report.candidates[0]!.objective);
    expect(report.trials.SYNUSDT!.count).toBe(report.candidates.length);
    expect(report.withoutTurnoverControl).toMatchObject({ band: 0, halfLife: 0 });
    expect(policy.scales.direction).toBeCloseTo(tiltScales([outputs]).direction!, 12);
    expect([policy.band, policy.halfLife]).toEqual([report.chosen.band, report.chosen.halfLife]);
    expect(policy.base).toEqual({ volatility: 'garch', garchHorizon: 24, rebalanceEvery: 24 });
    // swap the roles: the return head is the timer and the direction head lies
    const swapped = fitTiltPolicy(cfg, [{ data, start: 0, end: N, outputs: outputsWith(-1, 1), forecast }], fitOpts).policy;
    expect(swapped.heads).toEqual(['return']);
  });

  it('a model without a return head: only direction candidates; mismatched lengths are named', () => {
    const outputs = outputsWith(1, 1).map((o) => ({ direction: o.direction }) as TaskOutputs);
    expect(tiltCandidates(tiltScales([outputs])).every((c) => !c.heads.includes('return'))).toBe(true);
    expect(tiltCandidates(tiltScales([outputs]))).toHaveLength(TILT_BANDS.length * (1 + TILT_WEIGHTS.length * TILT_HALF_LIVES.length));
    expect(() => fitTiltPolicy(cfg, [{ data, start: 0, end: N, outputs: outputs.slice(1), forecast }], fitOpts)).toThrow(/SYNUSDT: 2399 outputs and 2400 forecasts for 2400 validation candles/);
  });
});
