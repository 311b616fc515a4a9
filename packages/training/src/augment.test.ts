import { describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { withInputNoise } from './augment.js';

describe('withInputNoise', () => {
  const batch = () => ({ x: new Float32Array(20_000).fill(1), n: 1, targets: [], targetDims: [] });

  it('adds zero-mean noise of the given std, deterministic in the rng', () => {
    const a = withInputNoise(batch(), 0.3, new Rng(5));
    let s = 0;
    let s2 = 0;
    for (const v of a.x) {
      s += v - 1;
      s2 += (v - 1) ** 2;
    }
    const mean = s / a.x.length;
    const sd = Math.sqrt(s2 / a.x.length - mean * mean);
    // 20k draws: the sample std is within ~1% of 0.3, the mean within 4 standard errors of 0
    expect(sd).toBeGreaterThan(0.29);
    expect(sd).toBeLessThan(0.31);
    expect(Math.abs(mean)).toBeLessThan((4 * 0.3) / Math.sqrt(a.x.length));
    expect(Array.from(withInputNoise(batch(), 0.3, new Rng(5)).x)).toEqual(Array.from(a.x));
  });

  it('is the identity at std 0 and rejects a negative std', () => {
    expect(Array.from(withInputNoise(batch(), 0, new Rng(1)).x.subarray(0, 3))).toEqual([1, 1, 1]);
    expect(() => withInputNoise(batch(), -1, new Rng(1))).toThrow(/>= 0/);
  });
});
