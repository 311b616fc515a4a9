import { describe, expect, it } from 'vitest';
import { maxAbsDiff, tensorMaxAbsDiff } from './max-abs-diff.js';

const tensor = (shape: number[], values: number[]) => ({ shape, dataSync: () => Float32Array.from(values) });

describe('maxAbsDiff', () => {
  it('hand-computed: the largest |a - b| over the elements, either sign', () => {
    expect(maxAbsDiff([1, 2, 3], [1.5, 0, 3])).toBe(2);
    expect(maxAbsDiff(Float32Array.of(-1, 4), [2, 4])).toBe(3);
    expect(maxAbsDiff([], [])).toBe(0);
  });

  it('a NaN on either side gives NaN (a broken result never passes a tolerance)', () => {
    expect(maxAbsDiff([0, Number.NaN, 0], [0, 1, 5])).toBeNaN();
  });

  it('throws on unequal lengths', () => {
    expect(() => maxAbsDiff([1, 2], [1])).toThrow(/lengths differ \(2 vs 1\)/);
  });
});

describe('tensorMaxAbsDiff', () => {
  it('compares the values of two tensors of one shape', () => {
    expect(tensorMaxAbsDiff(tensor([2, 2], [1, 2, 3, 4]), tensor([2, 2], [1, 2, 3, 4.5]))).toBe(0.5);
  });

  it('throws when the shapes differ, even with as many values', () => {
    expect(() => tensorMaxAbsDiff(tensor([2, 2], [1, 2, 3, 4]), tensor([4], [1, 2, 3, 4]))).toThrow(/shapes differ \(\[2, 2\] vs \[4\]\)/);
    expect(() => tensorMaxAbsDiff(tensor([1, 4], [1, 2, 3, 4]), tensor([4, 1], [1, 2, 3, 4]))).toThrow(/shapes differ/);
  });
});
