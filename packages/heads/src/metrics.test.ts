import { describe, expect, it } from 'vitest';
import { classificationMetrics, confusionMatrix, rankCorrelation, regressionMetrics, rocAuc, softmaxRows } from './metrics.js';

describe('classification metrics', () => {
  // 4 rows, 3 classes: truth [0, 0, 1, 2], predictions (argmax) [0, 1, 1, 2].
  const probs = [0.7, 0.2, 0.1, 0.3, 0.6, 0.1, 0.2, 0.5, 0.3, 0.1, 0.1, 0.8];
  const y = [0, 0, 1, 2];
  it('matches hand-computed accuracy, macro-F1, log-loss and confusion matrix', () => {
    const m = classificationMetrics(probs, y, 4, ['a', 'b', 'c']);
    expect(m.accuracy).toBeCloseTo(0.75, 12);
    // F1: a: 2*1/(2+1) = 2/3; b: 2*1/(1+2) = 2/3; c: 1. macro = (2/3 + 2/3 + 1) / 3.
    expect(m.macroF1).toBeCloseTo((2 / 3 + 2 / 3 + 1) / 3, 12);
    // balanced accuracy: recalls a 1/2, b 1, c 1.
    expect(m.balancedAccuracy).toBeCloseTo(2.5 / 3, 12);
    expect(m.logLoss).toBeCloseTo(-(Math.log(0.7) + Math.log(0.3) + Math.log(0.5) + Math.log(0.8)) / 4, 12);
    expect(m['confusion.a.b']).toBe(1);
    expect(m['confusion.a.a']).toBe(1);
    expect(confusionMatrix(probs, y, 4, 3)).toEqual([[1, 1, 0], [0, 1, 0], [0, 0, 1]]);
  });
  it('rejects targets that are not class indices', () => {
    expect(() => classificationMetrics(probs, [0, 0, 1, 3], 4, ['a', 'b', 'c'])).toThrow(/class index/);
  });
  it('softmax rows sum to one and follow the logits', () => {
    const p = softmaxRows([0, Math.log(3), 1000, 1000], 2, 2);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    expect(p[2]).toBeCloseTo(0.5, 12);
  });
});

describe('regression metrics', () => {
  it('matches hand-computed MSE, MAE, R^2 and correlation', () => {
    const pred = [1, 2, 3, 5];
    const y = [1, 3, 2, 6];
    const m = regressionMetrics(pred, y, 4);
    expect(m.mse).toBeCloseTo((0 + 1 + 1 + 1) / 4, 12);
    expect(m.mae).toBeCloseTo(0.75, 12);
    // mean y = 3, SST = 4 + 0 + 1 + 9 = 14, SSE = 3.
    expect(m.r2).toBeCloseTo(1 - 3 / 14, 12);
    // Pearson by hand: pred mean 2.75; dp = [-1.75, -.75, .25, 2.25], dy = [-2, 0, -1, 3]
    const sxy = 3.5 + 0 - 0.25 + 6.75;
    const sxx = 3.0625 + 0.5625 + 0.0625 + 5.0625;
    expect(m.correlation).toBeCloseTo(sxy / Math.sqrt(sxx * 14), 12);
    // Spearman: ranks pred [1,2,3,4], y [1,3,2,4] -> 1 - 6*2/(4*15) = 0.8
    expect(m.rankCorrelation).toBeCloseTo(0.8, 12);
  });
  it('a constant prediction at the target mean has R^2 0 and IC 0', () => {
    const m = regressionMetrics([2, 2, 2], [1, 2, 3], 3);
    expect(m.r2).toBeCloseTo(0, 12);
    expect(m.correlation).toBe(0);
  });
  it('rank correlation averages ties', () => {
    expect(rankCorrelation([1, 1, 2], [1, 2, 3], 3)).toBeCloseTo(Math.sqrt(3) / 2, 12);
  });
});

describe('ROC AUC', () => {
  it('is the share of positive-negative pairs ranked correctly (ties 1/2)', () => {
    // positives scores 0.9, 0.4; negatives 0.5, 0.4, 0.1 -> pairs: (0.9 beats all 3) + (0.4: beats 0.1, ties 0.4) = 3 + 1.5 = 4.5 of 6.
    expect(rocAuc([0.9, 0.4, 0.5, 0.4, 0.1], [1, 1, 0, 0, 0], 5)).toBeCloseTo(4.5 / 6, 12);
    expect(rocAuc([0.1, 0.2], [1, 1], 2)).toBeNaN();
  });
});
