import type { CandleColumns } from './candle.js';
import { allocColumns } from './columnar.js';
import { DataError, TaError } from './errors.js';
import { INTERVAL_MS, type Interval } from './interval.js';

export type CandleIssueKind =
  | 'not_a_number'
  | 'non_positive_price'
  | 'high_below_open_close'
  | 'low_above_open_close'
  | 'negative_volume'
  | 'unsorted'
  | 'time_outlier'
  | 'duplicate'
  | 'gap';

export interface CandleIssue {
  readonly kind: CandleIssueKind;
  /** 0-based data row (in the input, before any repair). */
  readonly row: number;
  readonly field?: string;
  readonly message: string;
  /** For gaps: how many intervals are missing before this row. */
  readonly missing?: number;
}

export interface ValidationReport {
  readonly ok: boolean;
  readonly rows: number;
  readonly issues: readonly CandleIssue[];
  readonly counts: Readonly<Partial<Record<CandleIssueKind, number>>>;
  /** Missing intervals in all (sum over gaps); 0 when no interval was given. */
  readonly missingIntervals: number;
}

/** What to do with bad rows: throw, drop them, or replace them (and gaps) with flat candles. */
export type InvalidCandlePolicy = 'reject' | 'drop' | 'ffill';

export class CandleValidationError extends TaError {
  readonly report: ValidationReport;
  constructor(report: ValidationReport, source?: string, lineOfRow?: (row: number) => number) {
    super('CANDLES_INVALID', describeReport(report, source, lineOfRow));
    this.report = report;
  }
}

const MAX_LISTED = 10;

/**
 * A readable summary: counts by kind, then the first issues with where they are: `line N` of the
 * file when `lineOfRow` maps data rows to file lines (a CSV), else `row N` (0-based data row).
 */
export function describeReport(report: ValidationReport, source?: string, lineOfRow?: (row: number) => number): string {
  if (report.ok) return `${source ?? 'candles'}: ${report.rows} rows, no issues`;
  const counts = Object.entries(report.counts)
    .map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`)
    .join(', ');
  const first = report.issues
    .slice(0, MAX_LISTED)
    .map((i) => `  ${lineOfRow ? `line ${lineOfRow(i.row)}` : `row ${i.row}`}${i.field ? ` (${i.field})` : ''}: ${i.message}`)
    .join('\n');
  const more = report.issues.length > MAX_LISTED ? `\n  ... and ${report.issues.length - MAX_LISTED} more` : '';
  return `${source ?? 'candles'}: ${report.issues.length} issue(s) in ${report.rows} rows: ${counts}\n${first}${more}\nChoose how to handle them: policy 'reject' (default), 'drop' or 'ffill'.`;
}

const PRICE_FIELDS = ['open', 'high', 'low', 'close'] as const;

/**
 * Which rows to keep in time order: the largest set of rows whose timestamps strictly increase
 * (a longest increasing subsequence, O(n log n) time, O(n) memory). Ties keep the earliest row.
 * One timestamp typed 100 years ahead is then one row out of line, not a reason to drop every good
 * row after it. Rows with a non-finite timestamp are never kept.
 */
function timeOrderedRows(ts: Float64Array): Uint8Array {
  const n = ts.length;
  const keep = new Uint8Array(n);
  // Scanning from the end: heads[k] = the row that starts the best (largest first timestamp)
  // increasing run of length k+1 in the suffix seen so far; next[r] = the row after r in its run.
  const heads = new Int32Array(n);
  const next = new Int32Array(n).fill(-1);
  let len = 0;
  for (let r = n - 1; r >= 0; r--) {
    const x = ts[r]!;
    if (!Number.isFinite(x)) continue;
    // k = how many heads have a timestamp > x (heads' timestamps decrease with k)
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ts[heads[mid]!]! > x) lo = mid + 1;
      else hi = mid;
    }
    next[r] = lo > 0 ? heads[lo - 1]! : -1;
    heads[lo] = r; // x >= the old head here: an equal timestamp prefers the earlier row
    if (lo === len) len++;
  }
  for (let r = len > 0 ? heads[len - 1]! : -1; r >= 0; r = next[r]!) keep[r] = 1;
  return keep;
}

const iso = (ms: number): string => (Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms));

/**
 * Checks every row: finite numbers, positive prices, high >= max(open, close),
 * low <= min(open, close), volume >= 0, strictly increasing timestamps and, when `interval` is
 * given, gaps (missing intervals). Time order is judged against the largest set of rows in
 * increasing time order: a row out of line with it is a `duplicate` (same time as a kept row),
 * `unsorted` (before the previous kept row) or a `time_outlier` (after the next kept row, e.g. a
 * timestamp mistyped years ahead). Gaps are measured between kept rows.
 */
export function validateCandles(c: CandleColumns, options: { interval?: Interval } = {}): ValidationReport {
  const issues: CandleIssue[] = [];
  const counts: Partial<Record<CandleIssueKind, number>> = {};
  const add = (i: CandleIssue): void => {
    issues.push(i);
    counts[i.kind] = (counts[i.kind] ?? 0) + 1;
  };
  const step = options.interval ? INTERVAL_MS[options.interval] : 0;
  const keep = timeOrderedRows(c.tsMs);
  // the timestamp of the next kept row after each row (for outliers), filled from the end
  const nextKeptTs = new Float64Array(c.length);
  let following = Infinity;
  for (let r = c.length - 1; r >= 0; r--) {
    nextKeptTs[r] = following;
    if (keep[r]) following = c.tsMs[r]!;
  }
  let missingIntervals = 0;
  let lastTs = -Infinity;
  for (let r = 0; r < c.length; r++) {
    const ts = c.tsMs[r]!;
    if (!Number.isFinite(ts)) {
      add({ kind: 'not_a_number', row: r, field: 'timestamp', message: 'timestamp is not a number' });
    } else if (!keep[r]) {
      const nextTs = nextKeptTs[r]!;
      if (ts === lastTs || ts === nextTs) add({ kind: 'duplicate', row: r, field: 'timestamp', message: `timestamp ${ts} repeats ${ts === lastTs ? "the previous row's" : "a later row's"}` });
      else if (ts < lastTs) add({ kind: 'unsorted', row: r, field: 'timestamp', message: `timestamp ${ts} is before the previous row's ${lastTs}` });
      else add({ kind: 'time_outlier', row: r, field: 'timestamp', message: `timestamp ${ts} (${iso(ts)}) is out of line: after the rows that follow it (next ${iso(nextTs)}); a mistyped timestamp?` });
    } else {
      if (step > 0 && Number.isFinite(lastTs) && ts - lastTs > step) {
        const missing = Math.round((ts - lastTs) / step) - 1;
        if (missing > 0) {
          missingIntervals += missing;
          add({ kind: 'gap', row: r, field: 'timestamp', missing, message: `${missing} missing interval(s) between ${iso(lastTs)} and ${iso(ts)}` });
        }
      }
      lastTs = ts;
    }
    let pricesFinite = true;
    for (const f of PRICE_FIELDS) {
      const v = c[f][r]!;
      if (!Number.isFinite(v)) {
        pricesFinite = false;
        add({ kind: 'not_a_number', row: r, field: f, message: `${f} is not a number` });
      } else if (v <= 0) {
        pricesFinite = false;
        add({ kind: 'non_positive_price', row: r, field: f, message: `${f} is ${v}; prices must be > 0` });
      }
    }
    const vol = c.volume[r]!;
    if (!Number.isFinite(vol)) add({ kind: 'not_a_number', row: r, field: 'volume', message: 'volume is not a number' });
    else if (vol < 0) add({ kind: 'negative_volume', row: r, field: 'volume', message: `volume is ${vol}; it must be >= 0` });
    if (pricesFinite) {
      const o = c.open[r]!;
      const cl = c.close[r]!;
      const h = c.high[r]!;
      const l = c.low[r]!;
      if (h < Math.max(o, cl)) add({ kind: 'high_below_open_close', row: r, field: 'high', message: `high ${h} < max(open ${o}, close ${cl})` });
      if (l > Math.min(o, cl)) add({ kind: 'low_above_open_close', row: r, field: 'low', message: `low ${l} > min(open ${o}, close ${cl})` });
    }
  }
  return { ok: issues.length === 0, rows: c.length, issues, counts, missingIntervals };
}

export interface RepairResult {
  readonly candles: CandleColumns;
  readonly report: ValidationReport;
  /** Rows removed (bad values, out of order, duplicates). */
  readonly dropped: number;
  /** Rows inserted or replaced with flat candles at the previous close (ffill only). */
  readonly filled: number;
}

/** The default cap on one gap 'ffill' may fill: longer gaps need an explicit `maxFillBars`. */
export const DEFAULT_MAX_FILL_BARS = 1000;

export interface RepairOptions {
  readonly interval?: Interval;
  readonly policy?: InvalidCandlePolicy;
  readonly source?: string;
  /**
   * 'ffill' only: the longest gap (in bars) it fills; a longer gap throws a DataError naming it.
   * Default DEFAULT_MAX_FILL_BARS (1,000), so a timestamp typed years ahead cannot turn into
   * millions of invented candles. The output is at most rows x (1 + maxFillBars) candles and is
   * counted before anything is allocated.
   */
  readonly maxFillBars?: number;
  /** Maps a data row to its line in the source file, so messages name file lines (set by the CSV readers). */
  readonly lineOfRow?: (row: number) => number;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/**
 * Validates and applies the policy. 'reject' throws CandleValidationError on any issue; 'drop'
 * removes bad rows and the rows out of time order (duplicates, unsorted rows, time outliers: every
 * row outside the largest set of rows in increasing time order), and keeps gaps (reported); 'ffill'
 * does the same and then fills each gap, and replaces each bad row, with flat candles at the
 * previous close and zero volume, refusing a gap longer than `maxFillBars`. The result always says
 * what changed: nothing is altered silently.
 */
export function repairCandles(c: CandleColumns, options: RepairOptions = {}): RepairResult {
  const policy = options.policy ?? 'reject';
  const maxFill = options.maxFillBars ?? DEFAULT_MAX_FILL_BARS;
  if (!Number.isInteger(maxFill) || maxFill < 0) throw new DataError(`maxFillBars must be a whole number >= 0, got ${String(options.maxFillBars)}`);
  const report = validateCandles(c, options.interval ? { interval: options.interval } : {});
  if (report.ok) return { candles: c, report, dropped: 0, filled: 0 };
  if (policy === 'reject') throw new CandleValidationError(report, options.source, options.lineOfRow);

  const bad = new Uint8Array(c.length);
  for (const i of report.issues) if (i.kind !== 'gap') bad[i.row] = 1;
  const keep = timeOrderedRows(c.tsMs);
  const step = options.interval ? INTERVAL_MS[options.interval] : 0;
  const fill = policy === 'ffill' && step > 0;

  // Pass 1: count the output (and check every gap against the cap) before allocating it.
  let size = 0;
  {
    let lastTs = -Infinity;
    let haveClose = false;
    for (let r = 0; r < c.length; r++) {
      if (!keep[r]) continue;
      const ts = c.tsMs[r]!;
      if (fill && haveClose) {
        const missing = Math.max(0, Math.ceil((ts - lastTs) / step) - 1);
        if (missing > maxFill) {
          throw new DataError(
            `${options.source ?? 'candles'}: ${options.lineOfRow ? `line ${options.lineOfRow(r)}` : `row ${r}`}: ${fmt(missing)} missing ${options.interval} bars between ${iso(lastTs)} and ${iso(ts)}; 'ffill' fills at most ${fmt(maxFill)} per gap (maxFillBars): check that timestamp, use policy 'drop' to keep the gap, or raise maxFillBars explicitly`,
          );
        }
        size += missing;
      }
      if (bad[r] && !(fill && haveClose)) continue;
      size++;
      lastTs = ts;
      if (!bad[r]) haveClose = true;
    }
  }

  // Pass 2: write it.
  const res = allocColumns(size);
  let n = 0;
  const push = (ts: number, o: number, h: number, l: number, cl: number, v: number, t: number): void => {
    res.tsMs[n] = ts; res.open[n] = o; res.high[n] = h; res.low[n] = l; res.close[n] = cl; res.volume[n] = v; res.turnover[n] = t;
    n++;
  };
  let dropped = 0;
  let filled = 0;
  let lastTs = -Infinity;
  let lastClose = NaN;
  for (let r = 0; r < c.length; r++) {
    const ts = c.tsMs[r]!;
    if (!keep[r]) {
      dropped++;
      continue;
    }
    if (fill && Number.isFinite(lastClose)) {
      for (let t = lastTs + step; t < ts; t += step) {
        push(t, lastClose, lastClose, lastClose, lastClose, 0, NaN);
        filled++;
      }
    }
    if (bad[r]) {
      if (fill && Number.isFinite(lastClose)) {
        push(ts, lastClose, lastClose, lastClose, lastClose, 0, NaN);
        filled++;
        lastTs = ts;
      } else dropped++;
      continue;
    }
    push(ts, c.open[r]!, c.high[r]!, c.low[r]!, c.close[r]!, c.volume[r]!, c.turnover[r]!);
    lastTs = ts;
    lastClose = c.close[r]!;
  }
  if (n !== size) throw new TaError('INTERNAL', `repairCandles counted ${size} rows but wrote ${n}`);
  return { candles: res, report, dropped, filled };
}
