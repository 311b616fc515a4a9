import { sharpeWithInterval } from '@task-agnostic/core';
import type { BacktestResult } from './engine.js';
import type { BacktestMetrics } from './metrics.js';
import type { MonthlyReturn } from './monthly.js';
import { GAP_RULE, describeIntrabar } from './report-json.js';
import { escapeXml, lineChart } from './svg-chart.js';
import type { ChartMarker } from './svg-chart.js';

export interface ReportOptions {
  readonly title?: string;
  /** At most this many trades are marked on the price chart (evenly picked); default 600. */
  readonly maxMarkers?: number;
  /** Trades listed in the table (the most recent); default 100. */
  readonly maxTradeRows?: number;
}

const pct = (v: number, d = 2) => (Number.isFinite(v) ? `${(v * 100).toFixed(d)}%` : v > 0 ? '∞' : '-∞');
const num = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : v > 0 ? '∞' : '-∞');
const money = (v: number) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 }) : String(v));
const date = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

function drawdownSeries(e: ArrayLike<number>, initial: number): Float64Array {
  const out = new Float64Array(e.length);
  let peak = initial;
  for (let i = 0; i < e.length; i++) {
    if (e[i]! > peak) peak = e[i]!;
    out[i] = e[i]! / peak - 1;
  }
  return out;
}

/** "1.23 [-0.40, 2.86]": the Sharpe ratio with its 95% interval (Lo 2002, Newey-West standard error). */
function sharpeCell(equity: Float64Array, initial: number, barsPerYear: number, sharpe: number): string {
  const r = new Float64Array(equity.length);
  let prev = initial;
  for (let i = 0; i < equity.length; i++) {
    r[i] = prev > 0 ? equity[i]! / prev - 1 : 0;
    prev = equity[i]!;
  }
  const s = sharpeWithInterval(r, { periodsPerYear: barsPerYear, autocorrelationAdjusted: false });
  return Number.isFinite(s.lo) ? `${num(sharpe)} [${num(s.lo)}, ${num(s.hi)}]` : num(sharpe);
}

function metricsTable(r: BacktestResult): string {
  const m = r.metrics;
  const b = r.benchmarkMetrics;
  const barMs = r.barMs;
  const durDays = (bars: number) => `${bars} bars (${((bars * barMs) / 86_400_000).toFixed(1)} d)`;
  const short = m.bars < r.barsPerYear ? ` <small>(extrapolated from ${((m.bars / r.barsPerYear) * 365).toFixed(0)} days)</small>` : '';
  const few = m.trades < 10 ? ` <small>(${m.trades} trades: too few to judge)</small>` : ` <small>(${m.trades} trades)</small>`;
  const rows: [string, string, string][] = [
    ['Total return', pct(m.totalReturn), pct(b.totalReturn)],
    [`Annualised return${short}`, pct(m.annualizedReturn), pct(b.annualizedReturn)],
    ['Annualised volatility', pct(m.annualizedVolatility), pct(b.annualizedVolatility)],
    [`Sharpe ratio [95% CI]${few}`, sharpeCell(r.equity, r.initialEquity, r.barsPerYear, m.sharpe), sharpeCell(r.benchmark, r.initialEquity, r.barsPerYear, b.sharpe)],
    ['Sortino ratio', num(m.sortino), num(b.sortino)],
    ['Max drawdown', pct(m.maxDrawdown), pct(b.maxDrawdown)],
    ['Max drawdown duration', durDays(m.maxDrawdownDurationBars), durDays(b.maxDrawdownDurationBars)],
    ['Calmar ratio', num(m.calmar), num(b.calmar)],
    ['Trades', String(m.trades), '-'],
    ['Win rate', pct(m.winRate, 1), '-'],
    ['Profit factor', num(m.profitFactor), '-'],
    ['Average trade', `${money(m.averageTradePnl)} (${pct(m.averageTradeReturn, 3)})`, '-'],
    ['Exposure', pct(m.exposure, 1), pct(b.exposure, 1)],
    ['Turnover (traded notional / mean equity)', num(m.turnover, 1), '-'],
    ['Fees paid', money(m.feesPaid), '0.00'],
    ['Funding paid', money(m.fundingPaid), '0.00'],
    ['Final equity', money(m.finalEquity), money(b.finalEquity)],
  ];
  return `<table class="metrics"><thead><tr><th>Metric</th><th>Strategy</th><th>Buy &amp; hold</th></tr></thead><tbody>${rows
    .map(([k, a, c]) => `<tr><td>${k}</td><td>${a}</td><td>${c}</td></tr>`)
    .join('')}</tbody></table>`;
}

function cellColor(r: number): string {
  const a = Math.min(1, Math.abs(r) / 0.2);
  return r >= 0 ? `rgba(22,163,74,${(0.12 + 0.6 * a).toFixed(2)})` : `rgba(220,38,38,${(0.12 + 0.6 * a).toFixed(2)})`;
}

function monthlyTable(months: readonly MonthlyReturn[], caption: string): string {
  const years = [...new Set(months.map((m) => m.year))];
  const head = `<tr><th>Year</th>${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((m) => `<th>${m}</th>`).join('')}<th>Year</th></tr>`;
  const body = years
    .map((y) => {
      const ms = months.filter((m) => m.year === y);
      const cells = Array.from({ length: 12 }, (_, i) => {
        const m = ms.find((x) => x.month === i + 1);
        return m ? `<td style="background:${cellColor(m.return)}">${pct(m.return, 1)}</td>` : '<td></td>';
      });
      const yr = ms.reduce((a, m) => a * (1 + m.return), 1) - 1;
      return `<tr><th>${y}</th>${cells.join('')}<td style="background:${cellColor(yr)}"><b>${pct(yr, 1)}</b></td></tr>`;
    })
    .join('');
  return `<table class="monthly"><caption>${escapeXml(caption)}</caption><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

/** A self-contained HTML report: inline SVG and CSS only; no scripts, fonts or images are fetched. */
export function renderReportHtml(r: BacktestResult, options: ReportOptions = {}): string {
  const c = r.candles;
  const n = c.length;
  const title = options.title ?? `Backtest ${r.symbol}`;
  const cfg = r.config;
  const trades = r.trades;
  const maxMarkers = options.maxMarkers ?? 600;
  const markers: ChartMarker[] = [];
  const stride = trades.length > maxMarkers / 2 ? trades.length / (maxMarkers / 2) : 1;
  for (let k = 0; k < trades.length; k += stride) {
    const t = trades[Math.floor(k)]!;
    const long = t.side === 'long';
    markers.push({ tsMs: t.entryMs, price: t.entryPrice, shape: long ? 'up' : 'down', color: long ? '#16a34a' : '#dc2626', title: `${t.side} entry ${date(t.entryMs)} @ ${t.entryPrice.toPrecision(8)}` });
    markers.push({ tsMs: t.exitMs, price: t.exitPrice, shape: 'dot', color: t.pnl >= 0 ? '#2563eb' : '#111827', title: `exit (${t.exitReason}) ${date(t.exitMs)} @ ${t.exitPrice.toPrecision(8)}, pnl ${money(t.pnl)}` });
  }
  const shownTrades = Math.ceil(trades.length / stride);
  const equityChart = lineChart({
    title: 'Equity vs buy & hold',
    tsMs: c.tsMs,
    series: [
      { label: 'Buy & hold', values: r.benchmark, color: '#9ca3af' },
      { label: 'Strategy', values: r.equity, color: '#2563eb' },
    ],
    yFormat: (v) => money(v).replace(/\.00$/, ''),
  });
  const ddChart = lineChart({
    title: 'Drawdown',
    tsMs: c.tsMs,
    series: [
      { label: 'Buy & hold', values: drawdownSeries(r.benchmark, r.initialEquity), color: '#9ca3af' },
      { label: 'Strategy', values: drawdownSeries(r.equity, r.initialEquity), color: '#dc2626', area: true },
    ],
    includeZero: true,
    height: 220,
    yFormat: (v) => pct(v, 0),
  });
  const priceChart = lineChart({
    title: `Price and trades (${shownTrades} of ${trades.length} trades marked: ▲ long entry, ▼ short entry, ● exit: blue win, black loss)`,
    tsMs: c.tsMs,
    series: [{ label: `${r.symbol} close`, values: c.close, color: '#374151' }],
    markers,
    height: 340,
    yFormat: (v) => (Math.abs(v) >= 1000 ? v.toLocaleString('en-US', { maximumFractionDigits: 0 }) : v.toPrecision(5)),
  });
  const reasons = new Map<string, number>();
  for (const t of trades) reasons.set(t.exitReason, (reasons.get(t.exitReason) ?? 0) + 1);
  const maxRows = options.maxTradeRows ?? 100;
  const recent = trades.slice(Math.max(0, trades.length - maxRows));
  const tradeRows = recent
    .map(
      (t) =>
        `<tr><td>${t.side}</td><td>${date(t.entryMs)}</td><td>${t.entryPrice.toPrecision(8)}</td><td>${date(t.exitMs)}</td><td>${t.exitPrice.toPrecision(8)}</td><td>${t.exitReason}</td><td>${t.qty.toPrecision(6)}</td><td class="${t.pnl >= 0 ? 'pos' : 'neg'}">${money(t.pnl)}</td><td>${pct(t.returnPct, 3)}</td><td>${money(t.fees)}</td><td>${money(t.funding)}</td></tr>`,
    )
    .join('');
  const slip = cfg.slippage.model === 'fixed' ? `fixed ${pct(cfg.slippage.rate, 3)}` : cfg.slippage.model === 'spread' ? `half of a ${pct(cfg.slippage.spreadPct, 3)} spread` : `${cfg.slippage.rangeMultiple} x last bar range (min ${pct(cfg.slippage.minRate, 3)})`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#1f2937;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.sub{color:#6b7280;font-size:13px;margin-bottom:12px}
.box{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:12px;margin-bottom:16px;overflow-x:auto}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #e5e7eb;padding:3px 7px;text-align:right}
th{background:#f3f4f6}table.metrics td:first-child{text-align:left}caption{text-align:left;font-weight:bold;padding:4px 0}
.note{font-size:13px;background:#fffbeb;border:1px solid #fcd34d;border-radius:6px;padding:8px 12px;margin-bottom:8px}
.pos{color:#15803d}.neg{color:#b91c1c}.flex{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}
</style></head><body>
<h1>${escapeXml(title)}</h1>
<div class="sub">${escapeXml(r.symbol)} · ${date(c.tsMs[0]!)} to ${date(c.tsMs[n - 1]!)} UTC · ${n} bars of ${(r.barMs / 60_000).toFixed(0)} min · initial equity ${money(r.initialEquity)} ${escapeXml(cfg.currency)}<br>
fills: ${r.fillTiming === 'next_open' ? 'decided at the close of bar t, filled at the open of bar t+1' : 'filled at the close of the deciding bar (same_close)'} · fees taker ${pct(cfg.takerFeeRate, 3)} / maker ${pct(cfg.makerFeeRate, 3)} · slippage ${slip} · leverage ${cfg.leverage}x isolated, maintenance margin ${pct(cfg.maintenanceMarginRate, 2)}</div>
<div class="note"><b>Intrabar rule:</b> ${escapeXml(describeIntrabar(r.intrabar))}</div>
<div class="note"><b>Gaps:</b> ${escapeXml(GAP_RULE)} Liquidations: ${r.liquidations}. Targets cut to the margin limit: ${r.clippedTargets}.</div>
<div class="flex"><div class="box">${metricsTable(r)}</div>
<div class="box"><table><caption>Exits by reason</caption><tbody>${[...reasons].map(([k, v]) => `<tr><td style="text-align:left">${k}</td><td>${v}</td></tr>`).join('') || '<tr><td>no trades</td></tr>'}</tbody></table></div></div>
<div class="box">${equityChart}</div>
<div class="box">${ddChart}</div>
<div class="box">${priceChart}</div>
<h2>Monthly returns</h2>
<div class="box">${monthlyTable(r.monthly, 'Strategy')}</div>
<div class="box">${monthlyTable(r.benchmarkMonthly, 'Buy & hold')}</div>
<h2>Trades (last ${recent.length} of ${trades.length})</h2>
<div class="box"><table><thead><tr><th>Side</th><th>Entry (UTC)</th><th>Entry price</th><th>Exit (UTC)</th><th>Exit price</th><th>Reason</th><th>Qty</th><th>PnL</th><th>Return</th><th>Fees</th><th>Funding</th></tr></thead><tbody>${tradeRows}</tbody></table></div>
</body></html>
`;
}
