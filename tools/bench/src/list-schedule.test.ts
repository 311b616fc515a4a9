import { describe, expect, it } from 'vitest';
import { listSchedule } from './list-schedule.js';

describe('listSchedule', () => {
  it('dispatches in order to the earliest-free worker (hand-worked)', () => {
    // the sweep bench's 8 trials in epochs: A 12, B 24, A 18 (->30), B 7 (->31), A 8 (->38),
    // B 32 (->63), A 8 (->46), A 16 (->62): the last ends at 63
    expect(listSchedule([12, 24, 18, 7, 8, 32, 8, 16], 2)).toBe(63);
    // the longest job last leaves a lone tail: 1+1+1+1 split 2/2, then 4 alone
    expect(listSchedule([1, 1, 1, 1, 4], 2)).toBe(6);
    expect(listSchedule([4, 1, 1, 1, 1], 2)).toBe(4);
  });

  it('one worker runs everything back to back; more workers than jobs take the longest', () => {
    expect(listSchedule([3, 5, 2], 1)).toBe(10);
    expect(listSchedule([3, 5, 2], 8)).toBe(5);
    expect(() => listSchedule([1], 0)).toThrow(/positive integer/);
  });
});
