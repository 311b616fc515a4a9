import type { CandleColumns } from './candle.js';
import { allocColumns } from './columnar.js';
import { TaError } from './errors.js';
import { INTERVAL_MS, type Interval } from './interval.js';

export type CandleIssueKind =
  | 'not_a_number'
  | 'non_positive_price'
  | 'high_below_open_close'
  | 'low_above_open_close'
  | 'negative_volume'
  | 'unsorted'
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
  constructor(report: ValidationReport, source?: string) {
    super('CANDLES_INVALID', describeReport(report, source));
    this.report = report;
  }
}

const MAX_LISTED = 10;

/** A readable summary: counts by kind, then the first issues with their rows. */
export function describeReport(report: ValidationReport, source?: string, lineOffset = 0): string {
  if (report.ok) return `${source ?? 'candles'}: ${report.rows} rows, no issues`;
  const counts = Object.entries(report.counts)
    .map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`)
    .join(', ');
  const first = report.issues
    .slice(0, MAX_LISTED)
    .map((i) => `  row ${i.row + lineOffset}${i.field ? ` (${i.field})` : ''}: ${i.message}`)
    .join('\n');
  const more = report.issues.length > MAX_LISTED ? `\n  ... and ${report.issues.length - MAX_LISTED} more` : '';
  return `${source ?? 'candles'}: ${report.issues.length} issue(s) in ${report.rows} rows: ${counts}\n${first}${more}\nChoose how to handle them: policy 'reject' (default), 'drop' or 'ffill'.`;
}

const PRICE_FIELDS = ['open', 'high', 'low', 'close'] as const;

/**
 * Checks every row: finite numbers, positive prices, high >= max(open, close),
 * low <= min(open, close), volume >= 0, strictly increasing timestamps and, when `interval` is
 * given, gaps (missing intervals).
 */
export function validateCandles(c: CandleColumns, options: { interval?: Interval } = {}): ValidationReport {
  const issues: CandleIssue[] = [];
  const counts: Partial<Record<CandleIssueKind, number>> = {};
  const add = (i: CandleIssue): void => {
    issues.push(i);
    counts[i.kind] = (counts[i.kind] ?? 0) + 1;
  };
  const step = options.interval ? INTERVAL_MS[options.interval] : 0;
  let missingIntervals = 0;
  let lastTs = -Infinity;
  for (let r = 0; r < c.length; r++) {
    const ts = c.tsMs[r]!;
    if (!Number.isFinite(ts)) {
      add({ kind: 'not_a_number', row: r, field: 'timestamp', message: 'timestamp is not a number' });
    } else {
      if (ts < lastTs) add({ kind: 'unsorted', row: r, field: 'timestamp', message: `timestamp ${ts} is before the previous row's ${lastTs}` });
      else if (ts === lastTs) add({ kind: 'duplicate', row: r, field: 'timestamp', message: `timestamp ${ts} repeats the previous row's` });
      else if (step > 0 && Number.isFinite(lastTs) && ts - lastTs > step) {
        const missing = Math.round((ts - lastTs) / step) - 1;
        if (missing > 0) {
          missingIntervals += missing;
          add({ kind: 'gap', row: r, field: 'timestamp', missing, message: `${missing} missing interval(s) between ${new Date(lastTs).toISOString()} and ${new Date(ts).toISOString()}` });
        }
      }
      if (ts > lastTs) lastTs = ts;
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

/**
 * Validates and applies the policy. 'reject' throws CandleValidationError on any issue; 'drop'
 * removes bad, out-of-order and duplicate rows (gaps stay, and are reported); 'ffill' does the same
 * and then fills each gap, and replaces each bad row, with flat candles at the previous close and
 * zero volume. The result always says what changed: nothing is altered silently.
 */
export function repairCandles(
  c: CandleColumns,
  options: { interval?: Interval; policy?: InvalidCandlePolicy; source?: string } = {},
): RepairResult {
  const policy = options.policy ?? 'reject';
  const report = validateCandles(c, options.interval ? { interval: options.interval } : {});
  if (report.ok) return { candles: c, report, dropped: 0, filled: 0 };
  if (policy === 'reject') throw new CandleValidationError(report, options.source);

  const bad = new Uint8Array(c.length);
  for (const i of report.issues) if (i.kind !== 'gap') bad[i.row] = 1;
  const step = options.interval ? INTERVAL_MS[options.interval] : 0;
  const fill = policy === 'ffill' && step > 0;

  const out: number[][] = [[], [], [], [], [], [], []];
  const push = (ts: number, o: number, h: number, l: number, cl: number, v: number, t: number): void => {
    out[0]!.push(ts); out[1]!.push(o); out[2]!.push(h); out[3]!.push(l); out[4]!.push(cl); out[5]!.push(v); out[6]!.push(t);
  };
  let dropped = 0;
  let filled = 0;
  let lastTs = -Infinity;
  let lastClose = NaN;
  for (let r = 0; r < c.length; r++) {
    const ts = c.tsMs[r]!;
    const timeOk = Number.isFinite(ts) && ts > lastTs;
    if (!timeOk) {
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
  const n = out[0]!.length;
  const res = allocColumns(n);
  res.tsMs.set(out[0]!); res.open.set(out[1]!); res.high.set(out[2]!); res.low.set(out[3]!);
  res.close.set(out[4]!); res.volume.set(out[5]!); res.turnover.set(out[6]!);
  return { candles: res, report, dropped, filled };
}
