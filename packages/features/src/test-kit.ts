/**
 * Shared pieces of this package's tests (not part of the package's API: index.ts does not export it).
 */
import { expect } from 'vitest';
import { allocColumns, candleAt, sliceColumns, type CandleColumns } from '@task-agnostic/core';
import { computeFeaturesF64, type FeatureMatrix64 } from './batch.js';
import type { FeatureSetConfig } from './config.js';
import { StreamingFeatures } from './streaming.js';

const HOUR_MS = 3_600_000;

/**
 * Hourly candles from closes for hand-computed cases: each bar opens at the previous close (the
 * first at its own), high = highFactor x max(open, close), low = min(open, close), volume 1,
 * turnover the close.
 */
export function candlesFromCloses(closes: readonly number[], highFactor = 1): CandleColumns {
  const k = allocColumns(closes.length);
  closes.forEach((x, i) => {
    k.tsMs[i] = i * HOUR_MS;
    k.open[i] = i ? closes[i - 1]! : x;
    k.high[i] = Math.max(x, k.open[i]!) * highFactor;
    k.low[i] = Math.min(x, k.open[i]!);
    k.close[i] = x;
    k.volume[i] = 1;
    k.turnover[i] = x;
  });
  return k;
}

/**
 * Causality and streaming for hourly candles `c` whose batch features under `config` are `m`: the
 * rows at each of `cutAt` are the same computed from the candles up to that bar only; the streaming
 * engine gives null through the warm-up, then every row of `m`, exactly (tolerance 0) or within
 * `tolerance` (absolute).
 */
export function expectCausalAndStreaming(c: CandleColumns, config: FeatureSetConfig, m: FeatureMatrix64, cutAt: readonly number[], tolerance = 0): void {
  for (const t of cutAt) {
    const cut = computeFeaturesF64(sliceColumns(c, 0, t + 1), config);
    expect(Array.from(cut.data.subarray(t * m.cols, (t + 1) * m.cols))).toEqual(Array.from(m.data.subarray(t * m.cols, (t + 1) * m.cols)));
  }
  const s = new StreamingFeatures(config, { intervalMs: HOUR_MS });
  for (let i = 0; i < c.length; i++) {
    const row = s.update(candleAt(c, i));
    if (i < m.warmup) expect(row).toBeNull();
    else if (tolerance === 0) for (let j = 0; j < m.cols; j++) expect(row![j]).toBe(m.data[i * m.cols + j]);
    else for (let j = 0; j < m.cols; j++) expect(Math.abs(row![j]! - m.data[i * m.cols + j]!)).toBeLessThan(tolerance);
  }
}
