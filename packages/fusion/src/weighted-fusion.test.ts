import { describe, expect, it } from 'vitest';
import { ConfigError } from '@task-agnostic/core';
import type { TaskOutputs } from '@task-agnostic/core';
import { parseWeightedFusionConfig, DEFAULT_WEIGHTED_FUSION_CONFIG as CFG } from './config.js';
import { classifySignal, weightedSignal, weightedSignalFusion } from './weighted-fusion.js';

// The variant design's worked example: trend [up 0.6, side 0.3, down 0.1], predicted volatility 0.3,
// regime "Trending", risk [low 0.6, med 0.3, high 0.1] -> signal +0.20, BUY.
const EXAMPLE: TaskOutputs = {
  direction: { up: 0.6, down: 0.1, sideways: 0.3 },
  volatility: { expected: 0.02, percentile: 0.3 },
  regime: { label: 'bull', probs: { bull: 0.5, bear: 0.05, sideways: 0.2, high_volatility: 0.2, low_volatility: 0.05 }, confidence: 0.5 },
  risk: { level: 'low', probs: { low: 0.6, medium: 0.3, high: 0.1 } },
};

describe('weightedSignalFusion: the source worked example', () => {
  it('reproduces each step: +0.175, x1.2, x0.95 -> +0.1995 (BUY), confidence x0.91', () => {
    const ws = weightedSignal(EXAMPLE, CFG);
    expect(ws.signal).toBeCloseTo(0.35 * (0.6 - 0.1) * 1.2 * (1 - 0.1 * 0.5), 12);
    expect(ws.signal).toBeCloseTo(0.1995, 12);
    expect(ws.type).toBe('buy');
    expect(ws.confidence).toBeCloseTo(0.6 * (1 - 0.3 * 0.3), 12);
    const d = weightedSignalFusion(EXAMPLE, undefined, { tsMs: 5 });
    expect(d.action).toBe('buy');
    expect(d.side).toBe('long');
    expect(d.sizeFraction).toBeCloseTo(0.5 * 0.03, 12);
    expect(d.stopLossPct).toBeCloseTo(0.015, 12);
    expect(d.takeProfitPct).toBeCloseTo(0.03, 12);
    expect(d.reasoning).toContain('signal +0.1995 -> BUY');
    expect(d.reasoning).toContain('missing heads: return');
  });
});

describe('classifySignal reproduces the source signal table', () => {
  it.each([
    [0.4, 'strong_buy'],
    [0.55, 'strong_buy'],
    [0.3999, 'buy'],
    [0.15, 'buy'],
    [0.1499, 'hold'],
    [0, 'hold'],
    [-0.1499, 'hold'],
    [-0.15, 'sell'],
    [-0.3999, 'sell'],
    [-0.4, 'strong_sell'],
  ] as const)('%s -> %s', (s, want) => {
    expect(classifySignal(s, CFG.thresholds)).toBe(want);
  });
});

describe('weightedSignalFusion: positions', () => {
  it('strong buy = 100% of the full position (3% of equity), strong sell likewise short', () => {
    const up: TaskOutputs = { direction: { up: 1, down: 0, sideways: 0 }, regime: EXAMPLE.regime };
    expect(weightedSignal(up, CFG).signal).toBeCloseTo(0.42, 12);
    const d = weightedSignalFusion(up);
    expect(d.sizeFraction).toBeCloseTo(0.03, 12);
    const down: TaskOutputs = { direction: { up: 0, down: 1, sideways: 0 }, regime: { ...EXAMPLE.regime!, label: 'bear' } };
    const s = weightedSignalFusion(down);
    expect(s.action).toBe('sell');
    expect(s.side).toBe('short');
    expect(s.sizeFraction).toBeCloseTo(0.03, 12);
    expect(s.agreement).toBe(1); // short + bear
  });
  it('holds with zero size, zero exits inside the band', () => {
    const d = weightedSignalFusion({ direction: { up: 0.4, down: 0.3, sideways: 0.3 } });
    expect(d.action).toBe('hold');
    expect(d.sizeFraction).toBe(0);
    expect(d.stopLossPct).toBe(0);
  });
  it('a high-risk head dampens a buy into a hold', () => {
    const base: TaskOutputs = { direction: { up: 0.7, down: 0.2, sideways: 0.1 } };
    expect(weightedSignalFusion(base).action).toBe('buy'); // 0.175
    const risky = weightedSignalFusion({ ...base, risk: { level: 'high', probs: { low: 0, medium: 0.2, high: 0.8 } } });
    expect(risky.action).toBe('hold'); // 0.175 x 0.6 = 0.105
  });
  it('weights are configurable and validated', () => {
    const d = weightedSignalFusion({ direction: { up: 0.7, down: 0.2, sideways: 0.1 } }, { directionWeight: 1 });
    expect(d.action).toBe('buy'); // signal 1 x 0.5 = 0.5 >= 0.40: strong buy
    expect(d.sizeFraction).toBeCloseTo(0.03, 12);
    const r = weightedSignal({ return: { expected: 0.02, std: 0.01 } }, parseWeightedFusionConfig({ returnWeight: 0.2 }));
    expect(r.signal).toBeCloseTo(0.2, 12);
    expect(() => parseWeightedFusionConfig({ thresholds: { strong: 0.1, entry: 0.2 } })).toThrow(ConfigError);
    expect(() => parseWeightedFusionConfig({ thresholds: { strong: 0.1, entry: 0.2 } })).toThrow(/thresholds\.entry/);
    expect(() => parseWeightedFusionConfig({ trendingRegimes: ['up'] })).toThrow(/trendingRegimes\.0/);
  });
  it('with no heads: hold, no crash, says why', () => {
    const d = weightedSignalFusion({});
    expect(d.action).toBe('hold');
    expect(d.confidence).toBe(0);
    expect(d.reasoning).toContain('no directional signal');
    expect(d.reasoning).toContain('missing heads: direction, volatility, regime, return, risk');
  });
});
