import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { initBackend } from '@task-agnostic/tf';
import { calibrateModel, timeFolds } from './calibrate.js';
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

describe('timeFolds', () => {
  const series = [{ symbol: 'A', candles: { tsMs: Float64Array.from({ length: 1000 }, (_, i) => i * 3_600_000) } }] as unknown as Parameters<typeof timeFolds>[1];
  const splitOf = (endRows: number[]) => ({ n: endRows.length, endRows: Int32Array.from(endRows), seriesIds: new Int32Array(endRows.length) }) as unknown as Parameters<typeof timeFolds>[0];

  it('cuts contiguous windows into equal spans of time', () => {
    const f = timeFolds(splitOf(Array.from({ length: 100 }, (_, i) => 500 + i)), series, 5)!;
    expect(Array.from(f)).toEqual(Array.from({ length: 100 }, (_, i) => Math.min(4, Math.floor((i / 99) * 5))));
  });

  it('falls back to equal shares in time order when a span holds no window (validation blocks)', () => {
    // two blocks far apart: equal spans would leave the middle three folds empty
    const rows = [...Array.from({ length: 40 }, (_, i) => 10 + i), ...Array.from({ length: 60 }, (_, i) => 900 + i)];
    const f = Array.from(timeFolds(splitOf(rows), series, 5)!);
    expect(f).toEqual(Array.from({ length: 100 }, (_, k) => Math.floor(k / 20)));
    expect(new Set(f).size).toBe(5);
  });
});
