/**
 * The sweep's HTML report: the results table, a parallel-coordinates plot (one vertical axis per
 * parameter and one for the objective, one line per trial, coloured by the objective, log axes
 * for log ranges), each parameter's importance, and the best trial's validation and test figures
 * with the deflated Sharpe. One static file, inline SVG, no scripts.
 */
import { fmt } from './format.js';
import type { SweepSummary } from './sweep.js';
import { encode, type SearchSpace } from './sweep-space.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Blue (good) to red (poor) for t in [0, 1], 0 = best. */
function colour(t: number): string {
  const a = [37, 99, 235];
  const b = [220, 38, 38];
  return `rgb(${a.map((x, i) => Math.round(x + (b[i]! - x) * t)).join(',')})`;
}

export function parallelCoordinatesSvg(s: SweepSummary, space: SearchSpace): string {
  const axes = [...s.params, s.objective];
  const ok = s.trials.filter((t) => t.objective !== null);
  const W = Math.max(520, 190 * axes.length);
  const H = 320;
  const top = 40;
  const bottom = 40;
  const left = 110;
  const step = axes.length > 1 ? (W - 2 * left) / (axes.length - 1) : 0;
  const values = ok.map((t) => t.objective!);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const yOf = (u: number) => top + (1 - Math.min(1, Math.max(0, u))) * (H - top - bottom);
  const objU = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  const lines = ok
    .map((t) => {
      const pts = axes.map((a, j) => {
        const u = j < s.params.length ? encode(space.params[a]!, t.params[a]!) : objU(t.objective!);
        return `${(left + j * step).toFixed(1)},${yOf(u).toFixed(1)}`;
      });
      const q = hi > lo ? (t.objective! - lo) / (hi - lo) : 0;
      const goodness = s.direction === 'min' ? q : 1 - q;
      const isBest = s.best?.index === t.index;
      return `<polyline points="${pts.join(' ')}" fill="none" stroke="${colour(goodness)}" stroke-width="${isBest ? 3 : 1.3}" opacity="${isBest ? 1 : 0.65}"><title>trial ${t.index}: ${esc(s.objective)} ${fmt(t.objective)}</title></polyline>`;
    })
    .join('');
  const axisSvg = axes
    .map((a, j) => {
      const x = left + j * step;
      const p = j < s.params.length ? space.params[a]! : null;
      const [loLabel, hiLabel] = p ? (p.type === 'choice' ? [String(p.values[0]), String(p.values[p.values.length - 1])] : [fmt(p.low, 4), fmt(p.high, 4)]) : [fmt(lo), fmt(hi)];
      const steps = p?.type === 'int' && !p.log ? Math.floor((p.high - p.low) / p.step) + 1 : 0;
      const tickValues = p?.type === 'choice' ? p.values : p?.type === 'int' && !p.log && steps <= 12 ? Array.from({ length: steps }, (_, i) => p.low + i * p.step) : null;
      const ticks = p && tickValues ? tickValues.map((v) => `<text x="${x + 4}" y="${yOf(encode(p, v)) + 4}" font-size="10">${esc(String(v))}</text>`).join('') : `<text x="${x + 4}" y="${H - bottom + 4}" font-size="10">${esc(loLabel)}</text><text x="${x + 4}" y="${top + 4}" font-size="10">${esc(hiLabel)}</text>`;
      return `<line x1="${x}" y1="${top}" x2="${x}" y2="${H - bottom}" stroke="#374151"/><text x="${x}" y="${top - 14}" font-size="11" text-anchor="middle" font-weight="600">${esc(a)}${p && p.type !== 'choice' && p.log ? ' (log)' : ''}</text>${ticks}`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="parallel coordinates of the trials">${lines}${axisSvg}</svg>`;
}

export function renderSweepReport(s: SweepSummary, space: SearchSpace): string {
  const b = s.best;
  const d = b?.deflatedSharpe ?? null;
  const rows = s.trials
    .map((t) => {
      const x = t as typeof t & { val?: { sharpe: number | null }; epochs?: number };
      return `<tr${s.best?.index === t.index ? ' class="best"' : ''}><td>${t.index}</td><td>${t.status === 'ok' ? 'ok' : `failed: ${esc(t.error ?? '')}`}</td><td>${fmt(t.objective)}</td>${s.params.map((p) => `<td>${esc(typeof t.params[p] === 'number' ? (Number.isInteger(t.params[p]) ? String(t.params[p]) : fmt(t.params[p] as number)) : String(t.params[p]))}</td>`).join('')}<td>${fmt(x.val?.sharpe, 2)}</td><td>${x.epochs ?? '-'}</td><td>${t.seconds.toFixed(1)}</td><td>${t.cpuSeconds.toFixed(1)}</td><td>${t.attempts}</td></tr>`;
    })
    .join('');
  const imp = s.importance
    .map((i) => `<tr><td>${esc(i.name)}</td><td><svg width="200" height="12"><rect width="${(200 * i.share).toFixed(1)}" height="12" fill="#2563eb"/></svg></td><td>${(i.share * 100).toFixed(1)}%</td><td>${fmt(i.etaSquared, 3)}</td></tr>`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sweep: ${esc(s.objective)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#1f2937;background:#fafafa;max-width:1160px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.sub{color:#6b7280;font-size:13px}table{border-collapse:collapse;margin:8px 0;font-size:13px;background:#fff}
td,th{border:1px solid #e5e7eb;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}tr.best td{background:#eff6ff;font-weight:600}
svg{display:block;max-width:100%;height:auto}.small{font-size:12px;text-align:left}
</style></head><body>
<h1>Sweep: ${esc(s.strategy)} search, ${s.finished} trials</h1>
<div class="sub">Objective ${esc(s.objective)} (${s.direction === 'min' ? 'lower' : 'higher'} is better), on validation rows only; ${s.failed} failed; seed ${s.seed}.</div>
<h2>Best trial</h2>
${
  b
    ? `<table><tr><th>trial</th><td>${b.index}</td></tr><tr><th>${esc(s.objective)} (validation)</th><td>${fmt(b.objective)}</td></tr>
${Object.entries(b.params).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'number' ? (Number.isInteger(v) ? String(v) : fmt(v)) : String(v))}</td></tr>`).join('')}
<tr><th>validation Sharpe (annualised)</th><td>${fmt(b.val.sharpe, 2)} over ${b.val.bars} bars, ${b.val.trades} trades</td></tr>
<tr><th>test Sharpe (annualised; never used to choose)</th><td>${fmt(b.test.sharpe, 2)} over ${b.test.bars} bars, ${b.test.trades} trades</td></tr>
<tr><th>deflated Sharpe (test)</th><td>${d ? `${fmt(d.dsr, 3)} (benchmark ${fmt(d.benchmark, 4)} per bar for ${d.trials} trials; PSR vs 0 ${fmt(d.psr, 3)})` : 'n/a'}</td></tr>
<tr><th>test metrics (pooled test windows)</th><td class="small">${Object.entries(b.test.metrics).filter(([k]) => !/confusion/.test(k)).map(([k, v]) => `${esc(k)} ${Number.isInteger(v) ? v : fmt(v)}`).join('<br>')}</td></tr>
</table>
<p class="sub">The deflated Sharpe (Bailey and Lopez de Prado 2014) is the probability that the best trial's true Sharpe ratio on the test range exceeds what the best of ${d?.trials ?? s.finished} unskilled trials would show by luck, with the variance of the trials' validation Sharpe ratios as their spread.</p>`
    : '<p class="sub">No trial finished with a value of the objective.</p>'
}
<h2>Parallel coordinates</h2>
<p class="sub">One line per finished trial; blue = better ${esc(s.objective)}, red = worse; the thick line is the best trial.</p>
${parallelCoordinatesSvg(s, space)}
<h2>Parameter importance</h2>
<p class="sub">The share of the objective's variance each parameter explains alone (eta squared of a one-way ANOVA; numbers binned by rank). Marginal and noisy with few trials.</p>
<table><tr><th>parameter</th><th></th><th>share</th><th>eta squared</th></tr>${imp}</table>
<h2>Trials</h2>
<table><tr><th>trial</th><th>status</th><th>${esc(s.objective)}</th>${s.params.map((p) => `<th>${esc(p)}</th>`).join('')}<th>val Sharpe</th><th>epochs</th><th>seconds</th><th>cpu s</th><th>starts</th></tr>${rows}</table>
</body></html>
`;
}
