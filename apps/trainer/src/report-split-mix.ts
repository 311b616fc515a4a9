/**
 * The run report's "Split class mix" section: per classification task, the label mix of the
 * training, validation and test rows (pooled, and per series in a fold-out), with the
 * total-variation distance of validation (and test) from training, flagged above the warning threshold.
 */
import { escapeXml as esc } from '@task-agnostic/backtest';
import { MIX_WARN_SERIES_TV, MIX_WARN_TV, pct1, type ClassMix, type SplitMixes, type TaskClassMix } from './split-mix.js';

function tvCell(x: number | null, threshold: number): string {
  if (x === null) return '<td>-</td>';
  return `<td${x > threshold ? ' class="neg"' : ''}>${x.toFixed(3)}</td>`;
}

function mixCells(m: ClassMix): string {
  return `<td>${m.n}</td>${m.fractions.map((v) => `<td>${pct1(v)}</td>`).join('')}`;
}

function pooledTable(t: TaskClassMix, threshold: number): string {
  const head = `<tr><th>rows</th><th>windows</th>${t.classes.map((c) => `<th>${esc(c)}</th>`).join('')}<th>TV vs training</th></tr>`;
  const p = t.pooled;
  const row = (name: string, m: ClassMix, tv: string): string => `<tr><td>${name}</td>${mixCells(m)}${tv}</tr>`;
  return `<table>${head}${row('training', p.train, '<td>-</td>')}${row('validation', p.val, tvCell(p.valVsTrainTv, threshold))}${row('test', p.test, tvCell(p.testVsTrainTv, threshold))}</table>`;
}

function seriesTable(t: TaskClassMix, threshold: number): string {
  const cls = t.classes.map((c) => esc(c)).join(' / ');
  const rows = Object.entries(t.bySeries)
    .map(([sym, s]: [string, SplitMixes]) => `<tr><td>${esc(sym)}</td><td>${s.train.fractions.map(pct1).join(' / ')}</td><td>${s.val.fractions.map(pct1).join(' / ')}</td><td>${s.test.fractions.map(pct1).join(' / ')}</td>${tvCell(s.valVsTrainTv, threshold)}${tvCell(s.testVsTrainTv, threshold)}</tr>`)
    .join('');
  return `<details><summary>${esc(t.task)} per series (mean TV validation vs training ${t.meanSeriesValVsTrainTv === null ? '-' : t.meanSeriesValVsTrainTv.toFixed(3)})</summary><table><tr><th>series</th><th>training (${cls})</th><th>validation</th><th>test</th><th>TV val vs train</th><th>TV test vs train</th></tr>${rows}</table></details>`;
}

/** The section (empty when the run's training.json has no class mix: a run from before it existed). */
export function splitMixSection(mix: readonly TaskClassMix[] | undefined, threshold = MIX_WARN_TV, seriesThreshold = MIX_WARN_SERIES_TV): string {
  if (!mix?.length) return '';
  const tasks = mix.map((t) => `<h3>${esc(t.task)}</h3>${pooledTable(t, threshold)}${seriesTable(t, seriesThreshold)}`).join('');
  return `<h2>Split class mix</h2>
<p class="sub">The label mix of each classification task on the training, validation and test windows. Early stopping, calibration, the baseline blends and the decision thresholds are fitted on validation: a validation mix far from training's (total-variation distance TV = half the sum of the absolute differences, in red above ${threshold} pooled, ${seriesThreshold} for one series) tunes them for a mix the model will rarely meet.</p>
${tasks}`;
}
