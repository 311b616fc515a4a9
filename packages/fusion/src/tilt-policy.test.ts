import { describe, expect, it } from 'vitest';
import { ConfigError, type TaskOutputs } from '@task-agnostic/core';
import { checkTiltPolicy, tiltDecision, tiltPositions, type TiltPolicy } from './tilt-policy.js';

const out = (up: number, down: number, ret?: { expected: number; std: number }): TaskOutputs =>
  ({ direction: { up, down, sideways: 1 - up - down }, ...(ret ? { return: ret } : {}) }) as TaskOutputs;

const dirOnly: TiltPolicy = { weight: 1, heads: ['direction'], scales: { direction: 0.2 }, maxTilt: 2 };

describe('tiltDecision', () => {
  it('by hand: 1 + weight x (p_up - p_down) / scale, clamped to [0, maxTilt]', () => {
    // (0.5 - 0.3) / 0.2 = 1 std -> 1 + 1 = 2
    expect(tiltDecision(out(0.5, 0.3), dirOnly).multiplier).toBeCloseTo(2, 12);
    // (0.35 - 0.3) / 0.2 = 0.25 -> 1.25; weight 0.5 -> 1.125
    expect(tiltDecision(out(0.35, 0.3), dirOnly).multiplier).toBeCloseTo(1.25, 12);
    expect(tiltDecision(out(0.35, 0.3), { ...dirOnly, weight: 0.5 }).multiplier).toBeCloseTo(1.125, 12);
    // a strong down view: 1 + (0.1 - 0.6) / 0.2 = -1.5 -> floored at 0 (flat, never short)
    expect(tiltDecision(out(0.1, 0.6), dirOnly).multiplier).toBe(0);
    // capped at maxTilt
    expect(tiltDecision(out(0.9, 0.05), dirOnly).multiplier).toBe(2);
  });

  it('direction + return: the mean of the standardised signals', () => {
    const p: TiltPolicy = { weight: 2, heads: ['direction', 'return'], scales: { direction: 0.1, return: 0.5 }, maxTilt: 3 };
    // direction (0.4 - 0.3) / 0.1 = 1; return clamp(0.002 / 0.004) = 0.5, / 0.5 = 1 -> score 1 -> 1 + 2 = 3
    const d = tiltDecision(out(0.4, 0.3, { expected: 0.002, std: 0.004 }), p);
    expect(d.score).toBeCloseTo(1, 12);
    expect(d.multiplier).toBeCloseTo(3, 12);
    // return clamped at +-1: mu/sigma = -5 -> -1 / 0.5 = -2; direction 1 -> score -0.5 -> 1 - 1 = 0
    expect(tiltDecision(out(0.4, 0.3, { expected: -0.02, std: 0.004 }), p).multiplier).toBeCloseTo(0, 12);
  });

  it('weight 0 is the baseline, whatever the heads say', () => {
    const d = tiltDecision({} as TaskOutputs, { weight: 0, heads: [], scales: {}, maxTilt: 2 });
    expect(d.multiplier).toBe(1);
  });

  it('a head the policy reads is absent: the decision holds and names it', () => {
    const p: TiltPolicy = { weight: 1, heads: ['direction', 'return'], scales: { direction: 0.1, return: 0.5 }, maxTilt: 2 };
    const d = tiltDecision(out(0.5, 0.2), p);
    expect(d.multiplier).toBeNull();
    expect(d.reasoning).toBe("HOLD: the tilt policy reads the return head's signal, which is absent from the model's outputs");
    const e = tiltDecision({} as TaskOutputs, p);
    expect(e.reasoning).toMatch(/reads the direction and return head's signal, which is absent/);
  });
});

describe('tiltPositions', () => {
  it('base x multiplier, capped at max leverage; NaN (keep) where the policy holds', () => {
    const outs = [out(0.5, 0.3), out(0.35, 0.3), { return: { expected: 0, std: 1 } } as TaskOutputs, out(0.1, 0.6)];
    const pos = tiltPositions(outs, [0.4, 0.6, 0.5, 0.7], dirOnly, 1);
    expect(pos[0]).toBeCloseTo(0.8, 12);
    expect(pos[1]).toBeCloseTo(0.75, 12);
    expect(Number.isNaN(pos[2]!)).toBe(true);
    expect(pos[3]).toBe(0);
    // the cap: 0.6 x 2 = 1.2 -> 1
    expect(tiltPositions([out(0.5, 0.3)], [0.6], dirOnly, 1)[0]).toBe(1);
    expect(() => tiltPositions(outs, [1], dirOnly, 1)).toThrow(/1 base sizes for 4 outputs/);
  });

  it('a bad policy is a ConfigError naming the field', () => {
    expect(() => checkTiltPolicy({ ...dirOnly, weight: -1 })).toThrow(ConfigError);
    expect(() => checkTiltPolicy({ ...dirOnly, scales: {} })).toThrow(/tilt scale of the direction head must be a finite number > 0, got undefined/);
    expect(() => checkTiltPolicy({ ...dirOnly, maxTilt: 0.5 })).toThrow(/maxTilt must be a finite number >= 1/);
    expect(() => checkTiltPolicy({ ...dirOnly, heads: [] })).toThrow(/must read at least one head/);
  });
});
