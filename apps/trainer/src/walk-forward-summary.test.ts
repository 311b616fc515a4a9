import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import type { FoldRecord, FoldStrategy } from './walk-forward-fold.js';
import { growth, printWalkForward, summarise } from './walk-forward-summary.js';

const D = Date.UTC;
const H = 3_600_000;
const pattern = (k: number): number[] => Array.from({ length: k }, () => [0.02, -0.015, 0.005, -0.005]).flat();

function strategy(name: string, returns: number[], trades: number): FoldStrategy {
  return { name, description: name, trades, returns, ...growth(returns) };
}

/** A fold record with hand-made returns (no training): 40 test bars of one symbol. */
function fold(index: number, model: number[], trades: number, trials: { count: number; sharpeVariance: number }): FoldRecord {
  const testStartMs = D(2024, 0, 1) + index * 40 * H;
  const drift = (x: number, i: number) => x * 0.5 + 0.001 * Math.sin(i + index);
  return {
    key: 'k',
    fold: { index, trainStartMs: D(2023, 0, 1), testStartMs, testEndMs: testStartMs + 40 * H },
    trainSeconds: 1,
    wallSeconds: 2,
    cpuSeconds: 3,
    trainWindows: 100,
    thresholds: 'fitted',
    evaluations: [],
    windows: {},
    backtests: [
      {
        symbol: 'BTCUSDT',
        bars: 40,
        tsMs: Array.from({ length: 40 }, (_, i) => testStartMs + i * H),
        strategies: [
          strategy('model', model, trades),
          strategy('buy-and-hold', model.map(drift), 1),
          strategy('vol-targeted buy-and-hold', model.map((x, i) => drift(x, i) * 0.7), 4),
          strategy('time-series momentum', model.map((x, i) => -drift(x, i + 1)), 6),
        ],
        trials,
      },
    ],
  };
}

describe('walk-forward summary', () => {
  const cfg = resolveConfig('quick', { data: { interval: '1h' } } as never);
  const o = { folds: 2, retrain: 'expanding' as const, testLength: { text: '40h' } };

  it('growth: compounded return and the largest fall from a peak', () => {
    const g = growth([0.1, -0.5, 0.2]);
    expect(g.totalReturn).toBeCloseTo(1.1 * 0.5 * 1.2 - 1, 14);
    expect(g.maxDrawdown).toBeCloseTo(0.5, 14);
  });

  it('chains the folds, pairs every naive strategy with the model, and deflates with the folds\' trials (hand-computed)', () => {
    const s = summarise(cfg, [fold(0, pattern(10), 3, { count: 1, sharpeVariance: 0 }), fold(1, pattern(10), 2, { count: 3, sharpeVariance: 0.01 })], o);
    const b = s.backtests[0]!;
    expect(b.bars).toBe(80);
    expect(b.strategies.map((x) => [x.name, x.trades])).toEqual([
      ['model', 5],
      ['buy-and-hold', 2],
      ['vol-targeted buy-and-hold', 8],
      ['time-series momentum', 12],
    ]);
    // Python: the product of (1 + r) over the 80 chained returns - 1.
    expect(b.totalReturn).toBeCloseTo(0.09776882988133329, 12);
    // Stitched SR0 = (40 x 0 + 40 x 0.08528044961506948) / 80; PSR and DSR of the 80 returns by hand (Python).
    expect(b.deflated.sr0).toBeCloseTo(0.04264022480753474, 12);
    expect(b.deflated.sharpe).toBeCloseTo(0.09606753854771566, 12);
    expect(b.deflated.psr).toBeCloseTo(0.8060116844826004, 10);
    expect(b.deflated.dsr).toBeCloseTo(0.6844269534143902, 10);
    expect(b.deflated.text).toMatch(/the folds' best of 1-3 unskilled trials by luck, bar-weighted.*5 trades; too few to judge$/);
    // 5 model trades (< 10): every difference is "too few to judge", never a verdict; per fold too.
    expect(b.vsNaive.map((v) => v.diff.verdictText)).toEqual(Array(3).fill('too few to judge (5 trades < 10)'));
    expect(b.perFold[0]!.vsNaive[0]!.diff.verdictText).toBe('too few to judge (3 trades < 10)');
    expect(b.perFold[1]!.deflated.sr0).toBeCloseTo(0.08528044961506948, 12);
    expect(b.perFold[0]!.deflated.dsr).toBe(b.perFold[0]!.deflated.psr);
    const lines: string[] = [];
    printWalkForward(s, (l) => lines.push(l));
    const table = lines.find((l) => l.includes('model - this Sharpe'))!;
    expect(table).toMatch(/^all +model .*\(DSR 0\.68\) *$/m);
    expect(table).toMatch(/^all +time-series momentum .*too few to judge \(5 trades < 10\) *$/m);
    expect(s.cpuSecondsTotal).toBe(6);
  });

  it('judges once there are enough trades and bars: the verdict follows the paired interval', () => {
    const s = summarise(cfg, [fold(0, pattern(10), 12, { count: 1, sharpeVariance: 0 }), fold(1, pattern(10), 12, { count: 1, sharpeVariance: 0 })], o);
    for (const v of s.backtests[0]!.vsNaive) {
      const d = v.diff.diff;
      expect(d.lo).toBeLessThanOrEqual(d.estimate);
      expect(d.hi).toBeGreaterThanOrEqual(d.estimate);
      expect(v.diff.verdictText).toBe(d.lo > 0 ? 'better (95% CI excludes 0)' : d.hi < 0 ? 'worse' : 'no significant difference');
    }
    // The model's returns are twice buy-and-hold's plus noise: momentum (its negative) is far worse.
    expect(s.backtests[0]!.vsNaive.find((v) => v.name === 'time-series momentum')!.diff.verdictText).toBe('better (95% CI excludes 0)');
  });
});
