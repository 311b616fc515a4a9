import { describe, expect, it } from 'vitest';
import { candlesFrom } from '../test-candles.js';
import { returnTask } from './return.js';

describe('return task', () => {
  const closes = [100, 110, 99, 120, 100, 105, 90, 95];
  const c = candlesFrom(closes);
  const task = returnTask({ horizon: 2 });

  it('standardises the forward return by the training std and decodes back to raw units', () => {
    const s = task.fit(c, 6) as { scale: number; trainMean: number };
    // training range bars 0..5: forward 2-bar returns for t = 0..3
    const r = [0, 1, 2, 3].map((t) => Math.log(closes[t + 2]! / closes[t]!));
    const m = r.reduce((a, b) => a + b) / 4;
    const sd = Math.sqrt(r.reduce((a, b) => a + (b - m) ** 2, 0) / 3);
    expect(s.scale).toBeCloseTo(sd, 12);
    expect(s.trainMean).toBeCloseTo(m, 12);
    const l = task.labels(c, s);
    expect(l.targets[5]).toBeCloseTo(Math.log(95 / 105) / sd, 5);
    expect(l.valid[5]).toBe(1);
    expect(l.valid[6]).toBe(0);
    const d = task.decode([0.5, Math.log(2)], s);
    expect(d.expected).toBeCloseTo(0.5 * sd, 12);
    expect(d.std).toBeCloseTo(2 * sd, 12);
  });

  it('reports IC and NLL, and the zero baseline has NLL of a standard normal', () => {
    const s = task.fit(c, 6);
    const outputs = new Float32Array([1, 0, -1, 0, 2, 0]);
    const targets = new Float32Array([2, -1, 1]);
    const m = task.metrics(outputs, targets, 3);
    // pred [1,-1,2] vs [2,-1,1]: deviations [1,-5,4]/3 and [4,-5,1]/3 -> 33 / 42
    expect(m.correlation).toBeCloseTo(33 / 42, 6);
    expect(m.directionalAccuracy).toBeCloseTo(1, 12);
    const b = task.baseline(c, s, [0, 1, 2, 3]);
    const l = task.labels(c, s);
    const y = [0, 1, 2, 3].map((t) => l.targets[t]!);
    const nll = y.reduce((a, v) => a + 0.5 * v * v + 0.5 * Math.log(2 * Math.PI), 0) / 4;
    expect(b[0]!.name).toBe('zero');
    expect(b[0]!.metrics.nll).toBeCloseTo(nll, 5);
  });
});
