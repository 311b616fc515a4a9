/**
 * `trainer compare <run> --against <other-run> [--from DATE] [--to DATE]`: two trained runs (single
 * runs or seed ensembles, any feature sets) compared on the VALIDATION split only, for choosing
 * between them without reading a test row. Each run's raw heads on its own rebuilt validation
 * windows, paired on the windows both have (same series, same last bar) and judged on the run's
 * labels: per task run - other with a 95% stationary block-bootstrap interval (compareOnWindows).
 * --from / --to keep the windows whose last bar is in [from, to), e.g. the months nearest deployment.
 */
import { DataError, mean, std, studentTQuantile } from '@task-agnostic/core';
import { gatherTargets, ruleChoice } from '@task-agnostic/heads';
import { evaluateSplit, modelParts } from '@task-agnostic/training';
import { assertSameLabels, differingWindows } from './against.js';
import { fmt, textTable } from './format.js';
import { compareOnWindows, fmtInterval, type MetricSource, type WindowComparison } from './intervals.js';
import { primaryMetric } from './evaluate-run.js';
import type { TaskAgnosticModel } from '@task-agnostic/model';
import type { MultiTaskDataset } from '@task-agnostic/training';
import type { SymbolData } from './data-source.js';
import type { Log } from './train-run.js';

export interface ValidationComparisonTask {
  readonly task: string;
  readonly metric: string;
  readonly higherIsBetter: boolean;
  /** model: the run, other: the other run, diff: run - other (unsigned: for a loss < 0 favours the run). */
  readonly comparison: WindowComparison;
}

export interface ValidationComparison {
  readonly run: string;
  readonly other: string;
  /** The windows' last-bar range kept (ISO dates, null = open). */
  readonly from: string | null;
  readonly to: string | null;
  /** Validation windows of each run, and those compared (both have them, inside the range). */
  readonly windows: { readonly run: number; readonly other: number; readonly compared: number };
  readonly tasks: readonly ValidationComparisonTask[];
}

/** What a comparison reads of a run: its folder (for messages), its series and its model with the rebuilt dataset. */
export interface ComparedRun {
  readonly paths: { readonly dir: string };
  readonly data: readonly Pick<SymbolData, 'symbol' | 'candles'>[];
  readonly result: { readonly model: TaskAgnosticModel; readonly dataset: MultiTaskDataset };
}

/** Each validation window's key: its series' symbol and the timestamp of its last bar (null when out of [from, to)). */
function windowKeys(r: ComparedRun, from: number, to: number): (string | null)[] {
  const v = r.result.dataset.val;
  if (!v.seriesIds || !v.endRows) throw new DataError(`${r.paths.dir}: its validation windows carry no series or end rows`);
  return Array.from(v.endRows, (row, i) => {
    const d = r.data[v.seriesIds![i]!]!;
    const ts = d.candles.tsMs[row]!;
    return ts >= from && ts < to ? `${d.symbol}\u0000${ts}` : null;
  });
}

/**
 * The run against the other on their validation windows (see the file comment). Same tasks and label
 * settings (assertSameLabels); the labels must agree on every compared window (a DataError otherwise);
 * no window in common (or in the range) is a DataError naming the counts.
 */
export function compareOnValidation(a: ComparedRun, b: ComparedRun, o: { fromMs?: number; toMs?: number; seed?: number } = {}): ValidationComparison {
  const ma = a.result.model;
  const mb = b.result.model;
  assertSameLabels(ma, mb, a.paths.dir, b.paths.dir);
  const from = o.fromMs ?? Number.NEGATIVE_INFINITY;
  const to = o.toMs ?? Number.POSITIVE_INFINITY;
  // the windows both runs have (same series, same last bar), in the run's order
  const inB = new Map<string, number>();
  windowKeys(b, from, to).forEach((k, j) => {
    if (k !== null) inB.set(k, j);
  });
  const ia: number[] = [];
  const ib: number[] = [];
  windowKeys(a, from, to).forEach((k, i) => {
    const j = k === null ? undefined : inB.get(k);
    if (j !== undefined) {
      ia.push(i);
      ib.push(j);
    }
  });
  const va = a.result.dataset.val;
  const vb = b.result.dataset.val;
  const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 10) : null);
  if (ia.length === 0) {
    throw new DataError(
      `compare: ${a.paths.dir} (${va.n} validation windows) and ${b.paths.dir} (${vb.n}) share no validation window${Number.isFinite(from) || Number.isFinite(to) ? ` ending in [${iso(from) ?? '-'}, ${iso(to) ?? '-'})` : ''}: compare runs of the same data and split`,
    );
  }
  const IA = Int32Array.from(ia);
  const IB = Int32Array.from(ib);
  const ea = evaluateSplit(modelParts(ma), va, 256);
  const eb = evaluateSplit(modelParts(mb), vb, 256);
  const tasks = ma.tasks.map((t, ti): ValidationComparisonTask => {
    const task = t as unknown as MetricSource & { id: string; kind: 'classification' | 'regression' };
    const pm = primaryMetric(task.kind);
    const y = gatherTargets(va.targets[ti]!, task.targetDim, IA);
    const yb = gatherTargets(vb.targets[ti]!, task.targetDim, IB);
    const differ = differingWindows(y, yb, task.targetDim);
    if (differ) throw new DataError(`compare: task ${task.id}'s validation labels differ on ${differ} of ${ia.length} windows between ${a.paths.dir} and ${b.paths.dir}: compare runs of the same data, split and label settings`);
    const comparison = compareOnWindows(task, pm.name, pm.higherIsBetter, gatherTargets(ea.outputs[ti]!, task.outputDim, IA), gatherTargets(eb.outputs[ti]!, task.outputDim, IB), y, ia.length, { seed: (o.seed ?? 42) + ti });
    return { task: task.id, metric: pm.name, higherIsBetter: pm.higherIsBetter, comparison };
  });
  return { run: a.paths.dir, other: b.paths.dir, from: iso(from), to: iso(to), windows: { run: va.n, other: vb.n, compared: ia.length }, tasks };
}

/** A task's deployed validation-fitted layer (after calibration) and its out-of-fold score on validation. */
export interface DeployedLayer {
  readonly task: string;
  /** 'fusion' (a head fusion replaced the blend), else the blend's chosen candidate: 'model', 'baseline', 'combined', 'tuned'. */
  readonly layer: string;
  /**
   * The layer's score out of fold over the validation time folds (calibration.json's `heldOut`), as the
   * report keeps it: higher is better (a classifier's macro-F1, a regression head's -MSE); null when the report does not say.
   */
  readonly score: number | null;
  /**
   * The mean of the layer's fold scores (what the rule 'best' deploys by; the one-SE rule's means too),
   * higher is better; null when the report has no fold scores.
   */
  readonly foldMean: number | null;
  /** The layer's score on each validation time fold (higher is better), in fold order; null when the report has none. */
  readonly foldScores: readonly number[] | null;
}

/** A deployed layer with its scores as the task's metric (MSE for a regression head). */
export interface DeployedMetric {
  readonly layer: string;
  /** Pooled out of fold over all the validation rows. */
  readonly outOfFold: number | null;
  /** The mean of the per-fold scores. */
  readonly foldMean: number | null;
  /** The per-fold scores (the task's metric), in fold order. */
  readonly foldScores: readonly number[] | null;
}

/**
 * run - other over the validation time folds, paired by fold: the mean of the k per-fold differences
 * (the fold-mean difference) with its 95% Student-t interval (k - 1 degrees of freedom). Folds are
 * few (5 by default), so the interval is wide; it is what the fold-mean difference can claim.
 */
export interface FoldPairedDiff {
  readonly folds: number;
  readonly estimate: number;
  readonly lo: number;
  readonly hi: number;
}

/** One task's deployed layers side by side (DeployedLayer of each run; null when its run folder has no calibration.json). */
export interface DeployedComparison {
  readonly task: string;
  readonly metric: string;
  readonly higherIsBetter: boolean;
  readonly run: DeployedMetric | null;
  readonly other: DeployedMetric | null;
  /** Paired by fold (null: a side lacks fold scores, the fold counts differ, or the runs' validation windows differ). */
  readonly byFold: FoldPairedDiff | null;
}

type HeldOut = Record<string, number | undefined>;
interface BlendJson {
  task?: unknown;
  method?: unknown;
  selection?: { heldOut?: HeldOut; rule?: unknown; oneSe?: { chosen?: unknown; best?: unknown; byCandidate?: Record<string, { mean?: unknown; scores?: unknown[] } | undefined> } };
}
interface FusionJson {
  chosen?: unknown;
  heldOut?: HeldOut;
  foldScores?: { fusion?: unknown }[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Finite numbers only, else null (an empty or partial list is no fold scores). */
function scoresOf(xs: readonly unknown[] | undefined): number[] | null {
  const v = Array.isArray(xs) ? xs.map(num) : [];
  return v.length > 0 && v.every((x) => x !== null) ? (v as number[]) : null;
}

/** run - other paired by fold with a 95% t interval (null without two or more folds on both sides, equal in number). */
export function foldPairedDiff(run: readonly number[] | null, other: readonly number[] | null): FoldPairedDiff | null {
  if (!run || !other || run.length !== other.length || run.length < 2) return null;
  const k = run.length;
  const d = run.map((v, i) => v - other[i]!);
  const m = mean(d);
  const half = studentTQuantile(0.975, k - 1) * (std(d) / Math.sqrt(k));
  return { folds: k, estimate: m, lo: m - half, hi: m + half };
}

/**
 * What a run deploys per task, read from its calibration report (calibration.json): a chosen head
 * fusion, else the baseline blend's candidate picked by its rule (one-SE, or 'best'), each with its
 * out-of-fold validation score (higher is better: a regression head's -MSE). The raw heads `compareOnValidation` pairs are not what trades: two runs whose
 * heads are level can deploy different layers, whose out-of-fold scores differ far more.
 */
export function deployedLayers(report: unknown): DeployedLayer[] {
  const r = report as { blends?: { heads?: BlendJson[] }; fusions?: Record<string, FusionJson> } | null;
  const heads = Array.isArray(r?.blends?.heads) ? r.blends.heads : [];
  const out: DeployedLayer[] = [];
  for (const h of heads) {
    if (typeof h.task !== 'string') continue;
    const fusion = r?.fusions?.[h.task];
    if (fusion?.chosen === true) {
      const fs = scoresOf(Array.isArray(fusion.foldScores) ? fusion.foldScores.map((x) => x?.fusion) : undefined);
      out.push({ task: h.task, layer: 'fusion', score: num(fusion.heldOut?.fusion), foldMean: fs ? mean(fs) : null, foldScores: fs });
      continue;
    }
    // the candidate the blend's rule deployed (heads' ruleChoice: the one-SE choice, or with the rule 'best' the best);
    // reports from before the rule existed have no selection.rule (the one-SE rule) and may lack oneSe
    const oneSe = h.selection?.oneSe;
    const picked = oneSe ? ruleChoice(oneSe as Parameters<typeof ruleChoice>[0], h.selection?.rule === 'best' ? 'best' : 'oneSe') : undefined;
    const chosen = typeof picked === 'string' ? picked : h.method === 'model' || h.method === 'baseline' ? h.method : null;
    const v = chosen ? h.selection?.heldOut?.[chosen] : undefined;
    const c = chosen ? h.selection?.oneSe?.byCandidate?.[chosen] : undefined;
    out.push({ task: h.task, layer: chosen ?? String(h.method), score: num(v), foldMean: num(c?.mean), foldScores: scoresOf(c?.scores) });
  }
  return out;
}

/** The two runs' deployed layers per task of the comparison (from their calibration.json reports, parsed). */
export function compareDeployed(r: ValidationComparison, run: unknown, other: unknown): DeployedComparison[] {
  const a = new Map(deployedLayers(run).map((d) => [d.task, d]));
  const b = new Map(deployedLayers(other).map((d) => [d.task, d]));
  // the reports' scores are higher-is-better: a loss (mse) is the score negated
  const sign = (v: number | null, higherIsBetter: boolean): number | null => (v === null ? null : higherIsBetter ? v : -v);
  const asMetric = (d: DeployedLayer | undefined, higherIsBetter: boolean): DeployedMetric | null =>
    d ? { layer: d.layer, outOfFold: sign(d.score, higherIsBetter), foldMean: sign(d.foldMean, higherIsBetter), foldScores: d.foldScores ? d.foldScores.map((v) => (higherIsBetter ? v : -v)) : null } : null;
  // the folds pair only when both runs' validation windows are the same ones (then so are their time folds)
  const same = r.windows.run === r.windows.compared && r.windows.other === r.windows.compared;
  return r.tasks.map((t) => {
    const run = asMetric(a.get(t.task), t.higherIsBetter);
    const other = asMetric(b.get(t.task), t.higherIsBetter);
    return { task: t.task, metric: t.metric, higherIsBetter: t.higherIsBetter, run, other, byFold: same ? foldPairedDiff(run?.foldScores ?? null, other?.foldScores ?? null) : null };
  });
}

/** The deployed-layer table: each run's layer and out-of-fold score, run - other, and the fold-paired interval of the fold-mean difference. */
export function printDeployedComparison(rows: readonly DeployedComparison[], log: Log): void {
  const f = (v: number | null) => (v === null ? '-' : fmt(v));
  const cell = (d: DeployedMetric | null) => (d ? `${d.layer} ${f(d.outOfFold)} / ${f(d.foldMean)}` : '- (no calibration.json)');
  const diff = (a: number | null | undefined, b: number | null | undefined) => (a != null && b != null ? fmt(a - b) : '-');
  const paired = (p: FoldPairedDiff | null) => (p ? `${fmt(p.estimate)} [${fmt(p.lo)}, ${fmt(p.hi)}] (${p.folds} folds)` : '-');
  const verdict = (p: FoldPairedDiff | null, higherIsBetter: boolean) => {
    if (!p) return '-';
    if (p.lo > 0 || p.hi < 0) return p.lo > 0 === higherIsBetter ? 'better (95% CI excludes 0)' : 'worse (95% CI excludes 0)';
    return 'no significant difference';
  };
  const table: string[][] = [['task', 'metric', 'run: layer, pooled / fold mean', 'other: layer, pooled / fold mean', 'run - other, pooled / fold mean', 'fold-paired run - other [95% t CI]', 'verdict']];
  for (const d of rows) table.push([d.task, d.metric, cell(d.run), cell(d.other), `${diff(d.run?.outOfFold, d.other?.outOfFold)} / ${diff(d.run?.foldMean, d.other?.foldMean)}`, paired(d.byFold), verdict(d.byFold, d.higherIsBetter)]);
  log(
    `what each run deploys (calibration.json: a head fusion, else the blend candidate its rule chose: one-SE or best), scored out of fold over the validation time folds on each run's own validation rows, pooled over all of them and as the mean of the fold scores (the rule 'best' deploys by the latter); the pooled difference has no interval; the fold-mean difference has a Student-t interval over the per-fold differences (paired by fold, only when both runs have the same validation windows; few folds, so wide); for a loss (mse) run - other < 0 favours the run:\n${textTable(table)}`,
  );
}

export function printValidationComparison(r: ValidationComparison, log: Log): void {
  const rows: string[][] = [['task', 'metric', 'run [95% CI]', 'other [95% CI]', 'run - other [95% CI]', 'verdict']];
  for (const t of r.tasks) rows.push([t.task, t.metric, fmtInterval(t.comparison.model), fmtInterval(t.comparison.other), fmtInterval(t.comparison.diff), t.comparison.verdictText]);
  const range = r.from || r.to ? `, windows ending in [${r.from ?? '-'}, ${r.to ?? '-'})` : '';
  log(
    `validation only: ${r.run} against ${r.other}, raw heads on the ${fmt(r.windows.compared, 0)} validation windows both have (of ${r.windows.run} / ${r.windows.other}${range}), the run's labels; for a loss (mse) run - other < 0 favours the run:\n${textTable(rows)}`,
  );
}
