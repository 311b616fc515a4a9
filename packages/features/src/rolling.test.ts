import { describe, expect, it } from 'vitest';
import { createRng } from '@task-agnostic/core';
import { Ring, SeededEma, WilderSum, safeDiv } from './rolling.js';

describe('Ring', () => {
  it('keeps the last n values, their running sum, and ago(k)', () => {
    const r = new Ring(3);
    expect(Number.isNaN(r.push(1))).toBe(true);
    r.push(2);
    r.push(3);
    expect(r.full).toBe(true);
    expect(r.push(4)).toBe(1);
    expect(r.sum).toBe(9);
    expect([r.ago(0), r.ago(1), r.ago(2)]).toEqual([4, 3, 2]);
    expect([r.max(), r.min(), r.mean()]).toEqual([4, 2, 3]);
    expect(r.sumSqDev()).toBeCloseTo(2, 15);
  });
  it('running sum stays exact-ish over 1e5 pushes of large values, and an all-zero window sums to exactly 0', () => {
    const rng = createRng(1);
    const r = new Ring(20);
    for (let i = 0; i < 100_000; i++) r.push(1e6 * rng.next());
    let exact = 0;
    for (let i = 0; i < 20; i++) exact += r.buf[i]!;
    expect(Math.abs(r.sum - exact) / exact).toBeLessThan(1e-12);
    for (let i = 0; i < 7; i++) r.push(0.1 + i);
    for (let i = 0; i < 20; i++) r.push(0);
    expect(r.sum).toBe(0);
  });
});

describe('averages', () => {
  it('SeededEma: mean of the first period, then alpha-weighted', () => {
    const e = SeededEma.ema(3); // alpha 0.5
    expect(Number.isNaN(e.push(1))).toBe(true);
    e.push(2);
    expect(e.push(3)).toBe(2);
    expect(e.push(6)).toBe(4);
    const w = SeededEma.wilder(2); // alpha 0.5
    w.push(2);
    expect(w.push(4)).toBe(3);
    expect(w.push(5)).toBe(4);
  });
  it('WilderSum: sum of the first period, then s - s/period + x', () => {
    const w = new WilderSum(2);
    w.push(1);
    expect(w.push(3)).toBe(4);
    expect(w.push(2)).toBe(4 - 2 + 2);
  });
  it('safeDiv', () => {
    expect(safeDiv(1, 0, 7)).toBe(7);
    expect(safeDiv(1, 4, 7)).toBe(0.25);
    expect(safeDiv(1e308, 1e-308, 7)).toBe(7);
  });
});
