import { describe, expect, it } from 'vitest';
import { describeCalibration } from './pipeline.js';
import { describeRefit } from './train-run.js';

type Report = NonNullable<Parameters<typeof describeCalibration>[0]>;
type Head = NonNullable<Report['blends']>['heads'][number];

/** A calibration report holding only the given blend heads (and fusions). */
function report(heads: Head[], fusions?: Report['fusions']): Report {
  return { split: 'validation', heads: [], warnings: [], blends: { split: 'validation', warnings: [], heads }, ...(fusions ? { fusions } : {}) };
}

describe('describeCalibration: the blends', () => {
  it("prints the one-standard-error rule's best, choice and every candidate's shortfall with its standard error", () => {
    const lines = describeCalibration(
      report([
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
              oneSe: { folds: 5, best: 'combined', chosen: 'model', byCandidate: { model: { mean: 0.7854, shortfall: 0.0295, se: 0.0528, scores: [] }, combined: { mean: 0.7884, shortfall: 0, se: 0, scores: [] } } },
            },
          },
      ]),
    );
    expect(lines).toEqual([
      "blend regime: model with 'persistence'; chosen on 1188 validation windows, out-of-fold over 5 time folds (score, higher is better): head 0.8473, baseline 0.8380, combined 0.8474; one-standard-error rule over 5 folds: best combined, chosen model (mean fold score model 0.7854 short by 0.0295, se 0.0528; combined 0.7884)",
    ]);
  });
  it("the rule 'best': the best candidate is the choice, and a fusion says it was decided by mean fold scores", () => {
    const lines = describeCalibration(
      report(
        [
          {
            task: 'risk',
            baseline: 'persistence',
            method: 'stack',
            modelWeight: 1,
            baselineWeight: 0.5,
            offsets: [0, 0.5, 1],
            fitRows: 1000,
            baselines: { persistence: 0.45 },
            selection: {
              folds: 5,
              rule: 'best',
              heldOut: { model: 0.48, baseline: 0.45, combined: 0.46, tuned: 0.5 },
              oneSe: { folds: 5, best: 'tuned', chosen: 'model', byCandidate: { model: { mean: 0.44, shortfall: 0.01, se: 0.02, scores: [] }, tuned: { mean: 0.45, shortfall: 0, se: 0, scores: [] } } },
            },
          },
        ],
        { risk: { task: 'risk', chosen: false, fitRows: 1000, folds: 5, heldOut: { model: 0.48, blend: 0.5, fusion: 0.49 }, foldMean: { blend: 0.45, fusion: 0.44 }, foldScores: [], candidates: [], fusion: null } },
      ),
    );
    expect(lines[0]).toContain('best mean fold score over 5 folds: best tuned, chosen tuned');
    expect(lines[1]).toContain('not chosen');
    expect(lines[1]).toContain("(decided by mean fold score: blend's best 0.4500, fusion 0.4400)");
  });
});

describe('describeRefit: one line per refitted head', () => {
  it('says the losses and which head was kept, or that the refit was stopped', () => {
    expect(describeRefit({ task: 'volatility', before: 0.19171, refit: 0.18969, epochs: 7, bestEpoch: 3, kept: 'refit' })).toBe(
      'refit volatility head on the frozen encoder: validation loss 0.1917 as trained, 0.1897 refit (best epoch 4 of 7); kept the refit head',
    );
    expect(describeRefit({ task: 'risk', before: 0.6203, refit: 0.6273, epochs: 6, bestEpoch: 2, kept: 'trained' })).toMatch(/0\.6203 as trained, 0\.6273 refit \(best epoch 3 of 6\); kept the trained head$/);
    expect(describeRefit({ task: 'risk', before: 0.6203, refit: null, epochs: 0, bestEpoch: -1, kept: 'trained' })).toBe('refit risk head on the frozen encoder: validation loss 0.6203 as trained, stopped; kept the trained head');
  });
});
