import { readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  DataError,
  INTERVALS,
  generateSyntheticMarket,
  lowerBound,
  readCandlesCsv,
  sliceColumns,
  type CandleColumns,
  type InvalidCandlePolicy,
  type Interval,
  type SymbolId,
} from '@task-agnostic/core';

/** One symbol's candles, ready for features. */
export interface SymbolData {
  readonly symbol: SymbolId;
  readonly interval: Interval;
  readonly candles: CandleColumns;
  /** Where they came from (file path or 'synthetic:seed'). */
  readonly source: string;
  /** What validation changed (0 and 0 for clean data). */
  readonly dropped: number;
  readonly filled: number;
  /** Synthetic data only: the generator's ground truth, row for row with `candles`. */
  readonly truth?: SyntheticTruth;
}

/** The synthetic generator's truth per bar: regime index (into REGIMES) and conditional volatility. */
export interface SyntheticTruth {
  readonly regimes: Uint8Array;
  readonly sigma: Float64Array;
}

export interface LoadDataOptions {
  /** A CSV file, or a folder of CSV files named like `bybit_BTCUSDT_1h.csv` or `BTCUSDT_1h.csv`. */
  readonly path?: string;
  /** Use the built-in synthetic market instead of files. */
  readonly synthetic?: boolean;
  readonly symbols?: readonly SymbolId[];
  readonly interval?: Interval;
  /** In a folder with several exchanges' files for one symbol (bybit_X, binance_X), which to use. */
  readonly exchange?: string;
  readonly policy?: InvalidCandlePolicy;
  /** 'ffill': the longest gap filled (core's default 1,000 bars). */
  readonly maxFillBars?: number;
  /** Synthetic only: bars per symbol and seed. */
  readonly bars?: number;
  readonly seed?: number;
  /** Keep only candles with tsMs in [startMs, endMs). */
  readonly startMs?: number;
  readonly endMs?: number;
}

const FILE_RE = new RegExp(`^(?:([a-z0-9]+)_)?([A-Z0-9]+)_(${INTERVALS.join('|')})\\.csv$`);

/** Parses `bybit_BTCUSDT_1h.csv` / `BTCUSDT_1h.csv` into its parts, or null. */
export function parseCandleFileName(name: string): { exchange?: string; symbol: string; interval: Interval } | null {
  const m = FILE_RE.exec(name);
  if (!m) return null;
  return { ...(m[1] ? { exchange: m[1] } : {}), symbol: m[2]!, interval: m[3] as Interval };
}

function clipRange(c: CandleColumns, startMs?: number, endMs?: number): [number, number] {
  return [startMs === undefined ? 0 : lowerBound(c, startMs), endMs === undefined ? c.length : lowerBound(c, endMs)];
}

function clip(c: CandleColumns, startMs?: number, endMs?: number): CandleColumns {
  if (startMs === undefined && endMs === undefined) return c;
  return sliceColumns(c, ...clipRange(c, startMs, endMs));
}

/**
 * Loads candles for training or backtesting: the synthetic market (one independent series per
 * symbol, seeds derived from `seed`), one CSV file, or a folder of CSV files filtered by symbols
 * and interval. Files are validated; the policy decides what happens to bad rows.
 */
export async function loadData(o: LoadDataOptions): Promise<SymbolData[]> {
  const interval = o.interval ?? '1h';
  if (o.synthetic || !o.path) {
    const symbols = o.symbols?.length ? o.symbols : ['SYNTHUSDT'];
    return symbols.map((symbol, k) => {
      const seed = (o.seed ?? 42) * 1000 + k;
      const m = generateSyntheticMarket({ bars: o.bars ?? 20_000, seed, symbol, interval });
      const [a, b] = clipRange(m.candles, o.startMs, o.endMs);
      const truth = { regimes: m.regimes.slice(a, b), sigma: m.sigma.slice(a, b) };
      return { symbol, interval, candles: clip(m.candles, o.startMs, o.endMs), source: `synthetic:${seed}`, dropped: 0, filled: 0, truth };
    });
  }
  if (!existsSync(o.path)) throw new DataError(`data path ${o.path} does not exist`);
  const files: { file: string; symbol: string; interval: Interval }[] = [];
  if (statSync(o.path).isDirectory()) {
    for (const name of readdirSync(o.path).sort()) {
      const parsed = parseCandleFileName(name);
      if (!parsed || parsed.interval !== interval) continue;
      if (o.symbols?.length && !o.symbols.includes(parsed.symbol)) continue;
      if (o.exchange && parsed.exchange !== o.exchange) continue;
      const twin = files.find((f) => f.symbol === parsed.symbol);
      if (twin) {
        throw new ConfigError(
          `${o.path} has several ${interval} files for ${parsed.symbol} (${path.basename(twin.file)}, ${name}): choose one with --exchange`,
          'exchange',
        );
      }
      files.push({ file: path.join(o.path, name), symbol: parsed.symbol, interval });
    }
    const missing = (o.symbols ?? []).filter((s) => !files.some((f) => f.symbol === s));
    if (missing.length) {
      const found = readdirSync(o.path).filter((n) => n.endsWith('.csv')).sort();
      throw new DataError(
        `no ${interval} CSV for ${missing.join(', ')} in ${o.path} (expected names like bybit_${missing[0]}_${interval}.csv); files found: ${found.length ? found.join(', ') : 'none'}`,
      );
    }
    if (files.length === 0) throw new DataError(`no ${interval} candle CSV files in ${o.path}`);
  } else {
    const parsed = parseCandleFileName(path.basename(o.path));
    const symbol = o.symbols?.[0] ?? parsed?.symbol;
    if (!symbol) throw new ConfigError(`cannot tell the symbol of ${o.path}: name it like BTCUSDT_1h.csv or pass --symbols`, 'symbols');
    files.push({ file: o.path, symbol, interval: parsed?.interval ?? interval });
  }
  const out: SymbolData[] = [];
  for (const f of files) {
    const r = await readCandlesCsv(f.file, { interval: f.interval, policy: o.policy ?? 'reject', ...(o.maxFillBars !== undefined ? { maxFillBars: o.maxFillBars } : {}) });
    out.push({ symbol: f.symbol, interval: f.interval, candles: clip(r.candles, o.startMs, o.endMs), source: f.file, dropped: r.dropped, filled: r.filled });
  }
  return out;
}
