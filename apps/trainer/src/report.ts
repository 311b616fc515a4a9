/**
 * `trainer report`: one self-contained HTML page (inline SVG, nothing fetched) with the training
 * curves (per-task validation losses and task weights by epoch), the evaluation tables (every task
 * against its naive baselines and its single-task model), confusion matrices, transfer, consistency,
 * representation quality, and each symbol's backtest against buy-and-hold.
 */
import { lineChart, escapeXml, type BacktestMetrics, type ComparisonRow } from '@task-agnostic/backtest';
import type { Evaluation } from './evaluate-run.js';
import { annualisedNote, type BacktestSharpe } from './intervals.js';
import type { CalibrationReport } from '@task-agnostic/training';
import type { PolicyFitReport } from './decision-policy-run.js';
import type { DeflatedSharpeReport } from './deflation.js';
import { calibrationSection, policySection } from './report-decisions.js';
import { splitMixSection } from './report-split-mix.js';
import type { TaskClassMix } from './split-mix.js';

export interface EpochLine {
  readonly epoch: number;
  readonly trainLoss: Record<string, number>;
  readonly valLoss: Record<string, number>;
  readonly weights: Record<string, number>;
  readonly lr?: number;
  readonly timeMs?: number;
}

export interface BacktestSummary {
  readonly symbol: string;
  readonly from: string;
  readonly to: string;
  readonly metrics: BacktestMetrics;
  readonly benchmarkMetrics: BacktestMetrics;
  readonly tsMs: readonly number[];
  readonly equity: readonly number[];
  readonly benchmark: readonly number[];
  readonly decisions: Record<string, number>;
  readonly topReasons: readonly { reason: string; count: number }[];
  readonly intrabar: string;
  /** File name of the full backtest report, beside report.html. */
  readonly htmlFile: string;
  /** Sharpe ratios with intervals and trades, and strategy - buy & hold (absent in older runs). */
  readonly sharpe?: BacktestSharpe;
  /** The strategy's Sharpe deflated for the threshold candidates tried on validation (absent in older runs; null: no record of the trials). */
  readonly deflated?: DeflatedSharpeReport | null;
  readonly barsPerYear?: number;
  /** The model's strategy and the naive ones on the same bars (equity downsampled like tsMs). */
  readonly strategies?: readonly (ComparisonRow & { readonly equity: readonly number[] })[];
}

export interface RunReportInput {
  readonly name: string;
  readonly createdAt: string;
  readonly backend: string;
  readonly config: unknown;
  readonly data: readonly { symbol: string; source: string; rows: number; from: string; to: string }[];
  readonly samples: { train: number; val: number; test: number };
  readonly paramCount: number;
  readonly history: readonly EpochLine[];
  readonly evaluation: Evaluation | null;
  readonly backtests: readonly BacktestSummary[];
  /** calibration.json of the run (null when absent). */
  readonly calibration?: CalibrationReport | null;
  /** decision-policy.json's fit report (null when absent). */
  readonly policy?: PolicyFitReport | null;
  /** training.json's class mix of the splits (absent in runs from before it existed). */
  readonly classMix?: readonly TaskClassMix[];
  /** The warning threshold the run used (total variation). */
  readonly classMixWarnTv?: number;
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4b5563'];
const esc = escapeXml;
const f = (v: number | undefined, d = 4): string => (v === undefined || !Number.isFinite(v) ? '-' : Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(d));
const p = (v: number | undefined, d = 2): string => (v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(d)}%`);

function curves(title: string, history: readonly EpochLine[], pick: (e: EpochLine) => Record<string, number>, log = false): string {
  if (history.length === 0) return `<p class="sub">${esc(title)}: no epochs recorded.</p>`;
  const keys = [...new Set(history.flatMap((e) => Object.keys(pick(e))))];
  const epochs = history.map((e) => e.epoch);
  return lineChart({
    title,
    tsMs: epochs,
    series: keys.map((k, i) => ({ label: k, values: history.map((e) => (log ? Math.log10(Math.max(1e-12, pick(e)[k] ?? NaN)) : (pick(e)[k] ?? NaN))), color: COLORS[i % COLORS.length]! })),
    xFormat: (x) => `epoch ${Number.isInteger(x) ? x : x.toFixed(1)}`,
    yFormat: (v) => (log ? `1e${v.toFixed(1)}` : f(v, 3)),
    height: 260,
  }) + legend(keys);
}

function legend(keys: readonly string[]): string {
  return `<div class="legend">${keys.map((k, i) => `<span><i style="background:${COLORS[i % COLORS.length]}"></i>${esc(k)}</span>`).join('')}</div>`;
}

function ivText(x: { estimate: number; lo: number; hi: number } | null | undefined, point?: number): string {
  if (!x) return f(point);
  return `${f(x.estimate)} <span class="sub">[${f(x.lo)}, ${f(x.hi)}]</span>`;
}

function verdict(v: string): string {
  const cls = v.startsWith('better') ? 'pos' : v === 'worse' ? 'neg' : '';
  return `<span class="${cls}">${esc(v)}</span>`;
}

function confusion(task: string, metrics: Record<string, number>): string {
  const cells = Object.entries(metrics).filter(([k]) => k.startsWith('confusion.'));
  if (cells.length === 0) return '';
  const classes = [...new Set(cells.map(([k]) => k.split('.')[1]!))];
  const max = Math.max(1, ...cells.map(([, v]) => v));
  const rows = classes
    .map(
      (a) =>
        `<tr><th>${esc(a)}</th>${classes
          .map((b) => {
            const v = metrics[`confusion.${a}.${b}`] ?? 0;
            const alpha = (0.08 + 0.8 * (v / max)).toFixed(2);
            return `<td style="background:rgba(37,99,235,${alpha});color:${v / max > 0.55 ? '#fff' : '#111'}">${v}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('');
  return `<div class="cm"><h3>${esc(task)}</h3><table><tr><th>true \\ predicted</th>${classes.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>${rows}</table></div>`;
}

function evaluationSection(e: Evaluation): string {
  const rows = e.tasks
    .map((t) => {
      const syms = Object.entries(t.bySymbol);
      return syms
        .map(
          ([sym, b], i) =>
            `<tr>${i === 0 ? `<td rowspan="${syms.length}">${esc(t.task)}</td><td rowspan="${syms.length}">${esc(t.metric)} (${t.higherIsBetter ? 'higher' : 'lower'} is better)</td>` : ''}<td>${esc(sym)}</td><td>${ivText(b.vsBaselineInterval?.model, b.model[t.metric])}</td><td>${b.bestBaseline ? `${ivText(b.vsBaselineInterval?.other, b.bestBaseline.value)} (${esc(b.bestBaseline.name)})` : '-'}</td><td>${ivText(b.vsBaselineInterval?.diff)}</td><td>${verdict(b.vsBaseline)}</td>${
              i === 0
                ? `<td rowspan="${syms.length}">${ivText(t.vsSingleTaskInterval?.model, t.multiTask[t.metric])}</td><td rowspan="${syms.length}">${ivText(t.vsSingleTaskInterval?.other, t.singleTask?.[t.metric])}</td><td rowspan="${syms.length}">${ivText(t.vsSingleTaskInterval?.diff)}<br>${verdict(t.vsSingleTask)}</td>`
                : ''
            }</tr>`,
        )
        .join('');
    })
    .join('');
  const details = e.tasks
    .map((t) => {
      const sym = Object.entries(t.bySymbol)
        .map(([s, v]) => {
          const keys = Object.keys(v.model).filter((k) => !k.startsWith('confusion.') && k !== 'n');
          const head = `<tr><th>${esc(s)}</th>${keys.map((k) => `<th>${esc(k)}</th>`).join('')}</tr>`;
          const model = `<tr><td>model</td>${keys.map((k) => `<td>${f(v.model[k])}</td>`).join('')}</tr>`;
          const base = v.baselines.map((b) => `<tr><td title="${esc(b.description)}">${esc(b.name)}</td>${keys.map((k) => `<td>${f(b.metrics[k])}</td>`).join('')}</tr>`).join('');
          return `<table class="small">${head}${model}${base}</table>`;
        })
        .join('');
      return `<details><summary>${esc(t.task)}: every metric, per symbol, beside each baseline</summary>${sym}</details>`;
    })
    .join('');
  const cms = e.tasks.map((t) => confusion(t.task, t.multiTask)).join('');
  const tr = e.transfer
    ? `<h2>Task transfer: ${esc(e.transfer.task)}</h2><p class="sub">${esc(e.transfer.note)}</p><table><tr><th></th><th>${esc(e.transfer.metric)}</th><th>all metrics</th></tr>
<tr><td>frozen multi-task encoder + new head</td><td>${f(e.transfer.frozenEncoder[e.transfer.metric])}</td><td class="mono">${esc(compact(e.transfer.frozenEncoder))}</td></tr>
<tr><td>trained from scratch (same budget)</td><td>${f(e.transfer.fromScratch[e.transfer.metric])}</td><td class="mono">${esc(compact(e.transfer.fromScratch))}</td></tr></table>`
    : '';
  const c = e.consistency;
  const rep = e.representation
    ? `<h2>Representation quality</h2><p class="sub">Inter/intra-class distance ratio of the test embeddings, classes = ${esc(e.representation.labels)} labels (higher = classes better separated).</p>
<table><tr><th>encoder</th><th>inter-class</th><th>intra-class</th><th>ratio</th></tr>
<tr><td>trained (multi-task)</td><td>${f(e.representation.trained.inter)}</td><td>${f(e.representation.trained.intra)}</td><td>${f(e.representation.trained.ratio)}</td></tr>
<tr><td>untrained (same architecture)</td><td>${f(e.representation.untrained.inter)}</td><td>${f(e.representation.untrained.intra)}</td><td>${f(e.representation.untrained.ratio)}</td></tr></table>`
    : '';
  const gt = e.regimeTruth;
  const truth = gt
    ? `<h2>Regime head vs the generator's true regimes</h2><p class="sub">Synthetic data only: the predicted regime at t against the most frequent TRUE regime of bars t+1..t+${gt.horizon} (not against the labels), ${gt.n} overlapping windows covering ${gt.spells} regime spells. 95% intervals: stationary block bootstrap (honours the overlap) and Wilson (treats windows as independent: optimistic).</p>
<table><tr><th>symbol</th><th>test windows</th><th>accuracy (forward regime)</th><th>accuracy (regime at t)</th><th>oracle (forward regime)</th></tr>${Object.entries(gt.bySymbol)
        .map(([s, b]) => `<tr><td>${esc(s)}</td><td>${b.n}</td><td>${p(b.accuracy)}</td><td>${p(b.accuracyNow)}</td><td>${b.oracleAccuracy !== undefined ? p(b.oracleAccuracy) : '-'}</td></tr>`)
        .join('')}<tr><td><b>all</b></td><td>${gt.n}</td><td><b>${p(gt.accuracy)}</b> (bootstrap ${gt.blockInterval ? `${p(gt.blockInterval.lo)}-${p(gt.blockInterval.hi)}` : '-'}; Wilson ${p(gt.interval[0])}-${p(gt.interval[1])})</td><td>${p(gt.accuracyNow)}</td><td>${gt.oracleAccuracy !== undefined ? p(gt.oracleAccuracy) : '-'}</td></tr></table><p class="sub">Oracle: core's filterSyntheticRegimes, a causal filter with the generator's own parameters (no future): what any model reading prices can hope for.</p>`
    : '';
  return `<h2>Evaluation on the test range (${e.testSamples} windows)</h2>
<p class="sub">Per symbol, the multi-task model vs the task's best naive baseline on the same test rows; and, over the pooled test rows, the multi-task model vs a single-task model with the same encoder and budget (does sharing help?). Every figure has its 95% stationary-block-bootstrap interval (Politis-Romano, Politis-White block length; both sides resampled on the same windows); "better" only when the interval of the difference excludes 0, "too few to judge" under 30 windows.</p>
<table><tr><th>task</th><th>metric</th><th>symbol</th><th>model [95% CI]</th><th>best baseline [95% CI]</th><th>model - baseline [95% CI]</th><th>vs baseline</th><th>multi-task (pooled) [95% CI]</th><th>single-task (pooled) [95% CI]</th><th>multi - single [95% CI]</th></tr>${rows}</table>
${details}
<h2>Confusion matrices (multi-task model, pooled test rows)</h2><div class="cms">${cms}</div>
${tr}
${truth}
<h2>Consistency</h2><p>${esc(c.fusion)} fusion over ${c.decisions} test windows: the tasks agree in <b>${p(c.score)}</b> of the decisions; mean agreement ${f(c.meanAgreement, 3)}; actions ${esc(compact(c.actions))}.</p>
${rep}`;
}

function compact(m: Record<string, number>): string {
  return Object.entries(m)
    .filter(([k]) => !k.startsWith('confusion.'))
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? String(v) : f(v)}`)
    .join(', ');
}

const STRATEGY_COLORS = ['#2563eb', '#9ca3af', '#16a34a', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#4b5563'];

/** The model's strategy and the naive ones: one equity chart, one table (Sharpe with its interval). */
function strategiesSection(b: BacktestSummary): string {
  const s = b.strategies;
  if (!s?.length) return '';
  const chart = lineChart({
    title: '',
    tsMs: b.tsMs,
    series: s.map((x, i) => ({ label: x.name, values: x.equity, color: STRATEGY_COLORS[i % STRATEGY_COLORS.length]! })),
    height: 260,
    yFormat: (v) => v.toFixed(0),
  });
  const level = s.find((x) => x.sharpeInterval)?.sharpeInterval?.level ?? 0.9;
  const rows = s
    .map((x) => {
      const ci = x.sharpeInterval ? ` [${f(x.sharpeInterval.lo, 2)}, ${f(x.sharpeInterval.hi, 2)}]` : '';
      return `<tr><td>${esc(x.name)}</td><td>${p(x.totalReturn)}</td><td>${f(x.sharpe, 2)}${ci}</td><td>${f(x.sortino, 2)}</td><td>${p(x.maxDrawdown)}</td><td>${f(x.turnover, 1)}</td><td>${f(x.feesPaid, 2)}</td><td>${x.trades}</td></tr>`;
    })
    .join('');
  return `<h3>${esc(b.symbol)}: the model's strategy and the naive strategies (same engine, fees and slippage)</h3>${chart}<table><tr><th>strategy</th><th>return</th><th>Sharpe [${(level * 100).toFixed(0)}% CI]</th><th>Sortino</th><th>max drawdown</th><th>turnover</th><th>fees paid</th><th>trades</th></tr>${rows}</table>`;
}

function backtestSection(b: BacktestSummary): string {
  const m = b.metrics;
  const h = b.benchmarkMetrics;
  const row = (label: string, a: string, c: string) => `<tr><td>${label}</td><td>${a}</td><td>${c}</td></tr>`;
  const ann = (v: number, bars: number): string => (b.barsPerYear ? esc(annualisedNote(v, bars, b.barsPerYear)) : p(v));
  const chart = lineChart({
    title: `${b.symbol}: equity vs buy & hold`,
    tsMs: b.tsMs,
    series: [
      { label: 'Buy & hold', values: b.benchmark, color: '#9ca3af' },
      { label: 'Strategy', values: b.equity, color: '#2563eb' },
    ],
    height: 260,
    yFormat: (v) => v.toFixed(0),
  });
  return `<h3>${esc(b.symbol)} (${esc(b.from)} .. ${esc(b.to)})</h3>${chart}
<table><tr><th></th><th>strategy</th><th>buy &amp; hold</th></tr>
${row('total return', p(m.totalReturn), p(h.totalReturn))}
${row('annualised return', ann(m.annualizedReturn, m.bars), ann(h.annualizedReturn, h.bars))}
${b.sharpe ? row('Sharpe [95% CI]', esc(b.sharpe.sharpe.text), esc(b.sharpe.benchmarkSharpe.text)) : row('Sharpe (no interval: re-run the backtest)', f(m.sharpe, 2), f(h.sharpe, 2))}
${b.sharpe ? row('Sharpe: strategy - buy &amp; hold [95% CI]', `${f(b.sharpe.vsBenchmark.diff.estimate, 2)} [${f(b.sharpe.vsBenchmark.diff.lo, 2)}, ${f(b.sharpe.vsBenchmark.diff.hi, 2)}]: ${verdict(b.sharpe.vsBenchmark.verdictText)}`, '-') : ''}
${b.deflated ? row(b.deflated.trials === 1 ? 'deflated Sharpe (source thresholds: one trial)' : `deflated Sharpe (${b.deflated.trials} threshold candidates tried on validation)`, esc(b.deflated.text), '-') : ''}
${row('Sortino', f(m.sortino, 2), f(h.sortino, 2))}
${row('max drawdown', p(m.maxDrawdown), p(h.maxDrawdown))}
${row('trades / win rate', `${m.trades} / ${p(m.winRate, 1)}`, '-')}
${row('profit factor', f(m.profitFactor, 2), '-')}
${row('exposure', p(m.exposure, 1), p(h.exposure, 1))}
${row('turnover', f(m.turnover, 2), '-')}
${row('fees paid', f(m.feesPaid, 2), '-')}</table>
${strategiesSection(b)}
<p class="sub">Decisions before the risk gate: ${esc(compact(b.decisions))}. Intrabar rule: ${esc(b.intrabar)}. ${b.topReasons.length ? `Most frequent gate reasons: ${b.topReasons.map((r) => `${esc(r.reason)} (${r.count})`).join('; ')}.` : ''} Full report: <a href="${esc(b.htmlFile)}">${esc(b.htmlFile)}</a>.</p>`;
}

export function renderRunReport(r: RunReportInput): string {
  const last = r.history.at(-1);
  const totalMs = r.history.reduce((a, e) => a + (e.timeMs ?? 0), 0);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.name)}: task-agnostic trading run</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#1f2937;background:#fafafa;max-width:1160px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}h3{font-size:14px;margin:16px 0 6px}
.sub{color:#6b7280;font-size:13px}table{border-collapse:collapse;margin:8px 0;font-size:13px;background:#fff}
td,th{border:1px solid #e5e7eb;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.small{font-size:12px}.pos{color:#15803d;font-weight:600}.neg{color:#b91c1c;font-weight:600}.mono{font-family:ui-monospace,monospace;font-size:11px;text-align:left}
.legend{font-size:12px;margin:2px 0 10px 72px}.legend span{margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.cms{display:flex;flex-wrap:wrap;gap:18px}details{margin:6px 0;font-size:13px}svg{display:block;max-width:100%;height:auto}
</style></head><body>
<h1>${esc(r.name)}</h1>
<div class="sub">Created ${esc(r.createdAt)} · tfjs backend ${esc(r.backend)} · ${r.paramCount.toLocaleString('en-US')} parameters · samples train ${r.samples.train}, validation ${r.samples.val}, test ${r.samples.test}</div>
<h2>Data</h2>
<table><tr><th>symbol</th><th>source</th><th>candles</th><th>from</th><th>to</th></tr>${r.data.map((d) => `<tr><td>${esc(d.symbol)}</td><td class="mono">${esc(d.source)}</td><td>${d.rows}</td><td>${esc(d.from)}</td><td>${esc(d.to)}</td></tr>`).join('')}</table>
${splitMixSection(r.classMix, r.classMixWarnTv)}
<h2>Training</h2>
<p class="sub">${r.history.length} epochs in ${(totalMs / 1000).toFixed(1)} s${last ? `; last epoch validation loss ${esc(compact(last.valLoss))}` : ''}.</p>
${curves('Validation loss per task', r.history, (e) => e.valLoss)}
${curves('Training loss per task', r.history, (e) => e.trainLoss)}
${curves('Task weights (harmoniser)', r.history, (e) => e.weights)}
${r.evaluation ? evaluationSection(r.evaluation) : '<h2>Evaluation</h2><p class="sub">Not run.</p>'}
${calibrationSection(r.calibration ?? null)}
${policySection(r.policy ?? null)}
<h2>Backtest on the test range</h2>
<p class="sub">Model -> ${esc(String((r.config as { fusion?: { method?: string } }).fusion?.method ?? 'consistency'))} fusion -> seven-layer risk gate -> the backtest engine (fees 0.1%, slippage 0.05% unless configured), each symbol on its own account.</p>
${r.backtests.map(backtestSection).join('') || '<p class="sub">Not run.</p>'}
<h2>Configuration</h2><details><summary>the resolved run configuration</summary><pre class="mono">${esc(JSON.stringify(r.config, null, 2))}</pre></details>
</body></html>
`;
}
