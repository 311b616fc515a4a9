import { readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { CandleColumns } from './candle.js';
import { allocColumns } from './columnar.js';
import { DataError } from './errors.js';
import type { Interval } from './interval.js';
import { checkCandleSpacing } from './spacing.js';
import { repairCandles, type InvalidCandlePolicy, type RepairResult } from './validate.js';

/** The header of the project's candle CSV files (turnover may be empty). */
export const CANDLE_CSV_HEADER = 'timestamp,open,high,low,close,volume,turnover';
const REQUIRED = ['timestamp', 'open', 'high', 'low', 'close', 'volume'] as const;

export interface ReadCandlesOptions {
  /** When given, gaps (missing intervals) are reported and handled by the policy. */
  readonly interval?: Interval;
  /** What to do with invalid rows: 'reject' (default, throws), 'drop' or 'ffill'. */
  readonly policy?: InvalidCandlePolicy;
  /** 'ffill' only: the longest gap it fills (default 1,000 bars); a longer one throws, naming it. */
  readonly maxFillBars?: number;
}

function parseField(s: string): number {
  // Number('') is 0: an empty cell must read as missing (NaN), not zero.
  return s.length === 0 ? NaN : Number(s);
}

/**
 * Parses candle CSV text into columns, without validating. Columns are found by header name
 * (timestamp, open, high, low, close, volume required; turnover optional; others ignored).
 */
export function parseCandlesCsvRaw(text: string, source = 'CSV'): CandleColumns {
  return parseRows(text, source).cols;
}

/** The columns and, per data row, its line in the file (the header is line 1; blank lines count). */
function parseRows(text: string, source: string): { cols: CandleColumns; lines: Int32Array } {
  const len = text.length;
  let lineEnd = text.indexOf('\n');
  if (lineEnd < 0) lineEnd = len;
  const header = text.slice(0, lineEnd).replace(/\r$/, '').replace(/^\uFEFF/, '').split(',').map((h) => h.trim().toLowerCase());
  const idx: Record<string, number> = {};
  header.forEach((h, i) => (idx[h] = i));
  const missing = REQUIRED.filter((r) => idx[r] === undefined);
  if (missing.length) {
    throw new DataError(`${source}: header '${header.join(',')}' lacks ${missing.join(', ')}; expected '${CANDLE_CSV_HEADER}'`);
  }
  // Count rows to allocate once.
  let rows = 0;
  for (let p = lineEnd + 1; p < len; ) {
    let e = text.indexOf('\n', p);
    if (e < 0) e = len;
    if (e > p && !(e === p + 1 && text.charCodeAt(p) === 13)) rows++;
    p = e + 1;
  }
  const cols = allocColumns(rows);
  const lines = new Int32Array(rows);
  const nf = header.length;
  const targets: (Float64Array | null)[] = header.map(() => null);
  targets[idx.timestamp!] = cols.tsMs;
  targets[idx.open!] = cols.open;
  targets[idx.high!] = cols.high;
  targets[idx.low!] = cols.low;
  targets[idx.close!] = cols.close;
  targets[idx.volume!] = cols.volume;
  if (idx.turnover !== undefined) targets[idx.turnover] = cols.turnover;
  let r = 0;
  let line = 1;
  for (let p = lineEnd + 1; p < len; ) {
    let e = text.indexOf('\n', p);
    if (e < 0) e = len;
    line++;
    let end = e;
    if (end > p && text.charCodeAt(end - 1) === 13) end--;
    if (end > p) {
      let f = 0;
      let s = p;
      while (s <= end) {
        let c = text.indexOf(',', s);
        if (c < 0 || c > end) c = end;
        const t = targets[f];
        if (t) t[r] = parseField(text.slice(s, c).trim());
        f++;
        s = c + 1;
        if (c === end) break;
      }
      if (f < nf && f <= idx.volume!) {
        throw new DataError(`${source}: line ${line} has ${f} fields, the header has ${nf}`);
      }
      lines[r] = line;
      r++;
    }
    p = e + 1;
  }
  return { cols, lines };
}

/**
 * Parses and validates candle CSV text. Every message names file lines (the header is line 1,
 * blank lines count), never 0-based rows. With an interval, the candles' median spacing must be
 * that interval and timestamps must be milliseconds (checkCandleSpacing), before any repair.
 */
export function parseCandlesCsv(text: string, options: ReadCandlesOptions = {}, source = 'CSV'): RepairResult {
  const { cols: raw, lines } = parseRows(text, source);
  if (options.interval) checkCandleSpacing(raw, options.interval, source);
  return repairCandles(raw, { ...options, source, lineOfRow: (r) => lines[r] ?? r + 2 });
}

/** Reads and validates a candle CSV file (a 50,000-row file in tens of milliseconds). */
export async function readCandlesCsv(path: string, options: ReadCandlesOptions = {}): Promise<RepairResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read candle file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseCandlesCsv(text, options, path);
}

export function readCandlesCsvSync(path: string, options: ReadCandlesOptions = {}): RepairResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read candle file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseCandlesCsv(text, options, path);
}

/** Plain decimal text: shortest round-trip digits, never exponent notation. */
export function formatDecimal(x: number): string {
  if (Number.isNaN(x)) return '';
  const s = String(x);
  if (!s.includes('e')) return s;
  // Exponent form (|x| < 1e-6 or >= 1e21): expand the shortest digits by hand.
  const [mant, expStr] = s.split('e') as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const pointPos = (mant.replace('-', '').indexOf('.') < 0 ? mant.replace('-', '').length : mant.replace('-', '').indexOf('.')) + exp;
  let out: string;
  if (pointPos <= 0) out = '0.' + '0'.repeat(-pointPos) + digits;
  else if (pointPos >= digits.length) out = digits + '0'.repeat(pointPos - digits.length);
  else out = digits.slice(0, pointPos) + '.' + digits.slice(pointPos);
  return (neg ? '-' : '') + out;
}

/** Candle columns -> CSV text with the standard header (turnover empty where NaN). */
export function formatCandlesCsv(c: CandleColumns): string {
  const parts: string[] = new Array(c.length + 1);
  parts[0] = CANDLE_CSV_HEADER;
  for (let i = 0; i < c.length; i++) {
    parts[i + 1] =
      formatDecimal(c.tsMs[i]!) + ',' + formatDecimal(c.open[i]!) + ',' + formatDecimal(c.high[i]!) + ',' +
      formatDecimal(c.low[i]!) + ',' + formatDecimal(c.close[i]!) + ',' + formatDecimal(c.volume[i]!) + ',' +
      formatDecimal(c.turnover[i]!);
  }
  return parts.join('\n') + '\n';
}

export async function writeCandlesCsv(path: string, c: CandleColumns): Promise<void> {
  await writeFile(path, formatCandlesCsv(c), 'utf8');
}
