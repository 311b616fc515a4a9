import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { loadModel, saveModel } from '@task-agnostic/model';
import { initBackend } from '@task-agnostic/tf';
import { trainModel } from './train-model.js';
import { datasetForModel, evaluateTest, forecastCalibration, modelParts } from './model-evaluation.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

describe('evaluating a saved model', () => {
  it('rebuilds the dataset of a saved model and reproduces the test evaluation of training exactly', async () => {
    const series = [{ symbol: 'SYN', candles: generateSyntheticMarket({ bars: 2500, seed: 5 }).candles }];
    const r = await trainModel(
      {
        model: { windowLength: 16, encoder: encoderPreset('tiny', 'mlp'), tasks: ['volatility', 'direction'], seed: 3 },
        dataset: { valFraction: 0.2, testFraction: 0.2 },
        training: { epochs: 1, batchSize: 64, progress: false },
      },
      series,
    );
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'tat-eval-')), 'model');
    await saveModel(r.model, dir);
    const loaded = await loadModel(dir);
    const ds = datasetForModel(loaded, series, { valFraction: 0.2, testFraction: 0.2 });
    expect(ds.test.n).toBe(r.dataset.test.n);
    expect(Array.from(ds.test.endRows!)).toEqual(Array.from(r.dataset.test.endRows!));
    const again = evaluateTest(modelParts(loaded), ds, 256, forecastCalibration(loaded));
    // training scores regression heads calibrated, classifiers raw: the raw outputs, so calibrated, give its figures
    expect([...forecastCalibration(loaded).keys()]).toEqual(['volatility']);
    const raw = evaluateTest(modelParts(loaded), ds);
    const cal = loaded.calibration.get('volatility')!;
    expect(cal.method).toBe('affine');
    const rawOut = raw.volatility!.bySeries.SYN!.outputs!;
    const calOut = again.volatility!.bySeries.SYN!.outputs!;
    for (let i = 0; i < 5; i++) expect(calOut[i]).toBeCloseTo(cal.scale[0]! * rawOut[i]! + cal.shift[0]!, 5);
    expect(again.volatility!.metrics.mse).not.toBe(raw.volatility!.metrics.mse);
    // ...and training's test figures are those forecasts combined with their baselines where validation chose so (the blends saved in the artifact)
    expect(Object.fromEntries(loaded.blends)).toEqual(Object.fromEntries(r.model.blends));
    const blended = evaluateTest(modelParts(loaded), ds, 256, forecastCalibration(loaded), loaded.blends);
    for (const id of ['volatility', 'direction']) {
      expect(blended[id]!.metrics).toEqual(r.test[id]!.metrics);
      if ((loaded.blends.get(id)?.method ?? 'model') === 'model') expect(again[id]!.metrics).toEqual(r.test[id]!.metrics);
      expect(again[id]!.bySeries.SYN!.baselines).toEqual(r.test[id]!.bySeries.SYN!.baselines);
      // Raw outputs, targets and rows ride along (not in JSON) for window-by-window comparisons.
      const se = again[id]!.bySeries.SYN!;
      const task = loaded.tasks.find((t) => t.id === id)!;
      expect(se.rows!.length).toBe(ds.test.n);
      expect(se.outputs!.length).toBe(ds.test.n * task.outputDim);
      expect((task as unknown as { metrics(o: Float32Array, y: Float32Array, n: number): Record<string, number> }).metrics(se.outputs!, se.targets!, ds.test.n)).toEqual(se.metrics);
      expect(JSON.stringify(se)).not.toMatch(/outputs|targets|rows/);
    }
    r.model.dispose();
    loaded.dispose();
  });
});

describe('trainModel with explicit split boundaries', () => {
  it('splits each series at the given rows (a date split), with the purge gap after each boundary', async () => {
    const a = generateSyntheticMarket({ bars: 1500, seed: 8 }).candles;
    const b = generateSyntheticMarket({ bars: 1200, seed: 9 }).candles;
    const boundaries = [
      { trainEnd: 900, valEnd: 1200 },
      { trainEnd: 700, valEnd: 950 },
    ];
    const r = await trainModel(
      {
        model: { windowLength: 16, encoder: encoderPreset('tiny', 'mlp'), tasks: ['volatility'], seed: 1 },
        boundaries,
        training: { epochs: 1, batchSize: 64, progress: false },
      },
      [{ symbol: 'A', candles: a }, { symbol: 'B', candles: b }],
    );
    expect(r.dataset.boundaries).toEqual(boundaries);
    const h = r.dataset.horizon;
    const g = r.dataset.purgeGap;
    for (let i = 0; i < r.dataset.train.n; i++) {
      const s = r.dataset.train.seriesIds![i]!;
      expect(r.dataset.train.endRows![i]! + h).toBeLessThan(boundaries[s]!.trainEnd);
    }
    for (let i = 0; i < r.dataset.test.n; i++) {
      const s = r.dataset.test.seriesIds![i]!;
      expect(r.dataset.test.endRows![i]!).toBeGreaterThanOrEqual(boundaries[s]!.valEnd + g);
    }
    r.model.dispose();
  });
});
