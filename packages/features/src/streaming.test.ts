// Streaming == batch (float64, before the cast) on a 10,000-candle real series, for every
// feature including the optional groups; and the no-look-ahead property over random t.
import { describe, expect, it } from 'vitest';
import { candleAt, createRng, generateSyntheticMarket, readCandlesCsvSync, sliceColumns, allocColumns, type CandleColumns } from '@task-agnostic/core';
import { candleFile } from '@task-agnostic/test-utils';
import { computeFeaturesF64 } from './batch.js';
import { DEFAULT_FEATURE_SET, withOptionalGroups } from './config.js';
import type { FeatureExtras, StreamingExtras } from './extras.js';
import { StreamingFeatures } from './streaming.js';

const file = candleFile('bybit_BTCUSDT_1h.csv');
const H = 3_600_000;

/** Synthetic extras at irregular times around the candles (some exactly at a close). */
function makeExtras(c: CandleColumns, seed: number): FeatureExtras {
  const rng = createRng(seed);
  const t0 = c.tsMs[0]! - 2 * H;
  const t1 = c.tsMs[c.length - 1]! + 2 * H;
  const times = (every: number) => {
    const out: number[] = [];
    for (let t = t0; t < t1; t += Math.max(1, Math.round(every * (0.2 + 1.6 * rng.next())))) out.push(t);
    return out;
  };
  const mid = (t: number) => c.close[Math.max(0, Math.min(c.length - 1, Math.floor((t - c.tsMs[0]!) / H)))]!;
  return {
    orderbook: times(H / 3).map((t) => {
      const p = mid(t);
      const lv = (sgn: number) => Array.from({ length: 25 }, (_, k) => [p * (1 + sgn * (k + 1) * 1e-4), 0.1 + 5 * rng.next()] as [number, number]);
      return { tsMs: t, bids: lv(-1), asks: lv(1) };
    }),
    trades: times(H / 20).map((t) => ({ tsMs: t, qty: rng.next() * 3, side: rng.next() < 0.5 ? ('buy' as const) : ('sell' as const) })),
    funding: times(8 * H).map((t) => ({ tsMs: t, value: (rng.next() - 0.4) * 1e-3 })),
    openInterest: times(H / 2).map((t) => ({ tsMs: t, value: 1e5 * (1 + rng.next()) })),
  };
}

/** Per candle i, the streaming extras: everything stamped in (close[i-1], close[i]] (one pass). */
function bucketExtras(e: FeatureExtras, c: CandleColumns, iv: number): StreamingExtras[] {
  const out: { -readonly [K in keyof StreamingExtras]: StreamingExtras[K] }[] = Array.from({ length: c.length }, () => ({}));
  const bucket = <T extends { tsMs: number }>(xs: readonly T[] | undefined, put: (o: (typeof out)[number], x: T) => void) => {
    let i = 0;
    for (const x of xs ?? []) {
      while (i < c.length && c.tsMs[i]! + iv < x.tsMs) i++;
      if (i === c.length) break;
      put(out[i]!, x);
    }
  };
  bucket(e.orderbook, (o, x) => (o.orderbook = x));
  bucket(e.trades, (o, x) => (o.trades = [...(o.trades ?? []), x]));
  bucket(e.funding, (o, x) => (o.funding = x));
  bucket(e.openInterest, (o, x) => (o.openInterest = x));
  return out;
}

describe.skipIf(!file)('streaming equals batch on 10,000 real candles', () => {
  const all = file ? readCandlesCsvSync(file, { interval: '1h' }).candles : allocColumns(0);
  const c = sliceColumns(all, 30_000, 40_000);
  const config = withOptionalGroups(['orderbook', 'trades', 'funding', 'openInterest']);
  const extras = makeExtras(c, 3);

  it('every feature, max abs difference < 1e-9 (float64)', () => {
    expect(c.length).toBe(10_000);
    const batch = computeFeaturesF64(c, config, extras);
    const s = new StreamingFeatures(config, { intervalMs: H });
    expect(s.names).toEqual(batch.names);
    expect(s.warmup).toBe(batch.warmup);
    const perCandle = bucketExtras(extras, c, H);
    const worst = new Float64Array(batch.cols);
    let rows = 0;
    for (let i = 0; i < c.length; i++) {
      const row = s.update(candleAt(c, i), perCandle[i]);
      if (i < batch.warmup) {
        expect(row).toBeNull();
        continue;
      }
      rows++;
      for (let j = 0; j < batch.cols; j++) worst[j] = Math.max(worst[j]!, Math.abs(row![j]! - batch.data[i * batch.cols + j]!));
    }
    expect(rows).toBe(c.length - batch.warmup);
    const bad = batch.names.filter((_, j) => !(worst[j]! < 1e-9));
    expect(bad).toEqual([]);
    // The optional columns are live (not constant zeros), so the comparison means something.
    for (const name of ['ob_spread_bps', 'ob_imbalance_20', 'trade_flow_12', 'funding_rate', 'funding_change_8', 'oi_change_24']) {
      const j = batch.names.indexOf(name);
      let nonZero = 0;
      for (let i = batch.warmup; i < batch.rows; i++) if (batch.data[i * batch.cols + j] !== 0) nonZero++;
      expect(nonZero, name).toBeGreaterThan(1000);
    }
  });
});

describe('no look-ahead: changing candles (and extras) after t leaves rows <= t unchanged', () => {
  const base = generateSyntheticMarket({ bars: 700, seed: 11 }).candles;
  const config = withOptionalGroups(['orderbook', 'trades', 'funding', 'openInterest']);
  const extras = makeExtras(base, 5);
  const ref = computeFeaturesF64(base, config, extras);
  const rng = createRng(99);
  for (let trial = 0; trial < 12; trial++) {
    const t = ref.warmup + Math.floor(rng.next() * (base.length - ref.warmup - 3));
    it(`t = ${t}`, () => {
      const c = allocColumns(base.length);
      for (const f of ['tsMs', 'open', 'high', 'low', 'close', 'volume', 'turnover'] as const) c[f].set(base[f]);
      for (let i = t + 1; i < c.length; i++) {
        const k = 0.5 + rng.next();
        c.open[i]! *= k;
        c.close[i]! *= 0.5 + rng.next();
        c.high[i] = Math.max(c.open[i]!, c.close[i]!) * (1 + rng.next() * 0.01);
        c.low[i] = Math.min(c.open[i]!, c.close[i]!) * (1 - rng.next() * 0.01);
        c.volume[i] = rng.next() * 1000;
      }
      const closeT = c.tsMs[t]! + H;
      const shuffle = <T extends { tsMs: number }>(xs: readonly T[] | undefined, f: (x: T) => T) => (xs ?? []).map((x) => (x.tsMs > closeT ? f(x) : x));
      const e2: FeatureExtras = {
        orderbook: shuffle(extras.orderbook, (b) => ({ ...b, bids: b.asks.map(([p, q]) => [p * 0.9, q * 3] as [number, number]) })),
        trades: shuffle(extras.trades, (x) => ({ ...x, qty: x.qty * 7, side: 'buy' })),
        funding: shuffle(extras.funding, (x) => ({ ...x, value: 0.05 })),
        openInterest: shuffle(extras.openInterest, (x) => ({ ...x, value: x.value * 3 })),
      };
      const m = computeFeaturesF64(c, config, e2);
      const n = (t + 1) * m.cols;
      expect(Array.from(m.data.subarray(0, n))).toEqual(Array.from(ref.data.subarray(0, n)));
      // ... and the change is visible right after t (the test can fail).
      expect(Array.from(m.data.subarray(n, n + 2 * m.cols))).not.toEqual(Array.from(ref.data.subarray(n, n + 2 * m.cols)));
    });
  }
});

describe('StreamingFeatures API', () => {
  it('null during warm-up, then rows; updateInto writes without allocating', () => {
    const c = generateSyntheticMarket({ bars: DEFAULT_FEATURE_SET.features.length + 150, seed: 2 }).candles;
    const s = new StreamingFeatures();
    const out = new Float64Array(s.cols);
    let first = -1;
    for (let i = 0; i < c.length; i++) {
      const ok = s.updateInto(candleAt(c, i), out);
      if (ok && first < 0) first = i;
    }
    expect(first).toBe(s.warmup);
    expect(s.ready).toBe(true);
    expect(s.count).toBe(c.length);
  });
  it('rejects extras stamped after the candle close (look-ahead) and out-of-order candles', () => {
    const s = new StreamingFeatures(withOptionalGroups(['funding']), { intervalMs: H });
    s.update({ tsMs: 0, open: 1, high: 1, low: 1, close: 1, volume: 1 }, { funding: { tsMs: H, value: 0.001 } });
    expect(() => s.update({ tsMs: H, open: 1, high: 1, low: 1, close: 1, volume: 1 }, { funding: { tsMs: 2 * H + 1, value: 0.001 } })).toThrow(/look-ahead/);
    expect(() => s.update({ tsMs: 0, open: 1, high: 1, low: 1, close: 1, volume: 1 })).toThrow(/row 1.*not after/);
    expect(() => s.update({ tsMs: H, open: 1, high: NaN, low: 1, close: 1, volume: 1 })).toThrow(/row 1: high is NaN/);
    expect(() => new StreamingFeatures(withOptionalGroups(['funding']))).toThrow(/intervalMs/);
  });
});
