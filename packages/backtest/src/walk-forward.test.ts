import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket, sliceColumns, ConfigError, DataError } from '@task-agnostic/core';
import type { CandleColumns, TradingDecision } from '@task-agnostic/core';
import { runBacktest } from './engine.js';
import { walkForward, walkForwardFolds } from './walk-forward.js';
import type { Fold } from './walk-forward.js';

const c = generateSyntheticMarket({ bars: 1200, seed: 5 }).candles;

/** "Training": the mean 1-bar return over the training rows picks the side for the whole test window. */
function train(fold: Fold, cs: CandleColumns): (t: number) => TradingDecision | null {
  let s = 0;
  for (let i = fold.trainStart + 1; i < fold.trainEnd; i++) s += cs.close[i]! / cs.close[i - 1]! - 1;
  const side = s >= 0 ? 'long' : 'short';
  return (t) => {
    if (t < fold.testStart || t >= fold.testEnd) throw new Error(`fold ${fold.index} asked about row ${t}`);
    return { tsMs: cs.tsMs[t]!, action: 'buy', side, confidence: 1, agreement: 1, sizeFraction: 0.5 + (t % 3) * 0.2, stopLossPct: 0.02, takeProfitPct: 0, reasoning: 'wf' };
  };
}

describe('walk-forward', () => {
  it('builds rolling, anchored and gapped schedules', () => {
    const f = walkForwardFolds(1200, { trainBars: 300, testBars: 200 });
    expect(f.map((x) => [x.trainStart, x.trainEnd, x.testStart, x.testEnd])).toEqual([
      [0, 300, 300, 500], [200, 500, 500, 700], [400, 700, 700, 900], [600, 900, 900, 1100], [800, 1100, 1100, 1200],
    ]);
    expect(walkForwardFolds(1200, { trainBars: 300, testBars: 400, anchored: true }).map((x) => x.trainStart)).toEqual([0, 0, 0]);
    expect(walkForwardFolds(1200, { trainBars: 300, testBars: 400, gapBars: 10 })[1]).toEqual({ index: 1, trainStart: 400, trainEnd: 700, testStart: 710, testEnd: 1110 });
    expect(() => walkForwardFolds(100, { trainBars: 300, testBars: 10 })).toThrow(ConfigError);
    expect(() => walkForwardFolds(100, { trainBars: 0, testBars: 10 })).toThrow(/trainBars/);
  });

  it('stitches the test windows into one out-of-sample run equal to a plain run with the same deciders', async () => {
    const seen: Fold[] = [];
    const wf = await walkForward(c, { trainBars: 300, testBars: 200 }, async (fold, cs, trainCs) => {
      seen.push(fold);
      expect(trainCs.length).toBe(300);
      expect(trainCs.tsMs[0]).toBe(cs.tsMs[fold.trainStart]);
      return train(fold, cs);
    });
    expect(seen).toHaveLength(5);
    // independent: one runBacktest over rows 300..1200 with each row routed to its fold's decider
    const deciders = seen.map((f) => train(f, c));
    const oos = sliceColumns(c, 300, 1200);
    const plain = runBacktest(oos, (t) => deciders[Math.floor(t / 200)]!(t + 300));
    expect(Array.from(wf.outOfSample.equity)).toEqual(Array.from(plain.equity));
    expect(wf.outOfSample.trades).toEqual(plain.trades);
    expect(wf.outOfSample.metrics).toEqual(plain.metrics);
    // fold metrics are slices of the stitched equity
    const eq = wf.outOfSample.equity;
    expect(wf.folds[0]!.metrics.totalReturn).toBeCloseTo(eq[199]! / 10_000 - 1, 12);
    expect(wf.folds[2]!.metrics.totalReturn).toBeCloseTo(eq[599]! / eq[399]! - 1, 12);
    expect(wf.folds[4]!.metrics.bars).toBe(100);
  });

  it('takes the schedule as a callback of the row count too', async () => {
    const calls: number[] = [];
    const wf = await walkForward(c, (rows) => {
      calls.push(rows);
      return [{ index: 0, trainStart: 0, trainEnd: 600, testStart: 600, testEnd: 1200 }];
    }, train);
    expect(calls).toEqual([1200]);
    expect(wf.folds).toHaveLength(1);
    expect(wf.outOfSample.equity).toHaveLength(600);
  });

  it('rejects overlapping or non-contiguous explicit folds', async () => {
    const bad: Fold[] = [
      { index: 0, trainStart: 0, trainEnd: 100, testStart: 100, testEnd: 200 },
      { index: 1, trainStart: 0, trainEnd: 250, testStart: 250, testEnd: 300 },
    ];
    await expect(walkForward(c, bad, train)).rejects.toThrow(DataError);
    await expect(walkForward(c, [{ index: 0, trainStart: 0, trainEnd: 150, testStart: 100, testEnd: 200 }], train)).rejects.toThrow(/trainEnd <= testStart/);
  });
});
