import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket, type CandleColumns } from '@task-agnostic/core';
import { buildDataset, recencyWeights, splitSegments, walkForwardBoundaries } from './dataset.js';
import { checkSplit, gatherSplit, type MultiTaskSplit } from './split.js';
import { fakeForwardReturnTask, fakePipeline } from './test-doubles.js';

const a = generateSyntheticMarket({ bars: 600, seed: 1, symbol: 'AAA' });
const b = generateSyntheticMarket({ bars: 500, seed: 2, symbol: 'BBB' });

/** every row a window or its label reads, per series: [e-W+1, e+h] */
function span(s: MultiTaskSplit, series: number, W: number, h: number): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < s.n; i++) {
    if (s.seriesIds![i] !== series) continue;
    lo = Math.min(lo, s.endRows![i]! - W + 1);
    hi = Math.max(hi, s.endRows![i]! + h);
  }
  return s.n && lo <= hi ? [lo, hi] : null;
}

describe('buildDataset', () => {
  it('separates train/val/test by the purge gap: no window or label straddles two splits', () => {
    const W = 16;
    const tasks = [fakeForwardReturnTask(3), fakeForwardReturnTask(8)];
    const ds = buildDataset([{ symbol: 'AAA', candles: a.candles }, { symbol: 'BBB', candles: b.candles }], tasks, fakePipeline(), { windowLength: W, valFraction: 0.2, testFraction: 0.2 });
    expect(ds.horizon).toBe(8);
    expect(ds.purgeGap).toBe(8 + W);
    for (const s of [0, 1]) {
      const tr = span(ds.train, s, W, 8)!;
      const va = span(ds.val, s, W, 8)!;
      const te = span(ds.test, s, W, 8)!;
      const bnd = ds.boundaries[s]!;
      expect(tr[1]).toBeLessThan(bnd.trainEnd);
      expect(va[0]).toBeGreaterThanOrEqual(bnd.trainEnd);
      expect(va[1]).toBeLessThan(bnd.valEnd);
      expect(te[0]).toBeGreaterThanOrEqual(bnd.valEnd);
      expect(tr[1]).toBeLessThan(va[0]);
      expect(va[1]).toBeLessThan(te[0]);
      // the gap is real: the first val window starts > h rows after the last training label
      expect(va[0] - tr[1]).toBeGreaterThan(0);
    }
    expect(ds.train.n + ds.val.n + ds.test.n).toBeGreaterThan(600);
    // windows hold rows e-W+1..e of the normalised matrix; targets are the task labels at e
    const i = 5;
    const e = ds.train.endRows![i]!;
    const s = ds.train.seriesIds![i]!;
    const m = ds.matrices[s]!;
    expect(Array.from(ds.train.x.subarray(i * W * 2, (i + 1) * W * 2))).toEqual(Array.from(m.data.subarray((e - W + 1) * 2, (e + 1) * 2)));
    const c = ds.series[s]!.candles;
    expect(ds.train.targets[1]![i]).toBeCloseTo(Math.log(c.close[e + 8]! / c.close[e]!) * 100, 4);
  });

  it('fits the normaliser on training rows only: changing later candles leaves the training split unchanged', () => {
    const W = 8;
    const tasks = [fakeForwardReturnTask(2)];
    const p1 = fakePipeline();
    const ds1 = buildDataset([{ symbol: 'AAA', candles: a.candles }], tasks, p1, { windowLength: W });
    expect(p1.fits[0]!.rows).toBe(ds1.boundaries[0]!.trainEnd - 1);
    // perturb everything from trainEnd on
    const te = ds1.boundaries[0]!.trainEnd;
    const c: CandleColumns = { ...a.candles, close: a.candles.close.slice(), high: a.candles.high.slice(), low: a.candles.low.slice() };
    for (let t = te; t < c.length; t++) {
      c.close[t] = c.close[t]! * 3;
      c.high[t] = c.high[t]! * 4;
      c.low[t] = c.low[t]! * 2;
    }
    const ds2 = buildDataset([{ symbol: 'AAA', candles: c }], tasks, fakePipeline(), { windowLength: W });
    expect(ds2.train.n).toBe(ds1.train.n);
    expect(Buffer.from(ds2.train.x.buffer).equals(Buffer.from(ds1.train.x.buffer))).toBe(true);
    expect(Buffer.from(ds2.train.targets[0]!.buffer).equals(Buffer.from(ds1.train.targets[0]!.buffer))).toBe(true);
    expect(Buffer.from(ds2.val.x.buffer).equals(Buffer.from(ds1.val.x.buffer))).toBe(false);
  });

  it('valStride thins the validation windows alone: training and test keep the stride, validation rows are a superset', () => {
    const tasks = [fakeForwardReturnTask(4)];
    const o = { windowLength: 8, valFraction: 0.3, testFraction: 0.2, stride: 6 };
    const base = buildDataset([{ symbol: 'AAA', candles: a.candles }], tasks, fakePipeline(), o);
    const fine = buildDataset([{ symbol: 'AAA', candles: a.candles }], tasks, fakePipeline(), { ...o, valStride: 2 });
    expect(Array.from(fine.train.endRows!)).toEqual(Array.from(base.train.endRows!));
    expect(Array.from(fine.test.endRows!)).toEqual(Array.from(base.test.endRows!));
    // every 2nd row vs every 6th (both on row % stride === 0): three times the rows, the coarse ones among them
    const v = Array.from(fine.val.endRows!);
    expect(v.every((e) => e % 2 === 0)).toBe(true);
    expect(Math.abs(v.length - 3 * base.val.n)).toBeLessThanOrEqual(2);
    for (const e of base.val.endRows!) expect(v).toContain(e);
  });

  it('rejects a purge gap below horizon + window and bad fractions, naming the field', () => {
    const tasks = [fakeForwardReturnTask(5)];
    expect(() => buildDataset([{ symbol: 'AAA', candles: a.candles }], tasks, fakePipeline(), { windowLength: 10, purgeGap: 14 })).toThrow(/dataset\.purgeGap/);
    expect(() => buildDataset([{ symbol: 'AAA', candles: a.candles }], tasks, fakePipeline(), { valFraction: 0.5, testFraction: 0.5 })).toThrow(/dataset\.valFraction/);
    expect(() => buildDataset([{ symbol: 'AAA', candles: a.candles }], tasks, fakePipeline(), { windowLength: 0 })).toThrow(/dataset\.windowLength/);
    // an empty series (a header-only file) says so, not "split boundaries ... do not fit 0 candles"
    const empty = { ...a.candles, length: 0, tsMs: new Float64Array(0) } as CandleColumns;
    expect(() => buildDataset([{ symbol: 'EMPTY', candles: empty }], tasks, fakePipeline(), { windowLength: 8 })).toThrow(/^series EMPTY: no candles$/);
  });

  it('validation blocks inside the training range: purged on both sides, their windows in validation, none in training', () => {
    const W = 16;
    const h = 8;
    const tasks = [fakeForwardReturnTask(3), fakeForwardReturnTask(h)];
    const bounds = [{ trainEnd: 400, valEnd: 500, valBlocks: [{ start: 100, end: 180 }, { start: 250, end: 320 }] }];
    const ds = buildDataset([{ symbol: 'AAA', candles: a.candles }], tasks, fakePipeline(), { windowLength: W }, bounds);
    const g = ds.purgeGap;
    const plain = buildDataset([{ symbol: 'AAA', candles: a.candles }], tasks, fakePipeline(), { windowLength: W }, [{ trainEnd: 400, valEnd: 500 }]);
    const inBlock = (e: number, blk: { start: number; end: number }) => e >= blk.start + g && e + h < blk.end;
    // every validation window is a block window or one of the plain split's, and each block gives some
    const v = Array.from(ds.val.endRows!);
    for (const blk of bounds[0]!.valBlocks) expect(v.filter((e) => inBlock(e, blk)).length).toBe(blk.end - h - (blk.start + g));
    expect(v.filter((e) => e >= 400)).toEqual(Array.from(plain.val.endRows!));
    expect(v).toEqual([...v].sort((x, y) => x - y));
    // no training window reads a row of a block window or its labels: [e-W+1, e+h] never meets [a+g-W+1, b)
    for (const e of ds.train.endRows!) {
      for (const blk of bounds[0]!.valBlocks) {
        const lo = blk.start + g - W + 1;
        expect(e + h < lo || e - W + 1 >= blk.end).toBe(true);
        // and the labels of training end before the block starts, or the window starts after its gap
        expect(e + h < blk.start || e >= blk.end + g).toBe(true);
      }
    }
    // the training windows are the plain split's minus those near a block
    const near = (e: number) => bounds[0]!.valBlocks.some((blk) => e + h >= blk.start && e < blk.end + g);
    expect(Array.from(ds.train.endRows!)).toEqual(Array.from(plain.train.endRows!).filter((e) => !near(e)));
    // targets follow their windows
    const i = ds.val.endRows!.indexOf(v.find((e) => e < 200)!);
    expect(ds.val.targets[1]![i]).toBeCloseTo(Math.log(a.candles.close[v[i]! + h]! / a.candles.close[v[i]!]!) * 100, 4);
  });

  it('recencyHalfLifeDays: training windows weigh 0.5^(age / half-life) from the latest training end over every series; other splits carry no weights', () => {
    const W = 8;
    const series = [{ symbol: 'AAA', candles: a.candles }, { symbol: 'BBB', candles: b.candles }];
    const tasks = [fakeForwardReturnTask(2)];
    const plain = buildDataset(series, tasks, fakePipeline(), { windowLength: W });
    expect(plain.train.sampleWeights).toBeUndefined();
    const days = 3;
    const ds = buildDataset(series, tasks, fakePipeline(), { windowLength: W, recencyHalfLifeDays: days });
    const w = ds.train.sampleWeights!;
    expect(w.length).toBe(ds.train.n);
    expect(ds.val.sampleWeights).toBeUndefined();
    expect(ds.test.sampleWeights).toBeUndefined();
    // the windows themselves are those of the unweighted build
    expect(Array.from(ds.train.endRows!)).toEqual(Array.from(plain.train.endRows!));
    const ts = (r: number): number => series[ds.train.seriesIds![r]!]!.candles.tsMs[ds.train.endRows![r]!]!;
    let last = -Infinity;
    for (let r = 0; r < ds.train.n; r++) last = Math.max(last, ts(r));
    for (let r = 0; r < ds.train.n; r++) expect(w[r]).toBeCloseTo(Math.pow(0.5, (last - ts(r)) / (days * 86_400_000)), 12);
    // the newest window weighs 1, one half-life older 0.5 (hourly bars: 72 rows = 3 days)
    expect(Math.max(...w)).toBe(1);
    const newest = Array.from(w).indexOf(1);
    const older = Array.from(ds.train.endRows!).findIndex((e, r) => ds.train.seriesIds![r] === ds.train.seriesIds![newest] && e === ds.train.endRows![newest]! - 72);
    expect(older).toBeGreaterThanOrEqual(0);
    expect(w[older]).toBeCloseTo(0.5, 12);
    // the weights follow gatherSplit and pass checkSplit; bad weights are named
    expect(Array.from(gatherSplit(ds.train, [3, 0]).sampleWeights!)).toEqual([w[3], w[0]]);
    expect(() => checkSplit(ds.train, 'train split')).not.toThrow();
    expect(() => checkSplit({ ...ds.train, sampleWeights: w.slice(1) }, 'train split')).toThrow(`train split: ${w.length - 1} sample weights for ${w.length} windows`);
    expect(() => checkSplit({ ...ds.train, sampleWeights: Float64Array.from(w, (v, i) => (i === 4 ? Number.NaN : v)) }, 'train split')).toThrow('train split: sample weight 4 is NaN');
    expect(() => checkSplit({ ...ds.train, sampleWeights: new Float64Array(w.length) }, 'train split')).toThrow('every sample weight is 0');
    expect(() => buildDataset(series, tasks, fakePipeline(), { windowLength: W, recencyHalfLifeDays: -1 })).toThrow(/recencyHalfLifeDays/);
    expect(() => recencyWeights(series, ds.train, 0)).toThrow(/positive number of days/);
  });

  it('gatherSplit copies the listed windows with their targets, end rows and series ids', () => {
    const W = 8;
    const ds = buildDataset([{ symbol: 'AAA', candles: a.candles }, { symbol: 'BBB', candles: b.candles }], [fakeForwardReturnTask(2), fakeForwardReturnTask(5)], fakePipeline(), { windowLength: W });
    const idx = [ds.val.n - 1, 0, 3];
    const g = gatherSplit(ds.val, idx);
    expect(g.n).toBe(3);
    expect([g.windowLength, g.featureCount]).toEqual([W, ds.val.featureCount]);
    const per = W * ds.val.featureCount;
    idx.forEach((r, k) => {
      expect(Array.from(g.x.subarray(k * per, (k + 1) * per))).toEqual(Array.from(ds.val.x.subarray(r * per, (r + 1) * per)));
      expect([g.targets[0]![k], g.targets[1]![k]]).toEqual([ds.val.targets[0]![r], ds.val.targets[1]![r]]);
      expect([g.endRows![k], g.seriesIds![k]]).toEqual([ds.val.endRows![r], ds.val.seriesIds![r]]);
    });
    expect(g.seriesIds![0]).toBe(1);
    expect(gatherSplit(ds.val, []).n).toBe(0);
  });

  it('splitSegments: training less each block and the gap after it; validation from each gap on', () => {
    expect(splitSegments({ trainEnd: 400, valEnd: 500 }, 24)).toEqual({ train: [{ start: 0, end: 400 }], val: [{ start: 424, end: 500 }] });
    expect(splitSegments({ trainEnd: 400, valEnd: 500, valBlocks: [{ start: 100, end: 180 }, { start: 250, end: 320 }] }, 24)).toEqual({
      train: [{ start: 0, end: 100 }, { start: 204, end: 250 }, { start: 344, end: 400 }],
      val: [{ start: 124, end: 180 }, { start: 274, end: 320 }, { start: 424, end: 500 }],
    });
  });

  it('rejects validation blocks that overlap, are empty or leave the training range, naming the series', () => {
    const tasks = [fakeForwardReturnTask(4)];
    const build = (valBlocks: { start: number; end: number }[]) =>
      buildDataset([{ symbol: 'AAA', candles: a.candles }], tasks, fakePipeline(), { windowLength: 8 }, [{ trainEnd: 400, valEnd: 500, valBlocks }]);
    expect(() => build([{ start: 100, end: 200 }, { start: 150, end: 250 }])).toThrow(/^series AAA: validation block 1 \[150, 250\) must be non-empty, after block 0/);
    expect(() => build([{ start: 100, end: 100 }])).toThrow(/validation block 0 \[100, 100\)/);
    expect(() => build([{ start: 300, end: 450 }])).toThrow(/inside the training range \[0, 400\)/);
    expect(() => build([{ start: 100, end: 150 }, { start: 150, end: 200 }])).not.toThrow();
  });

  it('walk-forward folds expand the training range and keep the gap', () => {
    const f = walkForwardBoundaries(1000, { folds: 4, valBars: 100, minTrainBars: 400, purgeGap: 30 });
    expect(f).toEqual([
      { trainEnd: 400, valEnd: 530 },
      { trainEnd: 556, valEnd: 686 },
      { trainEnd: 712, valEnd: 842 },
      { trainEnd: 868, valEnd: 998 },
    ]);
    const tasks = [fakeForwardReturnTask(4)];
    const folds = walkForwardBoundaries(600, { folds: 2, valBars: 60, minTrainBars: 300, purgeGap: 20 });
    for (const fb of folds) {
      const ds = buildDataset([{ symbol: 'AAA', candles: a.candles }], tasks, fakePipeline(), { windowLength: 16, purgeGap: 20 }, [fb]);
      expect(Math.max(...ds.train.endRows!) + 4).toBeLessThan(fb.trainEnd);
      expect(Math.min(...ds.val.endRows!) - 15).toBeGreaterThanOrEqual(fb.trainEnd);
    }
    expect(() => walkForwardBoundaries(100, { folds: 2, valBars: 60, minTrainBars: 300, purgeGap: 20 })).toThrow(/cannot hold/);
  });

  it('fits tasks on every series\' training range chained without a seam jump (or on the first only)', () => {
    const seen: { n: number; end: number; closes: Float64Array; opens: Float64Array }[] = [];
    const t = { ...fakeForwardReturnTask(2), fit: (c: CandleColumns, end: number) => (seen.push({ n: c.length, end, closes: c.close.slice(), opens: c.open.slice() }), {}) };
    const aClose = a.candles.close.slice();
    const ds = buildDataset([{ symbol: 'AAA', candles: a.candles }, { symbol: 'BBB', candles: b.candles }], [t], fakePipeline(), { windowLength: 8 });
    const [ta, tb] = [ds.boundaries[0]!.trainEnd, ds.boundaries[1]!.trainEnd];
    expect(seen[0]!.n).toBe(ta + tb);
    expect(seen[0]!.end).toBe(ta + tb);
    // the second part starts at the first part's last close, and keeps its own bar returns
    expect(seen[0]!.opens[ta]).toBeCloseTo(seen[0]!.closes[ta - 1]!, 6);
    expect(seen[0]!.closes[ta + 5]! / seen[0]!.closes[ta + 4]!).toBeCloseTo(b.candles.close[5]! / b.candles.close[4]!, 10);
    // the caller's candles are untouched
    expect(Array.from(a.candles.close)).toEqual(Array.from(aClose));
    buildDataset([{ symbol: 'AAA', candles: a.candles }, { symbol: 'BBB', candles: b.candles }], [t], fakePipeline(), { windowLength: 8, taskFit: 'first' });
    expect(seen[1]!.n).toBe(600);
    expect(seen[1]!.end).toBe(ta);
  });

  it("per-symbol normalisation scales each series by its own training rows only (hand-computed z-scores)", () => {
    const W = 8;
    const tasks = [fakeForwardReturnTask(2)];
    // BBB: the same path as AAA's first 500 bars with every log return x5 (a much wilder symbol)
    const n = 500;
    const big: CandleColumns = { ...a.candles, length: n, tsMs: a.candles.tsMs.slice(0, n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: a.candles.volume.slice(0, n), turnover: a.candles.turnover.slice(0, n) };
    let px = 100;
    for (let t = 0; t < n; t++) {
      const r = t === 0 ? 0 : Math.log(a.candles.close[t]! / a.candles.close[t - 1]!) * 5;
      const prev = px;
      px = prev * Math.exp(r);
      big.open[t] = prev;
      big.close[t] = px;
      big.high[t] = Math.max(prev, px) * (a.candles.high[t]! / Math.max(a.candles.open[t]!, a.candles.close[t]!)) ** 5;
      big.low[t] = Math.min(prev, px) * (a.candles.low[t]! / Math.min(a.candles.open[t]!, a.candles.close[t]!)) ** 5;
    }
    const series = [{ symbol: 'AAA', candles: a.candles }, { symbol: 'BBB', candles: big }];
    const p = fakePipeline();
    const ds = buildDataset(series, tasks, p, { windowLength: W, normalisation: 'perSymbol' });
    expect(Object.keys(ds.symbolNormalizers)).toEqual(['AAA', 'BBB']);
    // independent z-scores: mean and population sd of the raw features over rows [0, trainEnd) of that series alone
    series.forEach((s, k) => {
      const raw = p.compute(s.candles);
      const te = ds.boundaries[k]!.trainEnd;
      for (let f = 0; f < 2; f++) {
        let mean = 0;
        for (let r = 0; r < te; r++) mean += raw.data[r * 2 + f]! / te;
        let v = 0;
        for (let r = 0; r < te; r++) v += (raw.data[r * 2 + f]! - mean) ** 2 / te;
        const sd = Math.sqrt(v);
        for (const r of [W, te - 1, s.candles.length - 1]) expect(ds.matrices[k]!.data[r * 2 + f]).toBeCloseTo((raw.data[r * 2 + f]! - mean) / sd, 4);
      }
    });
    // both symbols end up on the same scale, which one pooled normaliser does not achieve
    const sdOf = (m: Float32Array, te: number) => Math.sqrt(Array.from({ length: te - 1 }, (_, i) => m[(i + 1) * 2]! ** 2).reduce((x, y) => x + y, 0) / (te - 1));
    const per = [0, 1].map((k) => sdOf(ds.matrices[k]!.data, ds.boundaries[k]!.trainEnd));
    expect(per[1]! / per[0]!).toBeGreaterThan(0.8);
    expect(per[1]! / per[0]!).toBeLessThan(1.25);
    const pooled = buildDataset(series, tasks, fakePipeline(), { windowLength: W });
    expect(Object.keys(pooled.symbolNormalizers)).toEqual([]);
    const pl = [0, 1].map((k) => sdOf(pooled.matrices[k]!.data, pooled.boundaries[k]!.trainEnd));
    expect(pl[1]! / pl[0]!).toBeGreaterThan(3);
    // no look-ahead and no cross-talk: changing AAA entirely and BBB after its trainEnd leaves BBB's training windows as they were
    const te1 = ds.boundaries[1]!.trainEnd;
    const bigLater: CandleColumns = { ...big, close: big.close.slice(), high: big.high.slice() };
    for (let t = te1; t < n; t++) {
      bigLater.close[t] = bigLater.close[t]! * 2;
      bigLater.high[t] = bigLater.high[t]! * 3;
    }
    const ds2 = buildDataset([{ symbol: 'AAA', candles: b.candles }, { symbol: 'BBB', candles: bigLater }], tasks, fakePipeline(), { windowLength: W, normalisation: 'perSymbol' });
    const trainOf = (d: typeof ds, k: number) => Array.from({ length: d.train.n }, (_, i) => i).filter((i) => d.train.seriesIds![i] === k).map((i) => Array.from(d.train.x.subarray(i * W * 2, (i + 1) * W * 2)));
    expect(trainOf(ds2, 1)).toEqual(trainOf(ds, 1));
  });

  it('per-symbol normalisation rejects the same symbol twice', () => {
    const tasks = [fakeForwardReturnTask(2)];
    expect(() => buildDataset([{ symbol: 'AAA', candles: a.candles }, { symbol: 'AAA', candles: b.candles }], tasks, fakePipeline(), { windowLength: 8, normalisation: 'perSymbol' })).toThrow(/AAA appears twice/);
  });

  it('per-symbol task fits: each series labelled with states fitted on its own training range', () => {
    // a task whose label is the forward return minus the mean bar return of the fitted range (its "centre")
    const seen: { n: number; end: number; first: number }[] = [];
    const base = fakeForwardReturnTask(2);
    const t = {
      ...base,
      fit: (c: CandleColumns, end: number) => {
        seen.push({ n: c.length, end, first: c.close[0]! });
        let m = 0;
        for (let i = 1; i < end; i++) m += Math.log(c.close[i]! / c.close[i - 1]!) / (end - 1);
        return { centre: m };
      },
      labels: (c: CandleColumns, st: Readonly<Record<string, unknown>>) => {
        const l = base.labels(c, st);
        const centre = (st as { centre: number }).centre * 100 * 2;
        return { ...l, targets: l.targets.map((v) => v - centre) };
      },
    };
    const series = [{ symbol: 'AAA', candles: a.candles }, { symbol: 'BBB', candles: b.candles }];
    const ds = buildDataset(series, [t], fakePipeline(), { windowLength: 8, taskFit: 'perSymbol' });
    const [ta, tb] = [ds.boundaries[0]!.trainEnd, ds.boundaries[1]!.trainEnd];
    // the pooled fit (chained) first, then one per series on its own candles up to its own trainEnd
    expect(seen.slice(1).map((x) => [x.n, x.end, x.first])).toEqual([[600, ta, a.candles.close[0]], [500, tb, b.candles.close[0]]]);
    const own = Object.fromEntries(Object.entries(ds.symbolTaskStates).map(([k, v]) => [k, (v[0] as { centre: number }).centre]));
    const meanRet = (c: CandleColumns, end: number) => {
      let m = 0;
      for (let i = 1; i < end; i++) m += Math.log(c.close[i]! / c.close[i - 1]!) / (end - 1);
      return m;
    };
    expect(own.AAA).toBeCloseTo(meanRet(a.candles, ta), 12);
    expect(own.BBB).toBeCloseTo(meanRet(b.candles, tb), 12);
    // a BBB training target is its forward return minus BBB's own centre
    const i = Array.from({ length: ds.train.n }, (_, k) => k).find((k) => ds.train.seriesIds![k] === 1)!;
    const e = ds.train.endRows![i]!;
    const fwd = Math.log(b.candles.close[e + 2]! / b.candles.close[e]!) * 100;
    expect(ds.train.targets[0]![i]).toBeCloseTo(fwd - own.BBB! * 200, 4);
    // pooled: no per-symbol states
    expect(buildDataset(series, [t], fakePipeline(), { windowLength: 8 }).symbolTaskStates).toEqual({});
  });

  it('fitEnd: the normalisers and task states are fitted on [0, fitEnd) whatever the training range; validation is the later range', () => {
    const series = [{ symbol: 'AAA', candles: a.candles }, { symbol: 'BBB', candles: b.candles }];
    const opts = { windowLength: 8, normalisation: 'perSymbol', taskFit: 'perSymbol' } as const;
    const t = fakeForwardReturnTask(4);
    const trained = buildDataset(series, [t], fakePipeline(), opts, [{ trainEnd: 300, valEnd: 400 }, { trainEnd: 250, valEnd: 350 }]);
    const later = [{ trainEnd: 480, valEnd: 560, fitEnd: 300 }, { trainEnd: 420, valEnd: 470, fitEnd: 250 }];
    const refit = buildDataset(series, [t], fakePipeline(), opts, later);
    // the fits are those of the dataset trained to 300 / 250 (the fake task's state records its fit range)
    expect(refit.symbolTaskStates).toEqual(trained.symbolTaskStates);
    expect(refit.symbolTaskStates.AAA).toEqual([{ trainEnd: 300, n: 600 }]);
    expect(refit.taskStates).toEqual(trained.taskStates);
    expect(refit.normalizer).toEqual(trained.normalizer);
    for (const sym of ['AAA', 'BBB']) expect(refit.symbolNormalizers[sym]!.toJSON()).toEqual(trained.symbolNormalizers[sym]!.toJSON());
    // so a validation window holds the same numbers as under the trained dataset's fits
    const i = Array.from(trained.val.endRows!).findIndex((e, k) => trained.val.seriesIds![k] === 0 && e === 390);
    const j = Array.from(refit.val.endRows!).findIndex((e, k) => refit.val.seriesIds![k] === 0 && e === 390);
    expect(i).toBeGreaterThanOrEqual(0);
    expect(j).toBe(-1); // 390 is a training row of the later split
    const k = Array.from(refit.val.endRows!).findIndex((e, q) => refit.val.seriesIds![q] === 0 && e === 520);
    const again = buildDataset(series, [t], fakePipeline(), opts, [{ trainEnd: 300, valEnd: 560 }, { trainEnd: 250, valEnd: 470 }]);
    const m = Array.from(again.val.endRows!).findIndex((e, q) => again.val.seriesIds![q] === 0 && e === 520);
    expect(Array.from(refit.val.x.subarray(k * 16, (k + 1) * 16))).toEqual(Array.from(again.val.x.subarray(m * 16, (m + 1) * 16)));
    // validation is the later range only
    for (let r = 0; r < refit.val.n; r++) expect(refit.val.endRows![r]!).toBeGreaterThanOrEqual(later[refit.val.seriesIds![r]!]!.trainEnd);
    // without fitEnd the fits follow trainEnd (the check above can fail)
    const plain = buildDataset(series, [t], fakePipeline(), opts, later.map(({ trainEnd, valEnd }) => ({ trainEnd, valEnd })));
    expect(plain.symbolTaskStates.AAA).toEqual([{ trainEnd: 480, n: 600 }]);
    expect(plain.symbolNormalizers.AAA!.toJSON()).not.toEqual(trained.symbolNormalizers.AAA!.toJSON());
  });

  it('rejects a fitEnd after trainEnd, at 0 or not an integer, naming the series', () => {
    const series = [{ symbol: 'AAA', candles: a.candles }];
    for (const fitEnd of [401, 0, 100.5]) {
      expect(() => buildDataset(series, [fakeForwardReturnTask(4)], fakePipeline(), { windowLength: 8 }, [{ trainEnd: 400, valEnd: 500, fitEnd }])).toThrow(
        new RegExp(`series AAA: split boundary fitEnd=${fitEnd} must be an integer in \\(0, trainEnd=400\\]`),
      );
    }
  });
});
