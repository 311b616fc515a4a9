import { describe, expect, it } from 'vitest';
import { normalCdf, normalQuantile, studentTCdf, studentTQuantile } from './distributions.js';

// Reference values: Abramowitz & Stegun tables 26.1 / 26.10 and R (pnorm, qnorm, pt, qt).
describe('distributions', () => {
  it('normal CDF and quantile match tabulated values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 15);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 14);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 14);
    expect(normalCdf(-6)).toBeCloseTo(9.865876450377e-10, 15);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 9);
    expect(normalQuantile(0.99)).toBeCloseTo(2.326347874040841, 9);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 6);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(2)).toBeNaN();
    for (const p of [0.001, 0.2, 0.5, 0.7, 0.999]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 12);
  });
  it('Student-t CDF and quantile match tabulated values', () => {
    expect(studentTCdf(2, 10)).toBeCloseTo(0.9633059826146, 9); // pt(2, 10)
    expect(studentTCdf(-3.5, 4)).toBeCloseTo(0.01244808173, 9); // pt(-3.5, 4)
    expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 8); // Cauchy: 1/2 + atan(1)/pi
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228138851986, 6); // qt(.975, 10)
    expect(studentTCdf(1.3, 1e7)).toBeCloseTo(normalCdf(1.3), 6);
    expect(studentTCdf(NaN, 3)).toBeNaN();
  });
});
