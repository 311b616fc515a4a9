/**
 * The report's sections on turning predictions into trades: each head's calibration (fitted on
 * validation) with the test split scored before and after and a reliability diagram (inline SVG),
 * and the decision policy (both fusions' thresholds fitted on validation beside the source values).
 */
import { escapeXml as esc } from '@task-agnostic/backtest';
import type { CalibrationReport, HeadCalibrationReport } from '@task-agnostic/training';
import type { PolicyFitReport } from './decision-policy-run.js';

const f = (v: number | undefined, d = 4): string => (v === undefined || v === null || !Number.isFinite(v) ? '-' : v.toFixed(d));

/** A reliability diagram: accuracy against mean confidence per bin, before (grey) and after (blue), with the diagonal. */
export function reliabilitySvg(h: HeadCalibrationReport): string {
  const t = h.test;
  if (!t?.before.reliability || !t.after.reliability) return '';
  const W = 300;
  const H = 300;
  const pad = 36;
  const x = (v: number) => pad + v * (W - 2 * pad);
  const y = (v: number) => H - pad - v * (H - 2 * pad);
  const dots = (bins: NonNullable<typeof t.before.reliability>['bins'], color: string): string => {
    const pts = bins.filter((b) => b.count > 0 && Number.isFinite(b.confidence) && Number.isFinite(b.accuracy));
    const n = pts.reduce((a, b) => a + b.count, 0) || 1;
    const line = pts.map((b, i) => `${i ? 'L' : 'M'}${x(b.confidence).toFixed(1)},${y(b.accuracy).toFixed(1)}`).join(' ');
    const circles = pts.map((b) => `<circle cx="${x(b.confidence).toFixed(1)}" cy="${y(b.accuracy).toFixed(1)}" r="${(2 + 6 * Math.sqrt(b.count / n)).toFixed(1)}" fill="${color}" fill-opacity="0.6"><title>confidence ${b.confidence.toFixed(3)}, accuracy ${b.accuracy.toFixed(3)}, ${b.count} rows</title></circle>`).join('');
    return `<path d="${line}" fill="none" stroke="${color}" stroke-width="1.5"/>${circles}`;
  };
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((v) => `<text x="${x(v)}" y="${H - pad + 14}" font-size="10" text-anchor="middle">${v}</text><text x="${pad - 6}" y="${y(v) + 3}" font-size="10" text-anchor="end">${v}</text>`)
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="reliability diagram of ${esc(h.task)}">
<rect x="${pad}" y="${pad}" width="${W - 2 * pad}" height="${H - 2 * pad}" fill="#fff" stroke="#d1d5db"/>
<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#9ca3af" stroke-dasharray="4 3"/>
${dots(t.before.reliability.bins, '#9ca3af')}${dots(t.after.reliability.bins, '#2563eb')}${ticks}
<text x="${W / 2}" y="${H - 6}" font-size="11" text-anchor="middle">top-label confidence</text>
<text x="10" y="${H / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 10 ${H / 2})">accuracy</text>
<text x="${pad}" y="${pad - 8}" font-size="12">${esc(h.task)}: ECE ${f(t.before.metrics.ece, 3)} (grey, raw) -> ${f(t.after.metrics.ece, 3)} (blue, calibrated)</text>
</svg>`;
}

export function calibrationSection(c: CalibrationReport | null): string {
  if (!c) return '<h2>Calibration</h2><p class="sub">Not run (calibrate: false, or a run made before calibration; see <code>trainer calibrate</code>).</p>';
  const rows = c.heads
    .map((h) => {
      const b = h.test?.before.metrics ?? {};
      const a = h.test?.after.metrics ?? {};
      const keys = Object.keys(a).filter((k) => ['ece', 'brier', 'nll', 'meanZ2', 'within1Std', 'mse'].includes(k));
      const figs = keys.map((k) => `${esc(k)} ${f(b[k])} -> <b>${f(a[k])}</b>`).join('<br>');
      const by = h.test?.after.eceBySymbol ? Object.entries(h.test.after.eceBySymbol).map(([s, v]) => `${esc(s)} ${f(v, 3)}`).join(', ') : '';
      const ci = h.test?.after.eceInterval;
      const ciText = ci ? `<br><span class="sub">ECE after, ${Math.round(ci.confidence * 100)}% block bootstrap: [${f(ci.lo, 3)}, ${f(ci.hi, 3)}]</span>` : '';
      const sel = h.selection
        ? `<br><span class="sub">held-out NLL (${h.selection.folds} time folds): ${Object.entries(h.selection.heldOutNll).map(([m, v]) => `${esc(m)} ${f(v, 4)}`).join(', ')}; raw ${f(h.selection.identityNll, 4)}</span>`
        : '';
      return `<tr><td>${esc(h.task)}</td><td>${esc(h.method)}${sel}</td><td class="mono">scale ${h.scale.map((v) => f(v, 3)).join(' / ')}<br>shift ${h.shift.map((v) => f(v, 3)).join(' / ')}</td><td>${h.fitRows}</td><td>${f(h.validation.before)} -> ${f(h.validation.after)}</td><td>${figs}${ciText}${by ? `<br><span class="sub">ECE by symbol after: ${by}</span>` : ''}</td><td>${esc(h.warning ?? '')}</td></tr>`;
    })
    .join('');
  const diagrams = c.heads.map(reliabilitySvg).filter(Boolean).join('');
  return `<h2>Calibration (fitted on validation, scored on test)</h2>
<p class="sub">Each head's raw outputs pass one affine map before decoding: temperature or vector scaling for classifiers, the spread of the return head's std, an affine fit of the volatility forecast. Fitted on the validation rows only; the test rows are scored with the raw and the calibrated outputs (15 equal-width bins for ECE). A calibrated Gaussian has meanZ2 = 1 and 68.3% of errors within one std.</p>
<table><tr><th>head</th><th>method</th><th>parameters</th><th>validation rows</th><th>validation objective before -> after</th><th>test before -> after</th><th>warning</th></tr>${rows}</table>
<div class="cms">${diagrams}</div>`;
}

export function policySection(p: PolicyFitReport | null): string {
  if (!p) return '<h2>Decision policy</h2><p class="sub">The source design\'s thresholds (--thresholds seed, or a run without a fitted policy).</p>';
  const rows = Object.entries(p.methods)
    .map(([method, m]) => {
      const syms = Object.entries(m!.bySymbol)
        .map(([s, v]) => {
          const t = m!.trials?.[s];
          const trials = t ? `; ${t.count} candidates tried, variance of their per-bar Sharpe ${t.sharpeVariance.toExponential(2)} (what the deflated Sharpe deflates for)` : '';
          return `${esc(s)}: Sharpe ${f(v.sharpe, 2)}, ${v.trades} round trips, turnover ${f(v.turnover, 1)}, fees ${f(v.feesPaid, 2)} (source thresholds: Sharpe ${f(m!.seedScore.bySymbol[s]?.sharpe, 2)}, ${m!.seedScore.bySymbol[s]?.trades ?? '-'} round trips)${trials}`;
        })
        .join('<br>');
      const show = (t: Record<string, number>) => Object.entries(t).map(([k, v]) => `${esc(k)} ${f(v, 4)}`).join(', ');
      return `<tr><td>${esc(method)}</td><td>${show(m!.thresholds)}${m!.options.directionRule ? `<br>side: ${esc(String(m!.options.directionRule))}` : ''}</td><td>${show(m!.seed)}</td><td>${f(m!.objective, 2)} (source ${f(m!.seedScore.objective, 2)})</td><td>${m!.feasible} of ${m!.evaluated}</td><td class="small">${syms}${m!.warning ? `<br><span class="neg">${esc(m!.warning)}</span>` : ''}</td></tr>`;
    })
    .join('');
  const val = Object.entries(p.validation)
    .map(([s, v]) => `${esc(s)} ${new Date(v.fromMs).toISOString().slice(0, 10)}..${new Date(v.toMs).toISOString().slice(0, 10)} (${v.bars} bars, ${v.days.toFixed(0)} days, at least ${v.minRoundTrips} round trips)`)
    .join('; ');
  return `<h2>Decision policy (fitted on validation)</h2>
<p class="sub">Objective: ${esc(p.objective)}. Validation: ${val}.</p>
<table><tr><th>fusion</th><th>fitted thresholds</th><th>source thresholds</th><th>validation net Sharpe (mean over symbols)</th><th>candidates meeting the trade minimum</th><th>per symbol on validation</th></tr>${rows}</table>${tiltTable(p)}`;
}

/** The tilt policy's candidates on validation (weight 0 = vol-targeted buy-and-hold), with their turnover control. */
function tiltTable(p: PolicyFitReport): string {
  const t = p.tilt;
  if (!t) return '';
  const rows = t.candidates
    .map((c) => {
      const band = c.band ?? 0;
      const hl = c.halfLife ?? 0;
      const chosen = c.weight === t.chosen.weight && c.heads.join('+') === t.chosen.heads.join('+') && band === (t.chosen.band ?? 0) && hl === (t.chosen.halfLife ?? 0);
      const sym = Object.values(c.bySymbol);
      const turnover = sym.length ? sym.reduce((a, x) => a + x.turnover, 0) / sym.length : Number.NaN;
      const fees = sym.length ? sym.reduce((a, x) => a + x.feesPaid, 0) / sym.length : Number.NaN;
      return `<tr><td>${c.heads.length ? esc(c.heads.join(' + ')) : 'none (the baseline)'}</td><td>${f(c.weight, 2)}</td><td>${f(band, 2)}</td><td>${f(hl, 0)}</td><td>${chosen ? '<b>' : ''}${f(c.objective, 2)}${chosen ? '</b> (chosen)' : ''}</td><td>${f(turnover, 1)}</td><td>${f(fees, 0)}</td></tr>`;
    })
    .join('');
  return `<h3>Tilt policy (vol-targeted buy-and-hold x clamp(1 + weight x score, 0, 2), with a no-trade band and score smoothing)</h3>
<p class="sub">${esc(t.objective)}. Every candidate is a trial of the deflated Sharpe ratio.</p>
<table><tr><th>heads read</th><th>weight</th><th>no-trade band</th><th>score half-life (bars)</th><th>validation net Sharpe (mean over symbols)</th><th>mean turnover</th><th>mean fees</th></tr>${rows}</table>`;
}
