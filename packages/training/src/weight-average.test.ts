import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { parseTrainingConfig } from './config.js';
import { WeightAverage } from './weight-average.js';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', quiet: true });
});

describe('WeightAverage', () => {
  it('follows avg = d_t avg + (1 - d_t) w with the warm-up decay min(decay, (1 + t) / (10 + t))', () => {
    const a = tf.variable(tf.tensor1d([1, 2]), true, 'ema_a');
    const b = tf.variable(tf.tensor2d([[0, -4]]), true, 'ema_b');
    const avg = new WeightAverage([a, b], 0.5);
    // by hand in float64: the first decays are 1/10, 2/11, 3/12, then 0.5 caps them
    let ea = [1, 2];
    let eb = [0, -4];
    const steps = [[3, 5, 1, 1], [-1, 0, 2, 8], [4, 4, 4, 4], [0, 1, 0, 1], [2, 2, -2, -2]];
    steps.forEach((s, t) => {
      a.assign(tf.tensor1d([s[0]!, s[1]!]));
      b.assign(tf.tensor2d([[s[2]!, s[3]!]]));
      const d = Math.min(0.5, (1 + t) / (10 + t));
      expect(avg.nextDecay()).toBeCloseTo(d, 12);
      avg.update();
      ea = ea.map((x, k) => d * x + (1 - d) * s[k]!);
      eb = eb.map((x, k) => d * x + (1 - d) * s[2 + k]!);
    });
    expect(avg.updates).toBe(5);
    const [va, vb] = avg.values();
    va!.forEach((x, k) => expect(x).toBeCloseTo(ea[k]!, 5));
    vb!.forEach((x, k) => expect(x).toBeCloseTo(eb[k]!, 5));
    // reading the average leaves the variables as they were
    expect(Array.from(a.dataSync())).toEqual([2, 2]);
    expect(Array.from(b.dataSync())).toEqual([-2, -2]);
    // state round trip, and bad states named
    const other = new WeightAverage([a, b], 0.5);
    other.setState(avg.getState());
    expect(other.updates).toBe(5);
    expect(other.values()).toEqual(avg.values());
    expect(() => other.setState({ updates: 1, values: [new Float32Array(2)] })).toThrow(/1 arrays, the average 2/);
    expect(() => other.setState({ updates: 1, values: [new Float32Array(3), new Float32Array(2)] })).toThrow(/array 0 holds 3 values/);
    expect(() => new WeightAverage([a], 1)).toThrow(/decay must be in \(0, 1\)/);
    tf.dispose([a, b]);
  });

  it('training.emaDecay: validated and named when out of range', () => {
    expect(parseTrainingConfig({ emaDecay: 0.998 }).emaDecay).toBe(0.998);
    expect(parseTrainingConfig({}).emaDecay).toBeUndefined();
    expect(() => parseTrainingConfig({ emaDecay: 1 })).toThrow(/training\.emaDecay/);
  });
});
