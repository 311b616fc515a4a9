import { beforeAll, describe, expect, it } from 'vitest';
import { DataError, candleAt, generateSyntheticMarket } from '@task-agnostic/core';
import { initBackend, tf } from '@task-agnostic/tf';
import { TaskAgnosticModel } from './model.js';
import { StreamingPredictor, idleMinorGc } from './streaming.js';
import { FakeNormalizer, FakeStreamingFeatures, fakeComponents, fakeComputeFeatures } from './test-doubles.js';

const T = 6;
const candles = generateSyntheticMarket({ bars: 120, seed: 21 }).candles;
const matrix = fakeComputeFeatures(candles, undefined);
const normalizer = FakeNormalizer.fit(matrix, matrix.warmup, 80);
let model: TaskAgnosticModel;

beforeAll(async () => {
  await initBackend({ quiet: true });
  model = TaskAgnosticModel.create(
    { windowLength: T, encoder: { dim: 5 }, tasks: ['direction', 'return'], seed: 2 },
    { normalizer, taskStates: { direction: {}, return: { scale: 1 } }, components: fakeComponents },
  );
});

describe('StreamingPredictor (with test-double features)', () => {
  it('returns null while warming up, then equals batch prediction on every candle', () => {
    const sp = new StreamingPredictor(model);
    const firstValid = matrix.warmup + T - 1; // first row whose whole window is past the warm-up
    const streamed: (ReturnType<StreamingPredictor['onCandle']>)[] = [];
    for (let i = 0; i < candles.length; i++) streamed.push(sp.onCandle(candleAt(candles, i)));
    for (let i = 0; i < firstValid; i++) expect(streamed[i]).toBeNull();
    const ends = Array.from({ length: candles.length - firstValid }, (_, k) => firstValid + k);
    const batch = model.predictCandles(candles, ends);
    for (const [k, e] of ends.entries()) {
      const s = streamed[e]!;
      expect(s).not.toBeNull();
      expect(s.tsMs).toBe(candles.tsMs[e]);
      const b = batch[k]!;
      for (const key of ['up', 'down', 'sideways'] as const) expect(s.outputs.direction![key]).toBeCloseTo(b.direction![key], 5);
      expect(s.outputs.return!.expected).toBeCloseTo(b.return!.expected, 5);
      expect(s.outputs.return!.std).toBeCloseTo(b.return!.std, 5);
      const l = s.latency;
      for (const v of [l.featuresMs, l.encoderMs, l.headsMs]) expect(v).toBeGreaterThanOrEqual(0);
      expect(l.totalMs).toBeCloseTo(l.featuresMs + l.encoderMs + l.headsMs, 9);
    }
    expect(sp.rowsHeld).toBe(T);
  });

  it('applies the calibration exactly as batch prediction does', () => {
    model.setCalibration({ direction: { method: 'vector', scale: [0.5, 1.5, 1], shift: [0.2, -0.1, 0] }, return: { method: 'gaussian-spread', scale: [1, 1], shift: [0, 0.7] } });
    try {
      const sp = new StreamingPredictor(model);
      const ends: number[] = [];
      const streamed: NonNullable<ReturnType<StreamingPredictor['onCandle']>>[] = [];
      for (let i = 0; i < candles.length; i++) {
        const r = sp.onCandle(candleAt(candles, i));
        if (r) {
          ends.push(i);
          streamed.push(r);
        }
      }
      const batch = model.predictCandles(candles, ends);
      model.setCalibration({});
      const uncalibrated = model.predictCandles(candles, ends);
      for (const [k, s] of streamed.entries()) {
        for (const key of ['up', 'down', 'sideways'] as const) expect(s.outputs.direction![key]).toBeCloseTo(batch[k]!.direction![key], 5);
        expect(s.outputs.return!.std).toBeCloseTo(batch[k]!.return!.std, 5);
        expect(s.outputs.return!.std).toBeCloseTo(Math.exp(0.7) * uncalibrated[k]!.return!.std, 5);
      }
      expect(streamed[0]!.outputs.direction!.up).not.toBeCloseTo(uncalibrated[0]!.direction!.up, 4);
    } finally {
      model.setCalibration({});
    }
  });

  it('rejects out-of-order candles and a feature engine of another feature set', () => {
    const sp = new StreamingPredictor(model);
    sp.onCandle(candleAt(candles, 5));
    expect(() => sp.onCandle(candleAt(candles, 5))).toThrow(DataError);
    expect(() => sp.onCandle(candleAt(candles, 4))).toThrow(/candles must arrive in time order/);
    expect(() => new StreamingPredictor(model, { features: new FakeStreamingFeatures({ variant: 'renamed' }) })).toThrow(
      "feature mismatch: feature 1 is 'range_hl' in the model but 'range_hl2' in the streaming feature engine",
    );
  });

  it('does not leak tensors over 100 streamed predictions', () => {
    const sp = new StreamingPredictor(model);
    for (let i = 0; i < 15; i++) sp.onCandle(candleAt(candles, i));
    const before = tf.memory().numTensors;
    for (let i = 15; i < 115; i++) expect(sp.onCandle(candleAt(candles, i))).not.toBeNull();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('idleMinorGc', () => {
  it('runs only where node exposes gc', () => {
    const g = globalThis as { gc?: unknown };
    const saved = g.gc;
    let calls: unknown[] = [];
    g.gc = (o: unknown) => calls.push(o);
    expect(idleMinorGc()).toBe(true);
    expect(calls).toEqual([{ type: 'minor' }]);
    g.gc = undefined;
    calls = [];
    expect(idleMinorGc()).toBe(false);
    g.gc = saved;
  });
});
