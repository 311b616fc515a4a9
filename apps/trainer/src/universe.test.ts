import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatCandlesCsv, generateSyntheticMarket, sliceColumns, type CandleColumns } from '@task-agnostic/core';
import { buildDataset, featurePipeline } from '@task-agnostic/training';
import { DEFAULT_FEATURE_SET, computeFeatures } from '@task-agnostic/features';
import { getTask } from '@task-agnostic/heads';
import { parseTrainerConfig, resolveConfig, UNIVERSAL_HOLDOUT } from './config.js';
import { loadData } from './data-source.js';
import { describeRepairs, minBarsForFractions, screenSeries, seriesNeeds, splitCapacity } from './universe.js';

function folder(): string {
  return mkdtempSync(path.join(tmpdir(), 'tat-universe-'));
}

const m1 = generateSyntheticMarket({ bars: 900, seed: 1 }).candles;
const m2 = generateSyntheticMarket({ bars: 700, seed: 2 }).candles;

/** The same candles, with rows [from, to) removed (a gap of to - from bars). */
function withGap(c: CandleColumns, from: number, to: number): CandleColumns {
  const a = sliceColumns(c, 0, from);
  const b = sliceColumns(c, to, c.length);
  const cat = (x: Float64Array, y: Float64Array) => Float64Array.from([...x, ...y]);
  return { length: a.length + b.length, tsMs: cat(a.tsMs, b.tsMs), open: cat(a.open, b.open), high: cat(a.high, b.high), low: cat(a.low, b.low), close: cat(a.close, b.close), volume: cat(a.volume, b.volume), turnover: cat(a.turnover, b.turnover) };
}

describe("symbols 'all': every symbol of a folder", () => {
  it('loads every file of the interval (a second exchange of a symbol as exchange:SYMBOL), without the excluded ones', async () => {
    const dir = folder();
    writeFileSync(path.join(dir, 'x_AAAUSDT_1h.csv'), formatCandlesCsv(sliceColumns(m1, 0, 600)));
    writeFileSync(path.join(dir, 'y_AAAUSDT_1h.csv'), formatCandlesCsv(m1));
    writeFileSync(path.join(dir, 'x_BBBUSDT_1h.csv'), formatCandlesCsv(m2));
    writeFileSync(path.join(dir, 'x_CCCUSDT_1h.csv'), formatCandlesCsv(m2));
    writeFileSync(path.join(dir, 'x_DDDUSDT_5m.csv'), formatCandlesCsv(m2));
    const lines: string[] = [];
    const got = await loadData({ path: dir, symbols: 'all', interval: '1h', exclude: ['CCCUSDT'], log: (l) => lines.push(l) });
    expect(got.map((d) => d.symbol)).toEqual(['AAAUSDT', 'x:AAAUSDT', 'BBBUSDT']);
    expect(got[0]!.candles.length).toBe(900);
    expect(got[0]!.source).toContain('y_AAAUSDT_1h.csv');
    expect(got[1]!.candles.length).toBe(600);
    expect(lines).toEqual(['AAAUSDT: y_AAAUSDT_1h.csv as AAAUSDT (900 candles), x_AAAUSDT_1h.csv as x:AAAUSDT (600 candles); one exchange only with --exchange']);
    expect((await loadData({ path: dir, symbols: 'all', exchange: 'x', exclude: ['CCCUSDT'] })).map((d) => d.symbol)).toEqual(['AAAUSDT', 'BBBUSDT']);
    await expect(loadData({ synthetic: true, symbols: 'all' })).rejects.toThrow(/'all' means every symbol in a data folder/);
  });

  it('the config accepts all, held-out symbols and per-symbol normalisation, and rejects contradictions', () => {
    const c = parseTrainerConfig({ data: { source: 'csv', path: '/x', symbols: 'all', holdout: ['LTCUSDT'], normalisation: 'perSymbol' } });
    expect(c.data.symbols).toBe('all');
    expect(c.data.holdout).toEqual(['LTCUSDT']);
    expect(() => parseTrainerConfig({ data: { symbols: 'all' } })).toThrow(/data\.symbols: 'all' needs a data folder/);
    expect(() => parseTrainerConfig({ data: { symbols: ['AAA', 'BBB'], holdout: ['BBB'] } })).toThrow(/data\.holdout: BBB cannot be both trained on and held out/);
    const u = resolveConfig('universal');
    expect(u.data.symbols).toBe('all');
    expect(u.data.normalisation).toBe('perSymbol');
    expect(u.data.holdout).toEqual(UNIVERSAL_HOLDOUT);
    expect(u.pretrain).not.toBeNull();
    // the validation-chosen settings (packages/training/README.md, block U)
    expect(u.training.learningRate).toBe(3e-4);
    expect(u.model.tasks).toEqual([
      { id: 'direction', config: { classWeighting: 'balanced' } },
      'volatility',
      { id: 'regime', config: { classWeighting: 'balanced' } },
      'return',
      'risk',
    ]);
    // the default feature set (session 10's baselineInputFeatures() was reverted: trainer README)
    expect(u.model.features).toBeUndefined();
  });
});

describe('bad input across many symbols', () => {
  it('mixed intervals in one run are a clear error', async () => {
    const dir = folder();
    const a = path.join(dir, 'x_AAAUSDT_1h.csv');
    const b = path.join(dir, 'x_BBBUSDT_5m.csv');
    writeFileSync(a, formatCandlesCsv(m1));
    writeFileSync(b, formatCandlesCsv(generateSyntheticMarket({ bars: 300, seed: 3, interval: '5m' }).candles));
    await expect(loadData({ path: `${a},${b}` })).rejects.toThrow(/mixed intervals in one run: AAAUSDT is 1h .* but BBBUSDT is 5m/);
    // a 5m series in a file read as 1h
    const c = path.join(dir, 'x_CCCUSDT_1h.csv');
    writeFileSync(c, formatCandlesCsv(generateSyntheticMarket({ bars: 300, seed: 3, interval: '5m' }).candles));
    await expect(loadData({ path: dir, symbols: 'all', interval: '1h' })).rejects.toThrow(/x_CCCUSDT_1h\.csv is read as 1h but its candles are 5m apart/);
  });

  it('a symbol with gaps follows the data policy and says how many bars it filled or left', async () => {
    const dir = folder();
    writeFileSync(path.join(dir, 'x_GAPUSDT_1h.csv'), formatCandlesCsv(withGap(m1, 100, 103)));
    const filled = (await loadData({ path: dir, symbols: ['GAPUSDT'], policy: 'ffill' }))[0]!;
    expect(filled.filled).toBe(3);
    expect(filled.candles.length).toBe(900);
    expect(describeRepairs(filled, 'ffill')).toBe(' (policy ffill: 3 bars filled)');
    const dropped = (await loadData({ path: dir, symbols: ['GAPUSDT'], policy: 'drop' }))[0]!;
    expect(dropped.candles.length).toBe(897);
    expect(describeRepairs(dropped, 'drop')).toBe(' (policy drop: 3 missing bars left as gaps)');
    await expect(loadData({ path: dir, symbols: ['GAPUSDT'], policy: 'reject' })).rejects.toThrow(/gap/);
    expect(describeRepairs({ dropped: 0, filled: 0, missing: 0 }, 'reject')).toBe('');
  });

  it('a symbol with too little history is skipped with its name and bar count; the bound is exact', () => {
    const cfg = parseTrainerConfig({ model: { windowLength: 16, tasks: ['direction'] } });
    const needs = seriesNeeds(cfg);
    expect(needs.horizon).toBe(getTask('direction').horizon);
    expect(needs.purgeGap).toBe(needs.horizon + 16);
    const need = minBarsForFractions(needs, 0.15, 0.15);
    const long = generateSyntheticMarket({ bars: need + 50, seed: 4 }).candles;
    const data = [
      { symbol: 'OKUSDT', interval: '1h' as const, candles: sliceColumns(long, 0, need), source: 'a', dropped: 0, filled: 0 },
      { symbol: 'SHORTUSDT', interval: '1h' as const, candles: sliceColumns(long, 0, need - 1), source: 'b', dropped: 0, filled: 0 },
    ];
    const lines: string[] = [];
    const kept = screenSeries(cfg, data, (l) => lines.push(l));
    expect(kept.map((d) => d.symbol)).toEqual(['OKUSDT']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`skipping SHORTUSDT: ${need - 1} bars, needs at least ${need} for window 16`);
    // the real dataset agrees: with `need` bars every split holds a window
    const task = getTask('direction');
    const ds = buildDataset([{ symbol: 'OKUSDT', candles: data[0]!.candles }], [task as never], featurePipeline(DEFAULT_FEATURE_SET), { windowLength: 16 });
    expect(ds.train.n).toBeGreaterThan(0);
    expect(ds.val.n).toBeGreaterThan(0);
    expect(ds.test.n).toBeGreaterThan(0);
    const cap = splitCapacity(need, ds.boundaries[0]!, needs);
    expect(ds.val.n).toBeLessThanOrEqual(cap.val);
    expect(() => screenSeries(cfg, [data[1]!], () => {})).toThrow(/no symbol has enough history .*SHORTUSDT/);
  });

  it('a refitted copy (data.split.fitBefore) keeps the series its run kept: the history that counts is before the fit date', () => {
    const c = generateSyntheticMarket({ bars: 2000, seed: 5 }).candles; // hourly from 2022-01-01
    const day = (d: number) => new Date(Date.UTC(2022, 0, 1 + d)).toISOString();
    const late = { symbol: 'LATEUSDT', interval: '1h' as const, candles: sliceColumns(c, 24 * 20, 2000), source: 'b', dropped: 0, filled: 0 };
    const model = { windowLength: 16, tasks: ['direction'] };
    const run = parseTrainerConfig({ model, data: { split: { valStart: day(21), testStart: day(40) } } });
    const copy = parseTrainerConfig({ model, data: { split: { valStart: day(60), testStart: day(70), fitBefore: day(21) } } });
    const lines: string[] = [];
    expect(screenSeries(run, [late], () => {}, { throwWhenEmpty: false })).toEqual([]);
    expect(screenSeries(copy, [late], (l) => lines.push(l), { throwWhenEmpty: false })).toEqual([]);
    expect(lines[0]).toMatch(/^skipping LATEUSDT: 1520 bars \(24 before the fit date \(data\.split\.fitBefore\)\), needs at least/);
    // without fitBefore the same split would keep it (40 days of history before its validation start)
    expect(screenSeries({ ...copy, data: { ...copy.data, split: { valStart: Date.parse(day(60)), testStart: Date.parse(day(70)) } } }, [late], () => {}).map((d) => d.symbol)).toEqual(['LATEUSDT']);
  });
});

describe('one model over many symbols', () => {
  it('the default features are scale-free: a symbol priced 3000x lower with 250x the volume gives the same features', () => {
    const c = generateSyntheticMarket({ bars: 800, seed: 3 }).candles;
    const k = 1 / 3000;
    const v = 250;
    const s: CandleColumns = { ...c, open: c.open.map((x) => x * k), high: c.high.map((x) => x * k), low: c.low.map((x) => x * k), close: c.close.map((x) => x * k), volume: c.volume.map((x) => x * v), turnover: c.turnover.map((x) => x * k * v) };
    const a = computeFeatures(c, DEFAULT_FEATURE_SET);
    const b = computeFeatures(s, DEFAULT_FEATURE_SET);
    expect(b.names).toEqual(a.names);
    for (let j = 0; j < a.cols; j++) {
      for (let i = a.warmup; i < a.rows; i += 7) {
        const x = a.data[i * a.cols + j]!;
        expect(Math.abs(b.data[i * a.cols + j]! - x)).toBeLessThanOrEqual(1e-3 * Math.max(1e-3, Math.abs(x)));
      }
    }
  });
});
