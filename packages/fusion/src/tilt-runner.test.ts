import { describe, expect, it } from 'vitest';
import type { TaskOutputs } from '@task-agnostic/core';
import { TiltRunner } from './tilt-runner.js';
import type { TiltPolicy } from './tilt-policy.js';

const H = 3_600_000;
const DAY0 = Date.UTC(2024, 0, 1); // a bar opening at 00:00 UTC
const opts = { targetAnnualVol: 0.4, maxLeverage: 1, barsPerYear: 8760, rebalanceEvery: 24, barMs: H };
const dir = (up: number, down: number): TaskOutputs => ({ direction: { up, down, sideways: 1 - up - down } }) as TaskOutputs;
const policy = (over: Partial<TiltPolicy> = {}): TiltPolicy => ({ weight: 1, heads: ['direction'], scales: { direction: 0.1 }, maxTilt: 2, ...over });

describe('TiltRunner', () => {
  it('target = min(maxLeverage, vol-targeted base x clamp(1 + weight x score, 0, maxTilt)), by hand', () => {
    const r = new TiltRunner(policy(), opts);
    // forecast 1% per bar: base = 0.4 / (0.01 x sqrt(8760)) = 0.42737; score (0.45 - 0.40) / 0.1 = 0.5 -> 1.5x
    r.observe(DAY0, dir(0.45, 0.4), 0.01);
    const base = 0.4 / (0.01 * Math.sqrt(8760));
    expect(r.target.base).toBeCloseTo(base, 12);
    expect(r.target.multiplier).toBeCloseTo(1.5, 12);
    expect(r.target.exposure).toBeCloseTo(base * 1.5, 12);
    const d = r.decide(0, 'BTCUSDT');
    expect([d.action, d.side, d.stopLossPct, d.takeProfitPct, d.symbol]).toEqual(['buy', 'long', 0, 0, 'BTCUSDT']);
    expect(d.sizeFraction).toBeCloseTo(base * 1.5, 12);
    // a strongly bearish view: multiplier floored at 0 -> flat (never short)
    const r2 = new TiltRunner(policy(), opts);
    r2.observe(DAY0, dir(0.2, 0.5), 0.01);
    expect(r2.target.exposure).toBe(0);
    expect([r2.decide(0.3).side, r2.decide(0.3).action]).toEqual(['flat', 'sell']);
    // a calm market: base and target capped at max leverage
    const r3 = new TiltRunner(policy(), opts);
    r3.observe(DAY0, dir(0.6, 0.3), 0.001);
    expect(r3.target.exposure).toBe(1);
  });

  it('decides on UTC-anchored rebalance bars only, and holds inside the no-trade band', () => {
    const r = new TiltRunner(policy({ band: 0.1 }), opts);
    r.observe(DAY0 - H, dir(0.45, 0.4), 0.01); // 23:00: not a rebalance bar
    expect(r.decide(0).action).toBe('hold');
    expect(r.decide(0).reasoning).toMatch(/not a rebalance bar \(every 24 bars\)/);
    r.observe(DAY0, dir(0.45, 0.4), 0.01);
    const target = r.target.exposure!;
    expect(r.decide(target - 0.1).action).toBe('hold'); // |target - held| = 0.1: inside
    expect(r.decide(target - 0.1).reasoning).toMatch(/within the 10\.00% no-trade band/);
    expect(r.decide(target - 0.1001).sizeFraction).toBeCloseTo(target, 12);
    expect(r.decide(target + 0.1001).sizeFraction).toBeCloseTo(target, 12);
    expect(r.rebalancesAt(DAY0 + 24 * H)).toBe(true);
    expect(r.rebalancesAt(DAY0 + 25 * H)).toBe(false);
  });

  it('smooths the score with an exponential moving average of the given half-life, by hand', () => {
    const r = new TiltRunner(policy({ halfLife: 1 }), { ...opts, rebalanceEvery: 1 });
    r.observe(DAY0, dir(0.5, 0.4), 0.01); // score 1
    expect(r.target.score).toBeCloseTo(1, 12);
    r.observe(DAY0 + H, dir(0.4, 0.5), 0.01); // score -1; lambda = 0.5 -> 0
    expect(r.target.score).toBeCloseTo(0, 12);
    expect(r.target.multiplier).toBeCloseTo(1, 12);
    r.observe(DAY0 + 2 * H, dir(0.5, 0.4), 0.01); // 0.5 x 0 + 0.5 x 1
    expect(r.target.score).toBeCloseTo(0.5, 12);
    expect(r.target.multiplier).toBeCloseTo(1.5, 12);
  });

  it('weight 0 is the vol-targeted baseline whatever the heads say', () => {
    const r = new TiltRunner({ weight: 0, heads: [], scales: {}, maxTilt: 2 }, opts);
    r.observe(DAY0, {} as TaskOutputs, 0.02);
    expect(r.target.exposure).toBeCloseTo(0.4 / (0.02 * Math.sqrt(8760)), 12);
  });

  it('holds and names the absent head, the missing forecast or the warm-up; bad settings are named', () => {
    const r = new TiltRunner(policy({ heads: ['direction', 'return'], scales: { direction: 0.1, return: 0.3 } }), opts);
    expect(r.decide(0).reasoning).toMatch(/warming up/);
    r.observe(DAY0, dir(0.5, 0.4), 0.01);
    expect(r.decide(0)).toMatchObject({ action: 'hold', reasoning: expect.stringMatching(/reads the return head's signal, which is absent/) });
    r.observe(DAY0 + 24 * H, undefined, 0.01);
    expect(r.decide(0).reasoning).toMatch(/the model has no outputs yet/);
    r.observe(DAY0 + 48 * H, dir(0.5, 0.4), Number.NaN);
    expect(r.decide(0).reasoning).toMatch(/no volatility forecast/);
    expect(() => r.observe(DAY0, dir(0.5, 0.4), 0.01)).toThrow(/is not after/);
    expect(() => new TiltRunner(policy({ band: -0.1 }), opts)).toThrow(/tilt band must be a finite number >= 0/);
    expect(() => new TiltRunner(policy(), { ...opts, rebalanceEvery: 0 })).toThrow(/rebalanceEvery must be an integer >= 1/);
  });
});
