// Batch output shape, warm-up, finiteness on real data with zero-volume and flat candles, and
// the typed errors for bad input and bad config.
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, readCandlesCsvSync, toColumns, generateSyntheticMarket, type Candle } from '@task-agnostic/core';
import { candleFile } from '@task-agnostic/test-utils';
import { computeFeatures, computeFeaturesF64 } from './batch.js';
import { DEFAULT_FEATURE_SET, OPTIONAL_GROUPS, parseFeatureSetConfig, withOptionalGroups } from './config.js';
import { featureSetHash } from './fingerprint.js';

const bnb1m = candleFile('bybit_BNBUSDT_1m.csv');
const H = 3_600_000;

describe('default feature set', () => {
  it('holds the 19 source-design features first, then the extended list, in a stable order', () => {
    const m = computeFeatures(generateSyntheticMarket({ bars: 300, seed: 1 }).candles);
    expect(m.names.slice(0, 19)).toEqual([
      'return_1', 'return_5', 'rsi_14', 'macd_hist_12_26_9', 'ma_cross_10_30', 'realized_vol_20', 'bb_position_20',
      'atr_ratio_14', 'volume_ratio_20', 'volume_trend_5_20', 'body_ratio', 'upper_shadow', 'lower_shadow', 'range_pct',
      'close_position', 'trend_strength_20', 'trend_consistency_20', 'return_skewness_20', 'return_kurtosis_20',
    ]);
    expect(m.cols).toBe(44);
    expect(m.names.length).toBe(m.cols);
    expect(new Set(m.names).size).toBe(m.cols);
    // dist_sma_100 needs 100 closes: rows 0..98 are warm-up.
    expect(m.warmup).toBe(99);
    expect(m.data.length).toBe(300 * 44);
    expect(Array.from(m.data.subarray(0, 99 * 44)).every((x) => x === 0)).toBe(true);
    expect(Array.from(m.data.subarray(99 * 44, 100 * 44)).some((x) => x !== 0)).toBe(true);
  });
  it('float32 output is the float64 output cast', () => {
    const c = generateSyntheticMarket({ bars: 400, seed: 4 }).candles;
    const a = computeFeatures(c);
    const b = computeFeaturesF64(c);
    expect(Array.from(a.data)).toEqual(Array.from(Float32Array.from(b.data)));
  });
});

describe.skipIf(!bnb1m)('no NaN or Infinity on real data with zero-volume and flat candles', () => {
  it('bybit_BNBUSDT_1m.csv (599 zero-volume rows), every default + optional-free feature', () => {
    const c = readCandlesCsvSync(bnb1m!, { interval: '1m' }).candles;
    let zeroVol = 0;
    let flat = 0;
    for (let i = 0; i < c.length; i++) {
      if (c.volume[i] === 0) zeroVol++;
      if (c.high[i] === c.low[i]) flat++;
    }
    expect(zeroVol).toBeGreaterThan(500);
    expect(flat).toBeGreaterThan(100);
    const m = computeFeatures(c);
    let bad = 0;
    for (let i = 0; i < m.data.length; i++) if (!Number.isFinite(m.data[i]!)) bad++;
    expect(bad).toBe(0);
  });
});

describe('bad input gets a DataError naming the row and field', () => {
  const good = (n: number): Candle[] => Array.from({ length: n }, (_, i) => ({ tsMs: i * H, open: 10, high: 11, low: 9, close: 10 + (i % 3), volume: 5 }));
  it('NaN', () => {
    const c = good(30);
    c[17] = { ...c[17]!, close: NaN };
    expect(() => computeFeatures(toColumns(c))).toThrow(DataError);
    expect(() => computeFeatures(toColumns(c))).toThrow(/row 17: close is NaN/);
  });
  it('non-positive price, negative volume, high below low', () => {
    const c = good(30);
    c[3] = { ...c[3]!, low: 0 };
    expect(() => computeFeatures(toColumns(c))).toThrow(/row 3: low is 0/);
    const d = good(30);
    d[4] = { ...d[4]!, volume: -1 };
    expect(() => computeFeatures(toColumns(d))).toThrow(/row 4: volume is -1/);
    const e = good(30);
    e[5] = { ...e[5]!, high: 8 };
    expect(() => computeFeatures(toColumns(e))).toThrow(/row 5: high 8 is below low 9/);
  });
  it('unsorted or duplicate timestamps', () => {
    const c = good(30);
    c[10] = { ...c[10]!, tsMs: c[9]!.tsMs };
    expect(() => computeFeatures(toColumns(c))).toThrow(/row 10: .*not after/);
  });
  it('gaps beyond maxGapBars', () => {
    const c = good(30).map((k, i) => (i >= 20 ? { ...k, tsMs: k.tsMs + 5 * H } : k));
    const cfg = parseFeatureSetConfig({ ...DEFAULT_FEATURE_SET, maxGapBars: 3 });
    expect(() => computeFeatures(toColumns(c), cfg)).toThrow(/row 20: gap of 6 intervals/);
    expect(() => computeFeatures(toColumns(c), parseFeatureSetConfig({ ...DEFAULT_FEATURE_SET, maxGapBars: 6 }))).not.toThrow();
  });
  it('missing extras for an enabled optional group', () => {
    const cfg = withOptionalGroups(['trades']);
    expect(() => computeFeatures(toColumns(good(30)), cfg)).toThrow(/'trades' group but extras.trades was not given/);
    expect(() => computeFeatures(toColumns(good(30)), cfg, { trades: [{ tsMs: 5, qty: 1, side: 'buy' }, { tsMs: 4, qty: 1, side: 'sell' }] })).toThrow(
      /extras.trades\[1\]: tsMs 4 is before/,
    );
  });
  it('wrong column types', () => {
    expect(() => computeFeatures({ ...toColumns(good(3)), close: [1, 2, 3] as unknown as Float64Array })).toThrow(/candles.close must be a Float64Array/);
  });
});

describe('config', () => {
  it('errors name the field', () => {
    const err = (json: unknown) => {
      try {
        parseFeatureSetConfig(json);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).field;
      }
      throw new Error('no error');
    };
    expect(err({ features: [{ kind: 'rsi', period: 0 }] })).toBe('features.0.period');
    expect(err({ features: [{ kind: 'nope' }] })).toBe('features.0.kind');
    expect(err({ features: [{ kind: 'rsi', perod: 3 }] })).toBe('features.0');
    expect(err({ features: [] })).toBe('features');
    expect(err(null)).toBe('featureSet');
  });
  it('duplicate names are rejected', () => {
    const cfg = parseFeatureSetConfig({ features: [{ kind: 'rsi' }, { kind: 'rsi' }] });
    expect(() => computeFeatures(toColumns([{ tsMs: 0, open: 1, high: 1, low: 1, close: 1, volume: 1 }]), cfg)).toThrow(/duplicate feature name 'rsi_14'/);
  });
  it('JSON round trip of the default set; names can be overridden', () => {
    expect(parseFeatureSetConfig(JSON.parse(JSON.stringify(DEFAULT_FEATURE_SET)))).toEqual(DEFAULT_FEATURE_SET);
    const m = computeFeatures(toColumns([{ tsMs: 0, open: 1, high: 2, low: 1, close: 2, volume: 1 }]), parseFeatureSetConfig({ features: [{ kind: 'range_pct', name: 'hl_range' }] }));
    expect(m.names).toEqual(['hl_range']);
  });
  it('withOptionalGroups appends the group features', () => {
    const cfg = withOptionalGroups(['orderbook', 'funding']);
    expect(cfg.features.length).toBe(DEFAULT_FEATURE_SET.features.length + OPTIONAL_GROUPS.orderbook.length + OPTIONAL_GROUPS.funding.length);
  });
});

describe('featureSetHash', () => {
  it('is stable, and changes with any parameter or order', () => {
    const h = featureSetHash(DEFAULT_FEATURE_SET);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(featureSetHash(parseFeatureSetConfig(JSON.parse(JSON.stringify(DEFAULT_FEATURE_SET))))).toBe(h);
    const changed = parseFeatureSetConfig({ ...DEFAULT_FEATURE_SET, features: DEFAULT_FEATURE_SET.features.map((f) => (f.kind === 'rsi' ? { ...f, period: 15 } : f)) });
    expect(featureSetHash(changed)).not.toBe(h);
    const reordered = parseFeatureSetConfig({ ...DEFAULT_FEATURE_SET, features: [...DEFAULT_FEATURE_SET.features].reverse() });
    expect(featureSetHash(reordered)).not.toBe(h);
  });
});
