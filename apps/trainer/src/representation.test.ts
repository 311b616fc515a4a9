import { describe, expect, it } from 'vitest';
import { classSeparation } from './representation.js';

describe('classSeparation', () => {
  it('matches a hand-computed case', () => {
    // class 0 at (0,0) and (2,0): centroid (1,0), distances 1 and 1; class 1 at (1,4) and (1,6): centroid (1,5), distances 1 and 1.
    const emb = Float32Array.from([0, 0, 2, 0, 1, 4, 1, 6]);
    const s = classSeparation(emb, 4, 2, [0, 0, 1, 1], 2);
    expect(s.intra).toBeCloseTo(1, 12);
    expect(s.inter).toBeCloseTo(5, 12);
    expect(s.ratio).toBeCloseTo(5, 12);
    expect(s.counts).toEqual([2, 2]);
  });
  it('is zero when all classes share one centroid, and skips empty classes', () => {
    const emb = Float32Array.from([1, 0, -1, 0, 0, 1, 0, -1]);
    const s = classSeparation(emb, 4, 2, [0, 0, 1, 1], 3);
    expect(s.inter).toBe(0);
    expect(s.ratio).toBe(0);
    expect(s.counts).toEqual([2, 2, 0]);
  });
  it('rejects labels out of range', () => {
    expect(() => classSeparation(new Float32Array(2), 1, 2, [3], 2)).toThrow(/label 3 at row 0/);
  });
});
