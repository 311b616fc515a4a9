import { readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  DataError,
  INTERVALS,
  generateSyntheticMarket,
  filterSyntheticRegimes,
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
  /** Missing intervals found by validation (filled under 'ffill'; left as gaps under 'drop'). */
  readonly missing?: number;
  /** Synthetic data only: the generator's ground truth, row for row with `candles`. */
  readonly truth?: SyntheticTruth;
}

/** The synthetic generator's truth per bar: regime index (into REGIMES) and conditional volatility. */
export interface SyntheticTruth {
  readonly regimes: Uint8Array;
  readonly sigma: Float64Array;
  /** The oracle's regime of each bar: core's filterSyntheticRegimes (the generator's own causal filter), its MAP regime. */
  readonly oracle?: Uint8Array;
}

export interface LoadDataOptions {
  /** A CSV file, or a folder of CSV files named like `bybit_BTCUSDT_1h.csv` or `BTCUSDT_1h.csv`. */
  readonly path?: string;
  /** Use the built-in synthetic market instead of files. */
  readonly synthetic?: boolean;
  /** Symbols to load, or 'all': every symbol with a file of the interval in the folder. */
  readonly symbols?: readonly SymbolId[] | 'all';
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
  /** Symbols to leave out (e.g. the held-out symbols of a leave-symbols-out evaluation). */
  readonly exclude?: readonly SymbolId[];
  /** Told how the files of a symbol with several exchanges' files are named (symbols 'all'). */
  readonly log?: (line: string) => void;
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
    if (o.symbols === 'all') throw new ConfigError("symbols 'all' means every symbol in a data folder: give the folder with --data", 'symbols');
    const symbols = (o.symbols?.length ? o.symbols : ['SYNTHUSDT']).filter((s) => !o.exclude?.includes(s));
    return symbols.map((symbol, k) => {
      const seed = (o.seed ?? 42) * 1000 + k;
      const m = generateSyntheticMarket({ bars: o.bars ?? 20_000, seed, symbol, interval });
      const [a, b] = clipRange(m.candles, o.startMs, o.endMs);
      const truth = { regimes: m.regimes.slice(a, b), sigma: m.sigma.slice(a, b), oracle: filterSyntheticRegimes(m).map.slice(a, b) };
      return { symbol, interval, candles: clip(m.candles, o.startMs, o.endMs), source: `synthetic:${seed}`, dropped: 0, filled: 0, truth };
    });
  }
  const list = o.path.includes(',') ? o.path.split(',').map((x) => x.trim()).filter(Boolean) : null;
  for (const p of list ?? [o.path]) if (!existsSync(p)) throw new DataError(`data path ${p} does not exist`);
  const files: { file: string; symbol: string; interval: Interval }[] = [];
  const all = o.symbols === 'all';
  const wanted = all ? [] : (o.symbols ?? []);
  const twins: { file: string; symbol: string; interval: Interval }[] = [];
  if (list) {
    // several files: each named like bybit_BTCUSDT_1h.csv, all of one interval
    for (const p of list) {
      const parsed = parseCandleFileName(path.basename(p));
      if (!parsed) throw new ConfigError(`cannot tell the symbol and interval of ${p}: in a list of files each is named like bybit_BTCUSDT_1h.csv`, 'data');
      if (wanted.length && !wanted.includes(parsed.symbol)) continue;
      if (o.exclude?.includes(parsed.symbol)) continue;
      files.push({ file: p, symbol: parsed.symbol, interval: parsed.interval });
    }
    assertOneInterval(files.map((f) => ({ symbol: f.symbol, interval: f.interval, source: f.file })));
    const named = files[0]?.interval;
    if (named && named !== interval) throw new ConfigError(`the files are named for ${named} candles but the run reads ${interval} (--interval / data.interval): pass --interval ${named}`, 'interval');
    const absent = wanted.filter((s) => !files.some((f) => f.symbol === s) && !o.exclude?.includes(s));
    if (absent.length) throw new ConfigError(`--symbols names ${absent.join(', ')} but no file of --data is named for it (files: ${list.map((p) => path.basename(p)).join(', ')})`, 'symbols');
  } else if (statSync(o.path).isDirectory()) {
    for (const name of readdirSync(o.path).sort()) {
      const parsed = parseCandleFileName(name);
      if (!parsed || parsed.interval !== interval) continue;
      if (wanted.length && !wanted.includes(parsed.symbol)) continue;
      if (o.exclude?.includes(parsed.symbol)) continue;
      if (o.exchange && parsed.exchange !== o.exchange) continue;
      const twin = files.find((f) => f.symbol === parsed.symbol);
      if (twin && all) {
        // symbols 'all': every exchange's file is a series (named below)
        twins.push({ file: path.join(o.path, name), symbol: parsed.symbol, interval });
        continue;
      }
      if (twin) {
        throw new ConfigError(
          `${o.path} has several ${interval} files for ${parsed.symbol} (${path.basename(twin.file)}, ${name}): choose one with --exchange`,
          'exchange',
        );
      }
      files.push({ file: path.join(o.path, name), symbol: parsed.symbol, interval });
    }
    const missing = wanted.filter((s) => !files.some((f) => f.symbol === s) && !o.exclude?.includes(s));
    if (missing.length) {
      const found = readdirSync(o.path).filter((n) => n.endsWith('.csv')).sort();
      throw new DataError(
        `no ${interval} CSV for ${missing.join(', ')} in ${o.path} (expected names like bybit_${missing[0]}_${interval}.csv); files found: ${found.length ? found.join(', ') : 'none'}`,
      );
    }
    if (files.length === 0) throw new DataError(`no ${interval} candle CSV files in ${o.path}`);
  } else {
    // one file holds one symbol: where its name carries a symbol or an interval, they must agree with the run's
    const parsed = parseCandleFileName(path.basename(o.path));
    if (wanted.length > 1) throw new ConfigError(`${o.path} is one file, so one symbol, but ${wanted.length} symbols are asked for (${wanted.join(', ')}): pass --symbols with one of them, or give a folder or one file per symbol (--data a.csv,b.csv)`, 'symbols');
    if (parsed && wanted[0] && parsed.symbol !== wanted[0]) {
      throw new ConfigError(`${path.basename(o.path)} is named for ${parsed.symbol} but the run asks for ${wanted[0]} (--symbols / data.symbols): check the file, or rename it if its name is wrong`, 'symbols');
    }
    if (parsed && parsed.interval !== interval) {
      throw new ConfigError(`${path.basename(o.path)} is named for ${parsed.interval} candles but the run reads ${interval} (--interval / data.interval): pass --interval ${parsed.interval}`, 'interval');
    }
    const symbol = wanted[0] ?? parsed?.symbol;
    if (!symbol) throw new ConfigError(`cannot tell the symbol of ${o.path}: name it like BTCUSDT_1h.csv or pass --symbols`, 'symbols');
    files.push({ file: o.path, symbol, interval });
  }
  const out: SymbolData[] = [];
  const read = async (f: (typeof files)[number]): Promise<SymbolData> => {
    // core checks the median spacing against the interval and refuses timestamps in seconds, before any repair
    const r = await readCandlesCsv(f.file, { interval: f.interval, policy: o.policy ?? 'reject', ...(o.maxFillBars !== undefined ? { maxFillBars: o.maxFillBars } : {}) });
    if (r.candles.length === 0) throw new DataError(`${f.file}: no candles (the file has ${r.report.rows === 0 ? 'only a header' : 'no valid rows'})`);
    return { symbol: f.symbol, interval: f.interval, candles: clip(r.candles, o.startMs, o.endMs), source: f.file, dropped: r.dropped, filled: r.filled, missing: r.report.missingIntervals };
  };
  for (const f of files) {
    const same = [await read(f)];
    for (const t of twins.filter((x) => x.symbol === f.symbol)) same.push(await read(t));
    if (same.length === 1) {
      out.push(same[0]!);
      continue;
    }
    // symbols 'all' with several exchanges' files of one symbol: each is a series of its own; the
    // longest keeps the plain symbol, the others are named exchange:SYMBOL
    same.sort((x, y) => y.candles.length - x.candles.length);
    const named = same.map((d, i) => (i === 0 ? d : { ...d, symbol: `${parseCandleFileName(path.basename(d.source))?.exchange ?? path.basename(d.source, '.csv')}:${d.symbol}` }));
    o.log?.(`${f.symbol}: ${named.map((d) => `${path.basename(d.source)} as ${d.symbol} (${d.candles.length} candles)`).join(', ')}; one exchange only with --exchange`);
    out.push(...named);
  }
  assertOneInterval(out);
  return out;
}

/** All series of a run must share one interval. */
export function assertOneInterval(data: readonly Pick<SymbolData, 'symbol' | 'interval' | 'source'>[]): void {
  const first = data[0];
  const other = data.find((d) => d.interval !== first?.interval);
  if (first && other) {
    throw new ConfigError(`mixed intervals in one run: ${first.symbol} is ${first.interval} (${first.source}) but ${other.symbol} is ${other.interval} (${other.source}); train on one interval`, 'interval');
  }
}
