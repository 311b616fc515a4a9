import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { initBackend } from '@task-agnostic/tf';
import { calibrateModel } from './calibrate.js';
import { alterAfter } from '@task-agnostic/test-utils';
import { datasetForModel } from './model-evaluation.js';
import { trainModel } from './train-model.js';


beforeAll(async () => {
  await initBackend({ quiet: true });
});

describe('calibrateModel', () => {
  it('fits every head on validation, scores test before/after, and no test row moves a fitted number', async () => {
    const candles = generateSyntheticMarket({ bars: 3000, seed: 3 }).candles;
    const boundaries = [{ trainEnd: 1800, valEnd: 2400 }];
    const r = await trainModel(
      {
        model: { windowLength: 16, encoder: encoderPreset('tiny', 'mlp'), tasks: ['direction', 'volatility', 'return', 'anomaly'], seed: 4 },
        boundaries,
        training: { epochs: 2, batchSize: 64, progress: false },
      },
      [{ symbol: 'SYN', candles }],
    );
    try {
      const rep = r.calibration!;
      expect(rep.heads.map((h) => [h.task, h.form])).toEqual([
        ['direction', 'softmax'],
        ['volatility', 'affine'],
        ['return', 'gaussian'],
        ['anomaly', 'sigmoid'],
      ]);
      for (const h of rep.heads) {
        expect(h.fitRows).toBe(r.dataset.val.n);
        expect([...h.scale, ...h.shift].every(Number.isFinite)).toBe(true);
        // On the rows it was fitted on, calibration never makes the objective worse.
        if (h.method !== 'identity') expect(h.validation.after).toBeLessThanOrEqual(h.validation.before + 1e-9);
        expect(h.test!.n).toBe(r.dataset.test.n);
      }
      const dir = rep.heads[0]!;
      expect(dir.test!.before.reliability!.bins).toHaveLength(15);
      expect(Number.isFinite(dir.test!.after.metrics.ece!)).toBe(true);
      // The model now applies it.
      expect([...r.model.calibration.keys()]).toEqual(['direction', 'volatility', 'return', 'anomaly']);
      const fitted = JSON.stringify(Object.fromEntries(r.model.calibration));

      // Other candles in the test range (a different market glued on after valEnd): nothing fitted moves.
      const altered = alterAfter(candles, 2400);
      const ds2 = datasetForModel(r.model, [{ symbol: 'SYN', candles: altered }], {}, boundaries);
      expect(ds2.test.n).toBeGreaterThan(0);
      const rep2 = calibrateModel(r.model, ds2);
      expect(JSON.stringify(Object.fromEntries(r.model.calibration))).toBe(fitted);
      // ...while the test scores do move (the test rows were really different).
      expect(rep2.heads[0]!.test!.before.metrics.brier).not.toBe(dir.test!.before.metrics.brier);

      // A split without validation rows leaves the identity, with a warning.
      const noVal = datasetForModel(r.model, [{ symbol: 'SYN', candles }], {}, [{ trainEnd: 2400, valEnd: 2400 }]);
      expect(noVal.val.n).toBe(0);
      expect(calibrateModel(r.model, noVal).warnings[0]).toMatch(/validation split has no rows/);
      expect(r.model.calibration.size).toBe(0);
    } finally {
      r.model.dispose();
    }
  }, 120_000);

});
