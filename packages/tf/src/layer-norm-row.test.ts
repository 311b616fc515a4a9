import { describe, expect, it } from 'vitest';
import { layerNormRowStats } from './layer-norm-row.js';

describe('layerNormRowStats', () => {
  it('hand-computed: the row 1, 2, 3, 4 has mean 2.5 and variance 1.25 (divided by d)', () => {
    const s = layerNormRowStats(Float32Array.of(1, 2, 3, 4), 0, 4, 0);
    expect(s.mean).toBe(2.5);
    expect(s.rstd).toBe(1 / Math.sqrt(1.25));
    expect(layerNormRowStats(Float32Array.of(1, 2, 3, 4), 0, 4, 2.75).rstd).toBe(0.5); // 1 / sqrt(1.25 + 2.75)
  });

  it('reads only x[offset, offset + d): the second row of a [2, 3] buffer', () => {
    const x = Float32Array.of(100, -100, 7, 2, 4, 9);
    const s = layerNormRowStats(x, 3, 3, 1e-5);
    expect(s.mean).toBe(5);
    // deviations -3, -1, 4: variance 26 / 3
    expect(s.rstd).toBeCloseTo(1 / Math.sqrt(26 / 3 + 1e-5), 14);
  });

  it('a constant row normalises by 1 / sqrt(eps) (eps keeps it finite)', () => {
    const s = layerNormRowStats(new Float32Array(8).fill(3.5), 0, 8, 1e-5);
    expect(s.mean).toBe(3.5);
    expect(s.rstd).toBeCloseTo(1 / Math.sqrt(1e-5), 9);
  });

  it('equals a two-pass float64 reference on random rows within 1e-12 (relative)', () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32) * 6 - 2;
    const d = 37;
    const x = Float32Array.from({ length: 5 * d }, rand);
    for (let r = 0; r < 5; r++) {
      const row = Array.from(x.subarray(r * d, (r + 1) * d));
      const mean = row.reduce((a, b) => a + b, 0) / d;
      const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
      const s = layerNormRowStats(x, r * d, d, 1e-5);
      expect(Math.abs(s.mean - mean)).toBeLessThan(1e-12 * (1 + Math.abs(mean)));
      expect(Math.abs(s.rstd * Math.sqrt(variance + 1e-5) - 1)).toBeLessThan(1e-12);
    }
  });
});
