/**
 * walk-forward/report.html: per symbol the stitched out-of-sample equity of the model's strategy and
 * the naive ones in one chart, the stitched and per-fold tables (Sharpe with interval and trades,
 * the model's Sharpe minus each naive one with its paired interval and verdict, the deflated
 * Sharpe), and the pooled task comparisons. Self-contained: no scripts, nothing fetched.
 */
import { escapeXml as esc, lineChart } from '@task-agnostic/backtest';
import { fmtInterval } from './intervals.js';
import { BLOCK_HEADER, blockRows, type WalkForwardSummary } from './walk-forward-summary.js';

const COLORS = ['#2563eb', '#9ca3af', '#16a34a', '#d97706', '#7c3aed', '#db2777'];

function table(rows: readonly (readonly string[])[]): string {
  const [head, ...body] = rows;
  const cls = (c: string): string => (c.startsWith('better') ? ' class="pos"' : c === 'worse' ? ' class="neg"' : '');
  return `<table><tr>${head!.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${body.map((r) => `<tr>${r.map((c) => `<td${cls(c)}>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

export function renderWalkForwardHtml(s: WalkForwardSummary, title: string): string {
  const symbols = s.backtests
    .map((b) => {
      const chart = lineChart({
        title: '',
        tsMs: b.equity.tsMs,
        series: b.equity.series.map((x, i) => ({ label: x.name, values: x.values, color: COLORS[i % COLORS.length]! })),
        height: 300,
        yFormat: (v) => v.toFixed(2),
      });
      const rows = [BLOCK_HEADER, ...b.perFold.flatMap((f) => blockRows(`${f.index + 1} (${f.test})`, f)), ...blockRows('all folds, chained', b)];
      return `<h2>${esc(b.symbol)}: stitched out-of-sample equity (growth of 1)</h2>${chart}
<p class="sub">Deflated Sharpe of the model's stitched returns: ${esc(b.deflated.text)}.</p>
${table(rows)}`;
    })
    .join('');
  const taskRows = [
    ['task', 'symbol', 'metric', 'windows', 'model [95% CI]', 'best baseline [95% CI]', 'model - baseline [95% CI]', 'verdict'],
    ...s.tasks.map((t) => {
      const c = t.comparison;
      return [t.task, t.symbol, c?.metric ?? '-', String(c?.n ?? 0), fmtInterval(c?.model), fmtInterval(c?.other), fmtInterval(c?.diff), c?.verdictText ?? 'too few to judge (0 windows)'];
    }),
  ];
  const foldRows = [
    ['fold', 'test period', 'thresholds', 'training s (wall)', 'fold s (wall)', 'fold s (process CPU)'],
    ...s.perFold.map((f) => [String(f.index + 1), f.test, f.thresholds, f.trainSeconds.toFixed(0), f.wallSeconds.toFixed(0), f.cpuSeconds.toFixed(0)]),
  ];
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}: walk-forward</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#1f2937;background:#fafafa;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.sub{color:#6b7280;font-size:13px}table{border-collapse:collapse;margin:8px 0;font-size:13px;background:#fff}
td,th{border:1px solid #e5e7eb;padding:4px 8px;text-align:right}td:first-child,th:first-child,td:nth-child(2){text-align:left}
.pos{color:#15803d;font-weight:600}.neg{color:#b91c1c;font-weight:600}svg{display:block;max-width:100%;height:auto}
</style></head><body>
<h1>${esc(title)}: walk-forward</h1>
<p class="sub">${s.folds} folds of ${esc(s.testLength)}, ${esc(s.retrain)} retraining. Each fold's model is trained on the bars before its test period only (thresholds fitted on its own validation bars) and applied as saved to its test period; the naive strategies run through the same engine, fees and slippage. Sharpe ratios with 95% intervals (Lo 2002) and trades; the model's Sharpe minus each naive strategy's with a paired stationary-bootstrap 95% interval on the same bars; "too few to judge" under 30 bars or 10 trades.</p>
${symbols}
<h2>Tasks: pooled out-of-sample windows against each fold's best naive baseline</h2>
${table(taskRows)}
<h2>Folds</h2>
${table(foldRows)}
</body></html>
`;
}
