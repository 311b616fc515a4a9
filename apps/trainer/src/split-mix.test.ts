import { describe, expect, it } from 'vitest';
import { classMixWarnings, describeClassMix, mixTasksOf, splitClassMix, totalVariation, MIX_WARN_TV, MIX_WARN_SERIES_TV, type MixSplit } from './split-mix.js';
import { logSplitMix } from './train-run.js';

/** A split of one task's class labels (targetDim 1) with the given series ids. */
function split(labels: number[], series?: number[]): MixSplit {
  return { n: labels.length, targets: [Float32Array.from(labels)], targetDims: [1], ...(series ? { seriesIds: Int32Array.from(series) } : {}) };
}

const rep = (c: number, k: number): number[] => new Array<number>(k).fill(c);
const RISK = { id: 'risk', index: 0, classes: ['low', 'medium', 'high'] };

describe('totalVariation', () => {
  it('is half the L1 distance: 0 for equal mixes, 1 for disjoint ones', () => {
    expect(totalVariation([0.5, 0.3, 0.2], [0.5, 0.3, 0.2])).toBe(0);
    expect(totalVariation([1, 0], [0, 1])).toBe(1);
    // |0.7-0.5| + |0.2-0.3| + |0.1-0.2| = 0.4, halved
    expect(totalVariation([0.7, 0.2, 0.1], [0.5, 0.3, 0.2])).toBeCloseTo(0.2, 12);
  });
  it('rejects mixes over different classes', () => {
    expect(() => totalVariation([1], [0.5, 0.5])).toThrow(/1 classes against 2/);
  });
});

describe('splitClassMix', () => {
  // series A: train 6 low, 3 medium, 1 high; val 9 low, 1 medium; series B: train 2 low, 4 medium, 4 high; val 5/5/0
  const train = split([...rep(0, 6), ...rep(1, 3), 2, ...rep(0, 2), ...rep(1, 4), ...rep(2, 4)], [...rep(0, 10), ...rep(1, 10)]);
  const val = split([...rep(0, 9), 1, ...rep(0, 5), ...rep(1, 5)], [...rep(0, 10), ...rep(1, 10)]);
  const test = split([2, 2, 1, 0], [0, 0, 1, 1]);
  const [m] = splitClassMix({ train, val, test }, [RISK], ['A', 'B']);

  it('counts each split pooled and per series, with the fractions', () => {
    expect(m!.task).toBe('risk');
    expect(m!.pooled.train.counts).toEqual([8, 7, 5]);
    expect(m!.pooled.train.fractions).toEqual([0.4, 0.35, 0.25]);
    expect(m!.pooled.val.counts).toEqual([14, 6, 0]);
    expect(m!.pooled.test.counts).toEqual([1, 1, 2]);
    expect(m!.bySeries.A!.train.counts).toEqual([6, 3, 1]);
    expect(m!.bySeries.B!.val.counts).toEqual([5, 5, 0]);
    expect(m!.bySeries.B!.test.n).toBe(2);
  });

  it('measures validation against training by total variation, pooled and per series', () => {
    // pooled: |0.7-0.4| + |0.3-0.35| + |0-0.25| = 0.6 -> 0.3
    expect(m!.pooled.valVsTrainTv).toBeCloseTo(0.3, 12);
    // A: |0.9-0.6| + |0.1-0.3| + |0-0.1| = 0.6 -> 0.3; B: |0.5-0.2| + |0.5-0.4| + |0-0.4| = 0.8 -> 0.4
    expect(m!.bySeries.A!.valVsTrainTv).toBeCloseTo(0.3, 12);
    expect(m!.bySeries.B!.valVsTrainTv).toBeCloseTo(0.4, 12);
    expect(m!.meanSeriesValVsTrainTv).toBeCloseTo(0.35, 12);
    // test pooled 0.25/0.25/0.5 vs 0.4/0.35/0.25: 0.15 + 0.1 + 0.25 = 0.5 -> 0.25
    expect(m!.pooled.testVsTrainTv).toBeCloseTo(0.25, 12);
  });

  it('gives null distances for a split without rows and leaves such series out of the mean', () => {
    const [x] = splitClassMix({ train, val: split([0, 0], [0, 0]), test: split([]) }, [RISK], ['A', 'B']);
    expect(x!.bySeries.B!.val.n).toBe(0);
    expect(x!.bySeries.B!.valVsTrainTv).toBeNull();
    expect(x!.pooled.testVsTrainTv).toBeNull();
    // only A: val 1/0/0 vs 0.6/0.3/0.1 -> 0.4
    expect(x!.meanSeriesValVsTrainTv).toBeCloseTo(0.4, 12);
  });

  it('treats a split without series ids as one series', () => {
    const [x] = splitClassMix({ train: split([0, 1]), val: split([0, 0]), test: split([1]) }, [RISK], ['ONLY']);
    expect(x!.bySeries.ONLY!.train.counts).toEqual([1, 1, 0]);
    expect(x!.meanSeriesValVsTrainTv).toBeCloseTo(0.5, 12);
  });

  it('rejects a label that is not a class index, and a task with several target columns', () => {
    expect(() => splitClassMix({ train: split([0, 3]), val: split([0]), test: split([]) }, [RISK], ['A'])).toThrow(/training row 1: label 3 is not a class index in \[0, 3\)/);
    expect(() => splitClassMix({ train: split([0, 0.5]), val: split([0]), test: split([]) }, [RISK], ['A'])).toThrow(/label 0.5/);
    const wide: MixSplit = { n: 1, targets: [new Float32Array(2)], targetDims: [2] };
    expect(() => splitClassMix({ train: wide, val: wide, test: wide }, [RISK], ['A'])).toThrow(/2 target columns/);
  });
});

describe('classMixWarnings', () => {
  const train = split([...rep(0, 60), ...rep(1, 25), ...rep(2, 15)]);
  it('fires above the threshold, naming the task and the classes that moved most', () => {
    // validation calm: 80 / 17 / 3 -> TV = (0.2 + 0.08 + 0.12) / 2 = 0.2
    const mixes = splitClassMix({ train, val: split([...rep(0, 80), ...rep(1, 17), ...rep(2, 3)]), test: split([]) }, [RISK], ['A']);
    const w = classMixWarnings(mixes);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^task risk: validation's class mix is far from training's \(total-variation distance 0\.200 pooled, 0\.200 mean per series; warning above 0\.1 pooled or 0\.25 per series; 0\/1 series above 0\.25\)/);
    expect(w[0]).toContain("'low' 80.0% vs 60.0%, 'high' 3.0% vs 15.0%, 'medium' 17.0% vs 25.0%");
  });
  it('stays quiet at or below the threshold', () => {
    // 65 / 25 / 10: TV = (0.05 + 0 + 0.05) / 2 = 0.05
    const mixes = splitClassMix({ train, val: split([...rep(0, 65), ...rep(1, 25), ...rep(2, 10)]), test: split([]) }, [RISK], ['A']);
    expect(classMixWarnings(mixes)).toEqual([]);
    expect(classMixWarnings(mixes, 0.04)).toHaveLength(1);
    expect(MIX_WARN_TV).toBe(0.1);
    expect(MIX_WARN_SERIES_TV).toBe(0.25);
  });
  it('holds one series to the looser per-series threshold', () => {
    // A's validation 7 low / 3 high, B's 3 / 7, both trained on 5 / 5: 0.2 per series, 0 pooled
    const ab = (a: number[], b: number[]): MixSplit => split([...a, ...b], [...rep(0, a.length), ...rep(1, b.length)]);
    const tr = ab([...rep(0, 5), ...rep(2, 5)], [...rep(0, 5), ...rep(2, 5)]);
    const va = ab([...rep(0, 7), ...rep(2, 3)], [...rep(0, 3), ...rep(2, 7)]);
    const mixes = splitClassMix({ train: tr, val: va, test: split([]) }, [RISK], ['A', 'B']);
    expect(mixes[0]!.meanSeriesValVsTrainTv).toBeCloseTo(0.2, 12);
    expect(classMixWarnings(mixes)).toEqual([]);
    expect(classMixWarnings(mixes, 0.1, 0.15)[0]).toContain('2/2 series above 0.15');
  });
  it('fires on the series mean when the pooled mix hides opposite moves', () => {
    // A's validation is all low, B's all high; pooled they match training's 50/0/50
    const tr = split([0, 2, 0, 2], [0, 0, 1, 1]);
    const va = split([0, 0, 2, 2], [0, 0, 1, 1]);
    const mixes = splitClassMix({ train: tr, val: va, test: split([]) }, [RISK], ['A', 'B']);
    expect(mixes[0]!.pooled.valVsTrainTv).toBe(0);
    const w = classMixWarnings(mixes);
    expect(w).toHaveLength(1);
    expect(w[0]).toContain('0.000 pooled, 0.500 mean per series');
    expect(w[0]).toContain('2/2 series above 0.25');
  });
});

describe('mixTasksOf and describeClassMix', () => {
  it('keeps the classification tasks with class names, at their target index', () => {
    const tasks = [
      { id: 'volatility', kind: 'regression' },
      { id: 'risk', kind: 'classification', classes: ['low', 'medium', 'high'] },
      { id: 'direction', kind: 'classification', classes: ['down', 'sideways', 'up'] },
    ];
    expect(mixTasksOf(tasks, ['direction', 'volatility', 'risk'])).toEqual([
      { id: 'risk', index: 2, classes: ['low', 'medium', 'high'] },
      { id: 'direction', index: 0, classes: ['down', 'sideways', 'up'] },
    ]);
  });
  it('prints one line per task with the training and validation mixes and their distance, never the test rows', () => {
    const mixes = splitClassMix({ train: split([0, 1, 2, 0]), val: split([0, 0]), test: split([2, 2, 2]) }, [RISK], ['A']);
    expect(describeClassMix(mixes)).toEqual(['class mix risk (low / medium / high): train (4) 50.0% / 25.0% / 25.0%; val (2) 100.0% / 0.0% / 0.0%; TV val-train 0.500 pooled, 0.500 mean per series']);
  });
});

describe("logSplitMix (what trainer train and the walk-forward folds log)", () => {
  // direction at target index 0 (calm validation), volatility (regression) at 1, risk at 2 (same mix in every split)
  const mk = (dir: number[], risk: number[], series: number[]) => ({
    x: new Float32Array(0), n: dir.length, windowLength: 1, featureCount: 0,
    targets: [Float32Array.from(dir), new Float32Array(dir.length), Float32Array.from(risk)], targetDims: [1, 1, 1], seriesIds: Int32Array.from(series),
  });
  const ds = {
    train: mk([0, 1, 2, 2], [0, 1, 0, 1], [0, 0, 1, 1]),
    val: mk([2, 2, 2, 2], [0, 1, 0, 1], [0, 0, 1, 1]),
    test: mk([0], [0], [1]),
    taskIds: ['direction', 'volatility', 'risk'],
    series: [{ symbol: 'A' }, { symbol: 'B' }] as never,
  };
  const tasks = [
    { id: 'direction', kind: 'classification', classes: ['up', 'down', 'sideways'] },
    { id: 'volatility', kind: 'regression' },
    { id: 'risk', kind: 'classification', classes: ['low', 'medium', 'high'] },
  ] as never;

  it("'full': one mix line per classification task, then a warning for the task whose validation moved only", () => {
    const lines: string[] = [];
    logSplitMix(ds, tasks, (l) => lines.push(l), true);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^class mix direction \(up \/ down \/ sideways\): train \(4\) 25\.0% \/ 25\.0% \/ 50\.0%; val \(4\) 0\.0% \/ 0\.0% \/ 100\.0%/);
    expect(lines[1]).toMatch(/^class mix risk \(low \/ medium \/ high\): .*TV val-train 0\.000 pooled/);
    expect(lines[2]).toMatch(/^warning: task direction: validation's class mix is far from training's \(total-variation distance 0\.500 pooled/);
  });

  it("'warnings' (the walk-forward folds): only the warnings", () => {
    const lines: string[] = [];
    logSplitMix(ds, tasks, (l) => lines.push(l), false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: task direction:/);
  });
});
