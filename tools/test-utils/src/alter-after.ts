/** The columns of a candle series, structurally (core's CandleColumns; test-utils does not depend on core). */
export interface CandleColumnsLike {
  readonly length: number;
  readonly tsMs: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly turnover: Float64Array;
}

/**
 * A copy of the candles whose bars from `from` on follow another path (each bar's prices times a
 * zig-zag factor 1 + amplitude x sin((i - from) / period); volumes doubled): the same training and
 * validation rows with other test rows. Tests use it to prove a fit reads no row at or after `from`.
 */
export function alterAfter(c: CandleColumnsLike, from: number, { amplitude = 0.05, period = 7 } = {}): CandleColumnsLike {
  const cp = (a: Float64Array) => Float64Array.from(a);
  const out = { length: c.length, tsMs: cp(c.tsMs), open: cp(c.open), high: cp(c.high), low: cp(c.low), close: cp(c.close), volume: cp(c.volume), turnover: cp(c.turnover) };
  for (let i = from; i < c.length; i++) {
    const f = 1 + amplitude * Math.sin((i - from) / period);
    for (const k of ['open', 'high', 'low', 'close'] as const) out[k][i] = c[k][i]! * f;
    out.volume[i] = c.volume[i]! * 2;
  }
  return out;
}
