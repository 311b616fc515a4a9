import { describe, expect, it } from 'vitest';
import { ArtifactError, ConfigError, DataError } from '@task-agnostic/core';
import { candlesFrom } from '../test-candles.js';
import { directionTask } from './direction.js';

describe('direction task', () => {
  // Alternating +1% / -1% bars: one-bar log returns +-ln(1.01) (sample std computable by hand).
  const closes = [100];
  for (let i = 1; i < 41; i++) closes.push(closes[i - 1]! * (i % 2 ? 1.01 : 1 / 1.01));
  // then a clear up move and a clear down move
  closes.push(103, 106, 104, 100, 96);
  const c = candlesFrom(closes);
  const task = directionTask({ horizon: 2, thresholdSigmas: 0.5 });

  it('fits sigma_bar and the threshold on the training range only', () => {
    const s = task.fit(c, 41) as { sigmaBar: number; threshold: number };
    // 40 returns of +-a, mean 0 -> sample std = a sqrt(40/39)
    const a = Math.log(1.01);
    expect(s.sigmaBar).toBeCloseTo(a * Math.sqrt(40 / 39), 12);
    expect(s.threshold).toBeCloseTo(0.5 * s.sigmaBar * Math.sqrt(2), 12);
  });

  it('labels up / down / sideways by hand', () => {
    const s = task.fit(c, 41);
    const l = task.labels(c, s);
    expect(l.targetDim).toBe(1);
    // t = 0: close[2] = close[0] -> R = 0 -> sideways (2)
    expect(l.targets[0]).toBe(2);
    // t = 40: close[40] = 100 (even count of alternations), close[42] = 106 -> up
    expect(closes[40]).toBeCloseTo(100, 9);
    expect(l.targets[40]).toBe(0);
    // t = 42: 106 -> 100: down; t = 43: 104 -> 96 down
    expect(l.targets[42]).toBe(1);
    expect(l.targets[43]).toBe(1);
    // the last h rows have no label
    expect(Array.from(l.valid.slice(-3))).toEqual([1, 0, 0]);
  });

  it('decodes probabilities that sum to 1, in class order', () => {
    const d = task.decode([Math.log(2), 0, Math.log(1)], task.fit(c, 41));
    expect(d.up).toBeCloseTo(0.5, 12);
    expect(d.down).toBeCloseTo(0.25, 12);
    expect(d.sideways).toBeCloseTo(0.25, 12);
  });

  it('baselines report metrics on the given rows', () => {
    const s = task.fit(c, 41);
    const rows = [38, 39, 40, 41, 42, 43];
    const b = task.baseline(c, s, rows);
    expect(b.map((x) => x.name)).toEqual(['majority', 'momentum']);
    expect(b[0]!.metrics.n).toBe(6);
    // majority class of the training labels is sideways (alternation). Truth at the rows:
    // 38: 100 -> 100 sideways; 39: 101 -> 103 up (ln 1.0198 > tau ~ 0.0072); 40: 100 -> 106 up;
    // 41: 103 -> 104 up (0.0097 > tau); 42: 106 -> 100 down; 43: 104 -> 96 down -> 1 of 6 sideways.
    expect(b[0]!.metrics.accuracy).toBeCloseTo(1 / 6, 12);
    expect(b[0]!.metrics['confusion.up.sideways']).toBe(3);
    expect(() => task.baseline(c, s, [44])).toThrow(DataError);
  });

  it('validates config, trainEnd, state and candles with typed errors', () => {
    expect(() => directionTask({ horizon: 0 })).toThrow(ConfigError);
    expect(() => directionTask({ horizon: 0 })).toThrow(/direction\.horizon/);
    expect(() => directionTask({ bogus: 1 })).toThrow(/direction/);
    expect(() => task.fit(c, 2)).toThrow(/trainEnd/);
    expect(() => task.labels(c, { task: 'volatility' })).toThrow(ArtifactError);
    expect(() => task.decode([1, 2], task.fit(c, 41))).toThrow(/expected an output row of 3 values/);
    expect(() => task.decode([1, NaN, 2], task.fit(c, 41))).toThrow(/output\[1\]/);
    expect(() => task.metrics(new Float32Array(5), new Float32Array(2), 2)).toThrow(/outputs hold 5 values, need n x outputDim = 6/);
    const bad = candlesFrom([1, 2, NaN, 4]);
    expect(() => task.labels(bad, task.fit(c, 41))).toThrow(/close\[2\]/);
  });
});
