/**
 * What the dashboard reads from a journal, always bounded: the equity curve and the heads' outputs
 * are downsampled in SQL to at most `points` rows (the last row of each time bucket), decisions come
 * a page at a time, latency histograms cover the most recent samples only. A journal of 100,000
 * candles never ships more than a few thousand rows to the page.
 */
import type { Journal } from '../journal.js';
import { LATENCY_BUCKETS_MS } from './metrics.js';

export const MAX_POINTS = 5_000;
export const MAX_PAGE = 200;
/** Latency histograms are built from at most this many of the newest latency rows. */
export const LATENCY_WINDOW_ROWS = 20_000;

export interface EquitySeries {
  readonly symbol: string;
  /** Rows in the journal (before downsampling). */
  readonly total: number;
  readonly ts: number[];
  readonly equity: number[];
  /** The first equity, held in the asset from the first candle: equity0 * close / close0. */
  readonly buyHold: number[];
  /** Units of the asset the buy-and-hold line holds (equity0 / close0; null before the first candle). */
  readonly buyHoldUnits: number | null;
}

export interface DecisionRow {
  readonly id: number;
  readonly symbol: string;
  readonly tsMs: number;
  readonly action: string;
  readonly side: string;
  readonly confidence: number;
  readonly agreement: number;
  readonly sizeFraction: number;
  readonly reasoning: string;
  readonly approved: boolean | null;
  readonly approvedSize: number | null;
  readonly reasons: string[];
  readonly layers: { layer: string; action: string; sizeFraction: number; reason?: string; note?: string }[];
  readonly target: { kind: string; side: string; sizeFraction: number; stopLossPct: number; takeProfitPct: number; status: string | null } | null;
}

export interface HeadsSeries {
  readonly symbol: string;
  readonly total: number;
  readonly ts: number[];
  readonly up: (number | null)[];
  readonly down: (number | null)[];
  readonly sideways: (number | null)[];
  readonly volPercentile: (number | null)[];
  readonly volExpected: (number | null)[];
  readonly regime: (string | null)[];
  readonly regimeConfidence: (number | null)[];
}

export interface PositionRow {
  readonly symbol: string;
  readonly side: string | null;
  readonly qty: number;
  readonly entryPrice: number | null;
  readonly sinceMs: number;
  readonly stopLossPrice: number | null;
  readonly takeProfitPrice: number | null;
  readonly stopLossPct: number | null;
  readonly takeProfitPct: number | null;
}

export interface LatencyHistogram {
  readonly stage: string;
  readonly n: number;
  /** Upper bounds (ms) of the buckets; the last bucket is everything above the last bound. */
  readonly bounds: readonly number[];
  /** Counts per bucket (not cumulative), bounds.length + 1 entries. */
  readonly counts: number[];
}

export function symbolsOf(j: Journal): string[] {
  return j.all<{ symbol: string }>('SELECT DISTINCT symbol FROM decisions').map((r) => r.symbol);
}

function bucketWidth(j: Journal, table: 'equity' | 'decisions', symbol: string, points: number): { lo: number; width: number; n: number; buckets: number } {
  const r = j.all<{ lo: number | null; hi: number | null; n: number }>(`SELECT MIN(ts_ms) AS lo, MAX(ts_ms) AS hi, COUNT(*) AS n FROM ${table} WHERE symbol = ?`, symbol)[0]!;
  if (r.lo === null || r.hi === null) return { lo: 0, width: 1, n: 0, buckets: 0 };
  const span = r.hi - r.lo + 1;
  // No more rows than points: every row is sent (buckets 0).
  if (r.n <= points) return { lo: r.lo, width: 1, n: r.n, buckets: 0 };
  const width = Math.max(1, Math.ceil(span / points));
  return { lo: r.lo, width, n: r.n, buckets: Math.ceil(span / width) };
}

/**
 * The last row at or before each of `points` evenly spaced times: one index seek per point on the
 * (symbol, ts_ms) key, so the cost grows with `points`, not with the journal's length.
 */
function lastPerBucket<T>(j: Journal, table: 'equity' | 'decisions', cols: string, symbol: string, lo: number, width: number, points: number): T[] {
  // The bucket ends first (one MAX seek each on the primary key), then one key lookup per end.
  return j.all<T>(
    `WITH RECURSIVE b(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM b WHERE k < ?),
     ends(ts) AS (SELECT DISTINCT (SELECT MAX(ts_ms) FROM ${table} WHERE symbol = ? AND ts_ms < ? + b.k * ?) FROM b)
     SELECT ${cols} FROM ends CROSS JOIN ${table} t ON t.symbol = ? AND t.ts_ms = ends.ts
     ORDER BY t.ts_ms`,
    points, symbol, lo, width, symbol,
  );
}

export function equitySeries(j: Journal, symbol: string, points: number): EquitySeries {
  if (!j.hasTable('equity')) return { symbol, total: 0, ts: [], equity: [], buyHold: [], buyHoldUnits: null };
  const { lo, width, n, buckets } = bucketWidth(j, 'equity', symbol, points);
  const rows = buckets
    ? lastPerBucket<{ ts: number; equity: number; close: number }>(j, 'equity', 't.ts_ms AS ts, t.equity, t.close', symbol, lo, width, buckets)
    : j.all<{ ts: number; equity: number; close: number }>('SELECT ts_ms AS ts, equity, close FROM equity WHERE symbol = ? ORDER BY ts_ms', symbol);
  const first = j.all<{ equity: number; close: number }>('SELECT equity, close FROM equity WHERE symbol = ? ORDER BY ts_ms LIMIT 1', symbol)[0];
  const k = first && first.close > 0 ? first.equity / first.close : NaN;
  return { symbol, total: n, ts: rows.map((r) => r.ts), equity: rows.map((r) => r.equity), buyHold: rows.map((r) => k * r.close), buyHoldUnits: Number.isFinite(k) ? k : null };
}

export function decisionsPage(j: Journal, o: { symbol?: string; beforeId?: number; limit: number }): DecisionRow[] {
  const layers = j.hasTable('risk_layers');
  const rows = j.all<Record<string, unknown>>(
    `SELECT d.id, d.symbol, d.ts_ms, d.action, d.side, d.confidence, d.agreement, d.size_fraction, d.reasoning,
            v.approved, v.size_fraction AS v_size, v.reasons_json, ${layers ? 'l.layers_json' : 'NULL AS layers_json'},
            t.kind AS t_kind, t.side AS t_side, t.size_fraction AS t_size, t.stop_loss_pct AS t_sl, t.take_profit_pct AS t_tp, o.status AS o_status
     FROM decisions d
     LEFT JOIN verdicts v ON v.decision_id = d.id
     ${layers ? 'LEFT JOIN risk_layers l ON l.decision_id = d.id' : ''}
     LEFT JOIN targets t ON t.symbol = d.symbol AND t.candle_ts = d.ts_ms AND t.kind != 'exit'
     LEFT JOIN orders o ON o.client_order_id = t.client_order_id
     WHERE (? IS NULL OR d.symbol = ?) AND d.id < ?
     ORDER BY d.id DESC LIMIT ?`,
    o.symbol ?? null, o.symbol ?? null, o.beforeId ?? Number.MAX_SAFE_INTEGER, Math.min(MAX_PAGE, o.limit),
  );
  return rows.map((r) => ({
    id: r.id as number,
    symbol: r.symbol as string,
    tsMs: r.ts_ms as number,
    action: r.action as string,
    side: r.side as string,
    confidence: r.confidence as number,
    agreement: r.agreement as number,
    sizeFraction: r.size_fraction as number,
    reasoning: r.reasoning as string,
    approved: r.approved === null || r.approved === undefined ? null : r.approved === 1,
    approvedSize: (r.v_size as number | null) ?? null,
    reasons: r.reasons_json ? (JSON.parse(r.reasons_json as string) as string[]) : [],
    layers: r.layers_json ? (JSON.parse(r.layers_json as string) as DecisionRow['layers']) : [],
    target: r.t_kind
      ? { kind: r.t_kind as string, side: r.t_side as string, sizeFraction: r.t_size as number, stopLossPct: r.t_sl as number, takeProfitPct: r.t_tp as number, status: (r.o_status as string | null) ?? null }
      : null,
  }));
}

interface Outputs {
  direction?: { up: number; down: number; sideways: number };
  volatility?: { expected: number; percentile: number };
  regime?: { label: string; confidence: number };
}

export function headsSeries(j: Journal, symbol: string, points: number): HeadsSeries {
  const { lo, width, n, buckets } = bucketWidth(j, 'decisions', symbol, points);
  const rows = buckets
    ? lastPerBucket<{ ts: number; outputs_json: string | null }>(j, 'decisions', 't.ts_ms AS ts, t.outputs_json', symbol, lo, width, buckets)
    : j.all<{ ts: number; outputs_json: string | null }>('SELECT ts_ms AS ts, outputs_json FROM decisions WHERE symbol = ? ORDER BY ts_ms', symbol);
  const out: HeadsSeries = { symbol, total: n, ts: [], up: [], down: [], sideways: [], volPercentile: [], volExpected: [], regime: [], regimeConfidence: [] };
  for (const r of rows) {
    let x: Outputs = {};
    try {
      if (r.outputs_json) x = JSON.parse(r.outputs_json) as Outputs;
    } catch {
      /* a row the journal could not have written: shown as a gap */
    }
    out.ts.push(r.ts);
    out.up.push(x.direction?.up ?? null);
    out.down.push(x.direction?.down ?? null);
    out.sideways.push(x.direction?.sideways ?? null);
    out.volPercentile.push(x.volatility?.percentile ?? null);
    out.volExpected.push(x.volatility?.expected ?? null);
    out.regime.push(x.regime?.label ?? null);
    out.regimeConfidence.push(x.regime?.confidence ?? null);
  }
  return out;
}

export function openPositions(j: Journal): PositionRow[] {
  const rows = j.all<{ symbol: string; side: string | null; qty: number; entry_price: number | null; ts_ms: number }>(
    'SELECT symbol, side, qty, entry_price, ts_ms FROM position_changes WHERE id IN (SELECT MAX(id) FROM position_changes GROUP BY symbol) ORDER BY symbol',
  );
  return rows.map((p) => {
    const t = j.all<{ stop_loss_pct: number; take_profit_pct: number }>(
      "SELECT stop_loss_pct, take_profit_pct FROM targets WHERE symbol = ? AND kind = 'decision' AND side != 'flat' ORDER BY candle_ts DESC LIMIT 1", p.symbol,
    )[0];
    const s = p.side === 'long' ? 1 : p.side === 'short' ? -1 : 0;
    const ok = s !== 0 && p.entry_price !== null && t !== undefined;
    return {
      symbol: p.symbol, side: p.side, qty: p.qty, entryPrice: p.entry_price, sinceMs: p.ts_ms,
      stopLossPct: ok && t.stop_loss_pct > 0 ? t.stop_loss_pct : null,
      takeProfitPct: ok && t.take_profit_pct > 0 ? t.take_profit_pct : null,
      stopLossPrice: ok && t.stop_loss_pct > 0 ? p.entry_price! * (1 - s * t.stop_loss_pct) : null,
      takeProfitPrice: ok && t.take_profit_pct > 0 ? p.entry_price! * (1 + s * t.take_profit_pct) : null,
    };
  });
}

export function latencyHistograms(j: Journal): LatencyHistogram[] {
  const bounds = LATENCY_BUCKETS_MS;
  const sums = bounds.map((b, i) => `SUM(ms <= ${b}${i ? ` AND ms > ${bounds[i - 1]}` : ''})`).join(', ');
  const rows = j.all<Record<string, number | string>>(
    `SELECT stage, COUNT(*) AS n, ${sums}, SUM(ms > ${bounds[bounds.length - 1]}) AS over FROM latencies WHERE id > (SELECT COALESCE(MAX(id), 0) FROM latencies) - ? GROUP BY stage ORDER BY stage`,
    LATENCY_WINDOW_ROWS,
  );
  return rows.map((r) => {
    const vals = Object.values(r);
    return { stage: r.stage as string, n: r.n as number, bounds, counts: vals.slice(2).map((v) => Number(v ?? 0)) };
  });
}

export interface JournalSummary {
  readonly counts: Record<string, number>;
  readonly symbols: string[];
  readonly killed: { symbol: string; reason: string }[];
  readonly lastCandleMs: number | null;
}

export function summary(j: Journal): JournalSummary {
  const symbols = symbolsOf(j);
  const killed: { symbol: string; reason: string }[] = [];
  for (const s of symbols) {
    const snap = j.all<{ value: string }>('SELECT value FROM meta WHERE key = ?', `risk-gate:${s}`)[0];
    try {
      const reason = snap ? (JSON.parse(snap.value) as { killReason?: string | null }).killReason : null;
      if (reason) killed.push({ symbol: s, reason });
    } catch {
      /* unreadable snapshot: not shown as killed */
    }
  }
  const last = j.all<{ ts: number | null }>('SELECT MAX(ts_ms) AS ts FROM candles')[0]?.ts ?? null;
  return { counts: j.counts(), symbols, killed, lastCandleMs: last };
}
