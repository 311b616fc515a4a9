import { describe, expect, it } from 'vitest';
import { describeCalibration } from './pipeline.js';

describe('describeCalibration: the blends', () => {
  it("prints the one-standard-error rule's best, choice and every candidate's shortfall with its standard error", () => {
    const lines = describeCalibration({
      split: 'validation',
      heads: [],
      warnings: [],
      blends: {
        split: 'validation',
        warnings: [],
        heads: [
          {
            task: 'regime',
            baseline: 'persistence',
            method: 'model',
            modelWeight: 1,
            baselineWeight: 0,
            offsets: [],
            fitRows: 1188,
            baselines: { persistence: 0.838 },
            selection: {
              folds: 5,
              heldOut: { model: 0.8473, baseline: 0.838, combined: 0.8474 },
              oneSe: { folds: 5, best: 'combined', chosen: 'model', byCandidate: { model: { mean: 0.7854, shortfall: 0.0295, se: 0.0528 }, combined: { mean: 0.7884, shortfall: 0, se: 0 } } },
            },
          },
        ],
      },
    });
    expect(lines).toEqual([
      "blend regime: model with 'persistence'; chosen on 1188 validation windows, out-of-fold over 5 time folds (score, higher is better): head 0.8473, baseline 0.8380, combined 0.8474; one-standard-error rule over 5 folds: best combined, chosen model (mean fold score model 0.7854 short by 0.0295, se 0.0528; combined 0.7884)",
    ]);
  });
});
