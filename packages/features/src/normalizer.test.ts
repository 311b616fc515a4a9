import { describe, expect, it } from 'vitest';
import { ConfigError, generateSyntheticMarket } from '@task-agnostic/core';
import type { FeatureMatrix } from './batch.js';
import { computeFeatures } from './batch.js';
import { Normalizer } from './normalizer.js';
import { makeWindows, validEndRows } from './windows.js';

/** A 2-column matrix with hand-chosen values; warm-up 1. */
function tiny(): FeatureMatrix {
  // column a: 0 | 1 2 3 4 100 ; column b: constant 7
  const a = [0, 1, 2, 3, 4, 100];
  const data = new Float32Array(12);
  a.forEach((x, i) => {
    data[i * 2] = x;
    data[i * 2 + 1] = i === 0 ? 0 : 7;
  });
  return { data, rows: 6, cols: 2, names: ['a', 'b'], warmup: 1 };
}

describe('Normalizer', () => {
  it('robust: median and IQR/1.349 on the fit range only; constant column gets scale 1', () => {
    const m = tiny();
    const n = Normalizer.fit(m, 0, 5); // rows 1..4 (row 0 is warm-up, row 5 outside)
    // a over rows 1..4 = 1,2,3,4: median 2.5, q25 1.75, q75 3.25 -> IQR 1.5.
    expect(n.center[0]).toBeCloseTo(2.5, 12);
    expect(n.scale[0]).toBeCloseTo(1.5 / 1.349, 12);
    expect(n.center[1]).toBe(7);
    expect(n.scale[1]).toBe(1);
    const t = n.transform(m);
    expect(t.data[0]).toBe(0); // warm-up row stays 0
    expect(t.data[2]).toBeCloseTo((1 - 2.5) / (1.5 / 1.349), 6);
    expect(t.data[10]).toBe(5); // 100 is clipped to +5
    expect(t.data[11]).toBe(0);
  });
  it('standard: mean and population std', () => {
    const n = Normalizer.fit(tiny(), 1, 5, { method: 'standard', clip: 3 });
    expect(n.center[0]).toBeCloseTo(2.5, 12);
    expect(n.scale[0]).toBeCloseTo(Math.sqrt(1.25), 12);
  });
  it('rows outside the fit range do not change the fit', () => {
    const c = generateSyntheticMarket({ bars: 600, seed: 3 }).candles;
    const m = computeFeatures(c);
    const a = Normalizer.fit(m, 0, 400);
    const data = m.data.slice();
    for (let i = 400 * m.cols; i < data.length; i++) data[i] = 1e6;
    const b = Normalizer.fit({ ...m, data }, 0, 400);
    expect(b.toJSON()).toEqual(a.toJSON());
    const row = Array.from(m.data.subarray(500 * m.cols, 501 * m.cols));
    expect(Array.from(a.transformRow(row))).toEqual(Array.from(a.transform(m).data.subarray(500 * m.cols, 501 * m.cols)));
  });
  it('JSON round trip is exact; bad state is a ConfigError naming the field', () => {
    const n = Normalizer.fit(computeFeatures(generateSyntheticMarket({ bars: 300, seed: 1 }).candles), 0, 300);
    const back = Normalizer.fromJSON(JSON.parse(JSON.stringify(n)));
    expect(back.toJSON()).toEqual(n.toJSON());
    const bad = { ...n.toJSON(), scale: n.toJSON().scale.map((x, i) => (i === 3 ? 0 : x)) };
    expect(() => Normalizer.fromJSON(bad)).toThrow(ConfigError);
    expect(() => Normalizer.fromJSON(bad)).toThrow(/normalizer.scale.3/);
    expect(() => Normalizer.fromJSON({ ...n.toJSON(), names: ['x'] })).toThrow(/same length/);
  });
  it('refuses a matrix with other features', () => {
    const m = tiny();
    const n = Normalizer.fit(m, 0, 6);
    expect(() => n.transform({ ...m, names: ['a', 'c'] })).toThrow(/feature 1 is 'c'/);
    expect(() => Normalizer.fit(m, 0, 2)).toThrow(/need at least 2/);
  });
});

describe('makeWindows', () => {
  const m = computeFeatures(generateSyntheticMarket({ bars: 300, seed: 9 }).candles);
  it('window ending at e holds rows e-T+1..e, written into the given buffer', () => {
    const T = 16;
    const ends = [m.warmup + T - 1, 200, 299];
    const out = new Float32Array(ends.length * T * m.cols + 5);
    const w = makeWindows(m, ends, T, out);
    expect(w).toBe(out);
    ends.forEach((e, n) => {
      for (let t = 0; t < T; t++) {
        for (let f = 0; f < m.cols; f++) expect(w[(n * T + t) * m.cols + f]).toBe(m.data[(e - T + 1 + t) * m.cols + f]);
      }
    });
  });
  it('rejects windows reaching into warm-up or past the end, and short buffers', () => {
    expect(() => makeWindows(m, [m.warmup + 14], 16)).toThrow(/endRows\[0\]/);
    expect(() => makeWindows(m, [300], 16)).toThrow(/endRows\[0\] = 300/);
    expect(() => makeWindows(m, [250], 16, new Float32Array(10))).toThrow(/out has 10 slots/);
  });
  it('validEndRows lists every usable end row', () => {
    const e = validEndRows(m, 16, 10);
    expect(e[0]).toBe(m.warmup + 15);
    expect(e[e.length - 1]).toBeLessThanOrEqual(299);
    expect(() => makeWindows(m, e, 16)).not.toThrow();
  });
});
