import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket, type CandleColumns } from '@task-agnostic/core';
import { Normalizer as FeatureNormalizer } from '@task-agnostic/features';
import { initBackend } from '@task-agnostic/tf';
import { loadModel, saveModel } from './artifact.js';
import { TaskAgnosticModel } from './model.js';
import { normalizerForSeries } from './series-normalizer.js';
import { StreamingPredictor } from './streaming.js';
import { FakeNormalizer, fakeComponents, fakeComputeFeatures, fakeMakeWindows } from './test-doubles.js';

const T = 8;
const a = generateSyntheticMarket({ bars: 400, seed: 3, symbol: 'AAA' }).candles;
const b = generateSyntheticMarket({ bars: 400, seed: 4, symbol: 'BBB' }).candles;
const ma = fakeComputeFeatures(a, undefined);
const mb = fakeComputeFeatures(b, undefined);
const nA = FakeNormalizer.fit(ma, ma.warmup, 250);
const nB = FakeNormalizer.fit(mb, mb.warmup, 100);
const pooled = FakeNormalizer.fit(ma, ma.warmup, 400);
const root = mkdtempSync(path.join(tmpdir(), 'tat-series-norm-'));
const spec = { windowLength: T, encoder: { dim: 5 }, tasks: ['direction'], seed: 2 };
const states = { direction: { thresholds: [-0.01, 0.01] } };
let model: TaskAgnosticModel;

beforeAll(async () => {
  await initBackend({ quiet: true });
  model = TaskAgnosticModel.create(spec, { normalizer: pooled, taskStates: states, components: fakeComponents, symbolNormalizers: { AAA: nA, BBB: nB } });
});
afterAll(() => {
  model.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('per-symbol normalisers in the model and its artifact', () => {
  it('normalizerFor picks the symbol\'s own, else the pooled one', () => {
    expect(model.normalizerFor('AAA')).toBe(nA);
    expect(model.normalizerFor('BBB')).toBe(nB);
    expect(model.normalizerFor('ZZZ')).toBe(pooled);
    expect(model.normalizerFor()).toBe(pooled);
  });

  it('survives save and load, and predictCandles / streaming use the symbol\'s normaliser', async () => {
    const dir = path.join(root, 'm');
    const json = await saveModel(model, dir);
    expect(Object.keys(json.symbolNormalizers ?? {})).toEqual(['AAA', 'BBB']);
    const back = await loadModel(dir, { components: fakeComponents });
    try {
      expect(back.normalizerFor('BBB').toJSON()).toEqual(nB.toJSON());
      expect(back.normalizerFor('AAA').toJSON()).toEqual(nA.toJSON());
      const ends = [50, 200, 399];
      const byB = back.predictCandles(b, ends, { symbol: 'BBB' });
      // the same windows scaled by hand with BBB's statistics
      const manual = back.predict(fakeMakeWindows(nB.transform(mb), ends, T), ends.length);
      expect(byB).toEqual(manual);
      const byPooled = back.predictCandles(b, ends);
      expect(byPooled).not.toEqual(byB);
      // the streaming predictor with symbol BBB gives the batch numbers
      const sp = new StreamingPredictor(back, { symbol: 'BBB' });
      const got: unknown[] = [];
      for (let t = 0; t < b.length; t++) {
        const p = sp.onCandle({ tsMs: b.tsMs[t]!, open: b.open[t]!, high: b.high[t]!, low: b.low[t]!, close: b.close[t]!, volume: b.volume[t]! });
        if (ends.includes(t)) got.push(p!.outputs);
      }
      sp.dispose();
      // (float64 streaming features vs float32 batch features: equal to ~1e-7)
      got.forEach((o, i) => {
        const x = (o as { direction: Record<string, number> }).direction;
        const y = (byB[i] as unknown as { direction: Record<string, number> }).direction;
        for (const k of ['up', 'down', 'sideways']) expect(x[k]).toBeCloseTo(y[k]!, 5);
      });
    } finally {
      back.dispose();
    }
  });

  it('a model without per-symbol normalisers writes no symbolNormalizers', async () => {
    const plain = TaskAgnosticModel.create(spec, { normalizer: pooled, taskStates: states, components: fakeComponents });
    try {
      const json = await saveModel(plain, path.join(root, 'plain'));
      expect(json.symbolNormalizers).toBeUndefined();
      expect(normalizerForSeries(plain, 'ZZZ', b, 300).source).toBe('pooled');
    } finally {
      plain.dispose();
    }
  });
});

describe('normalizerForSeries: the fallback for a symbol the model never saw', () => {
  it('uses the model\'s own normaliser for a known symbol', () => {
    const r = normalizerForSeries(model, 'AAA', a, 300);
    expect(r.source).toBe('symbol');
    expect(r.normalizer).toBe(nA);
  });

  it('fits on the series\' own rows before historyEnd only (medians checked by hand)', () => {
    const c = generateSyntheticMarket({ bars: 900, seed: 5 }).candles;
    const r = normalizerForSeries(model, 'NEWUSDT', c, 700, { minRows: 500 });
    expect(r.source).toBe('history');
    expect(r.fitRows).toEqual([3, 700]);
    expect(r.note).toMatch(/NEWUSDT: not in the model/);
    const m = fakeComputeFeatures(c, undefined);
    const state = r.normalizer.toJSON() as { center: number[]; method: string };
    // robust by default (the pooled fake has no method): the median of rows [3, 700) of each column
    for (let j = 0; j < m.cols; j++) {
      const col = Array.from({ length: 697 }, (_, i) => m.data[(3 + i) * m.cols + j]!).sort((x, y) => x - y);
      const median = (col[348]! + col[348]!) / 2;
      expect(state.center[j]).toBeCloseTo(median, 6);
    }
    // rows from historyEnd on do not matter
    const later: CandleColumns = { ...c, close: c.close.slice(), high: c.high.slice(), volume: c.volume.slice() };
    for (let t = 700; t < c.length; t++) {
      later.close[t] = later.close[t]! * 1.7;
      later.high[t] = later.high[t]! * 2;
      later.volume[t] = later.volume[t]! * 9;
    }
    expect(normalizerForSeries(model, 'NEWUSDT', later, 700, { minRows: 500 }).normalizer.toJSON()).toEqual(r.normalizer.toJSON());
    expect(r.normalizer).toBeInstanceOf(FeatureNormalizer);
  });

  it('falls back to the pooled normaliser when the own history is too short, saying so', () => {
    const r = normalizerForSeries(model, 'NEWUSDT', b, 200, { minRows: 500 });
    expect(r.source).toBe('pooled');
    expect(r.normalizer).toBe(pooled);
    expect(r.note).toMatch(/only 197 rows of own history after warm-up \(< 500\)/);
    expect(() => normalizerForSeries(model, 'NEWUSDT', b, 401)).toThrow(/historyEnd 401 is outside/);
  });
});

describe('per-symbol task states in the model and its artifact', () => {
  it('decodes a symbol\'s outputs with its own task states, survives save and load, and rejects a missing state', async () => {
    const spec2 = { windowLength: T, encoder: { dim: 5 }, tasks: ['direction', 'return'], seed: 2 };
    const pooledStates = { direction: { thresholds: [-0.01, 0.01] }, return: { scale: 1 } };
    const m = TaskAgnosticModel.create(spec2, {
      normalizer: pooled,
      taskStates: pooledStates,
      components: fakeComponents,
      symbolTaskStates: { BBB: { direction: { thresholds: [-0.02, 0.02] }, return: { scale: 10 } } },
    });
    try {
      expect(m.taskStatesFor('BBB').get('return')).toEqual({ scale: 10 });
      expect(m.taskStatesFor('ZZZ').get('return')).toEqual({ scale: 1 });
      const ends = [100, 300];
      const own = m.predictCandles(b, ends, { symbol: 'BBB', normalizer: pooled });
      const plain = m.predictCandles(b, ends, { normalizer: pooled });
      own.forEach((o, i) => expect(o.return!.expected).toBeCloseTo(plain[i]!.return!.expected * 10, 6));
      const dir = path.join(root, 'states');
      const json = await saveModel(m, dir);
      expect(json.symbolTaskStates).toEqual({ BBB: { direction: { thresholds: [-0.02, 0.02] }, return: { scale: 10 } } });
      const back = await loadModel(dir, { components: fakeComponents });
      try {
        expect(back.predictCandles(b, ends, { symbol: 'BBB', normalizer: pooled })).toEqual(own);
      } finally {
        back.dispose();
      }
    } finally {
      m.dispose();
    }
    expect(() =>
      TaskAgnosticModel.create(spec2, { normalizer: pooled, taskStates: pooledStates, components: fakeComponents, symbolTaskStates: { BBB: { direction: {} } } }),
    ).toThrow(/no fitted state for task 'return' of symbol BBB/);
  });
});
