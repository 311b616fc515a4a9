import { describe, expect, it } from 'vitest';
import { runSignalBacktest, thinSignal, volTargetedBuyAndHoldSignal } from '@task-agnostic/backtest';
import { generateSyntheticMarket, sliceColumns, type TaskOutputs } from '@task-agnostic/core';
import { fitTiltPolicy, tiltScales, tiltSignalOf, TILT_HEAD_SETS, TILT_WEIGHTS } from './tilt-fit.js';

const N = 2400;
const H = 24;
const market = generateSyntheticMarket({ bars: N + H, seed: 5 }).candles;
const candles = sliceColumns(market, 0, N);
const forecast = new Float64Array(N).fill(0.01);
const vt = { targetAnnualVol: 0.4, maxLeverage: 1, barsPerYear: 8760 };
const opts = { ...vt, rebalanceEvery: 24, garchHorizon: 24, backtest: { interval: '1h' } };

/** Outputs whose direction head knows the next day's move (a perfect timer), and whose return head says the opposite. */
function outputsWith(dirSign: number, retSign: number): TaskOutputs[] {
  return Array.from({ length: N }, (_, t) => {
    const fwd = Math.log(market.close[t + H]! / market.close[t]!);
    const s = Math.sign(fwd);
    const up = 0.34 + 0.1 * dirSign * s;
    return { direction: { up, down: 0.68 - up, sideways: 0.32 }, return: { expected: retSign * fwd, std: 0.02 } } as TaskOutputs;
  });
}

describe('fitTiltPolicy', () => {
  it('weight 0 is vol-targeted buy-and-hold itself: the same signal, the same backtest', () => {
    const outputs = outputsWith(1, -1);
    const { report } = fitTiltPolicy([{ symbol: 'SYN', candles, outputs, forecast }], opts);
    const base = runSignalBacktest(candles, thinSignal(volTargetedBuyAndHoldSignal(forecast, vt), 24), { interval: '1h', symbol: 'SYN' });
    expect(report.candidates[0]!.weight).toBe(0);
    expect(report.baseline).toBe(base.metrics.sharpe);
    const zero = tiltSignalOf({ weight: 0, heads: [], scales: {}, maxTilt: 2, base: { volatility: 'garch', garchHorizon: 24, rebalanceEvery: 24 } }, outputs, forecast, vt);
    expect(Array.from(zero)).toEqual(Array.from(thinSignal(volTargetedBuyAndHoldSignal(forecast, vt), 24)));
  });

  it('keeps the head that carries the edge and drops the one that destroys it; every candidate is a trial', () => {
    const outputs = outputsWith(1, -1);
    const { policy, report } = fitTiltPolicy([{ symbol: 'SYN', candles, outputs, forecast }], opts);
    expect(policy.heads).toEqual(['direction']);
    expect(policy.weight).toBeGreaterThan(0);
    expect(report.chosen.objective).toBeGreaterThan(report.baseline);
    // the chosen one is the best candidate
    for (const c of report.candidates) expect(report.chosen.objective).toBeGreaterThanOrEqual(c.objective);
    expect(report.candidates).toHaveLength(1 + TILT_HEAD_SETS.length * TILT_WEIGHTS.length);
    expect(report.trials.SYN!.count).toBe(report.candidates.length);
    expect(policy.scales.direction).toBeCloseTo(tiltScales([outputs]).direction!, 12);
    expect(policy.base).toEqual({ volatility: 'garch', garchHorizon: 24, rebalanceEvery: 24 });
    // swap the roles: the return head is the timer and the direction head lies
    const swapped = fitTiltPolicy([{ symbol: 'SYN', candles, outputs: outputsWith(-1, 1), forecast }], opts).policy;
    expect(swapped.heads).toEqual(['return']);
  });

  it('a model without a return head: only direction candidates; mismatched lengths are named', () => {
    const outputs = outputsWith(1, 1).map((o) => ({ direction: o.direction }) as TaskOutputs);
    const { report } = fitTiltPolicy([{ symbol: 'SYN', candles, outputs, forecast }], opts);
    expect(report.candidates.every((c) => !c.heads.includes('return'))).toBe(true);
    expect(report.candidates).toHaveLength(1 + TILT_WEIGHTS.length);
    expect(() => fitTiltPolicy([{ symbol: 'SYN', candles, outputs: outputs.slice(1), forecast }], opts)).toThrow(/SYN: 2399 outputs and 2400 forecasts for 2400 validation candles/);
  });
});
