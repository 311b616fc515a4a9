/**
 * The trainer's steps wired together, for `trainer train`, `evaluate`, `backtest`, `report` and the
 * main job. Every step writes its files into the run folder, so later steps (or a later command)
 * read what earlier ones wrote.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { backtestReportJson, comparisonRows, describeIntrabar, renderReportHtml, type BacktestResult } from '@task-agnostic/backtest';
import { ConfigError, DataError } from '@task-agnostic/core';
import { ruleChoice } from '@task-agnostic/heads';
import { writeModelEvaluation } from '@task-agnostic/model';
import { currentBackend } from '@task-agnostic/tf';
import type { TrainModelResult } from '@task-agnostic/training';
import { validateStrategies } from './deployment-eval.js';
import { compareStrategies, comparisonLines, modelVersus, versusSummary, TILT_STRATEGY, VOL_TARGETED } from './strategies.js';
import type { TrainerConfig } from './config.js';
import { loadData, type SymbolData } from './data-source.js';
import { evaluateRun, type Evaluation } from './evaluate-run.js';
import { renderRunReport, type BacktestSummary, type EpochLine } from './report.js';
import { runPaths, type RunPaths } from './run-paths.js';
import { openStaging, publishRun } from './run-folder.js';
import { datasetOptions, describeRefit, jsonSafe, saveTrainRun, trainRun, type Log } from './train-run.js';
import { annualisedNote, backtestSharpe, barReturns } from './intervals.js';
import { deflateSharpe, type DeflatedSharpeReport, type TrialSet } from './deflation.js';
import { describeRepairs, screenSeries } from './universe.js';
import { fitDecisionPolicy, fitTiltOnly, type PolicyFitReport } from './decision-policy-run.js';
import { decisionOf, type ThresholdsMode } from './decision-setup.js';
import { describeClassMixChoices, effectiveSampleSize, type CalibrationReport } from '@task-agnostic/training';
import { calibrateRun } from './calibrate-run.js';
import type { TaskClassMix } from './split-mix.js';
import { readModelJson, saveModel, type DeploymentEvaluation, type TaskAgnosticModel } from '@task-agnostic/model';

/** Loads the data a config names (held-out symbols left out unless `withHoldout`). */
export function loadConfigData(cfg: TrainerConfig, o: { log?: Log; withHoldout?: boolean } = {}): Promise<SymbolData[]> {
  return loadData({
    ...(o.withHoldout ? {} : { exclude: cfg.data.holdout }),
    ...(o.log ? { log: o.log } : {}),
    synthetic: cfg.data.source === 'synthetic',
    ...(cfg.data.path ? { path: cfg.data.path } : {}),
    symbols: cfg.data.symbols,
    interval: cfg.data.interval,
    ...(cfg.data.exchange ? { exchange: cfg.data.exchange } : {}),
    policy: cfg.data.policy,
    ...(cfg.data.maxFillBars !== undefined ? { maxFillBars: cfg.data.maxFillBars } : {}),
    bars: cfg.data.bars,
    seed: cfg.seed,
    ...(cfg.data.start !== undefined ? { startMs: cfg.data.start } : {}),
    ...(cfg.data.end !== undefined ? { endMs: cfg.data.end } : {}),
  });
}

export interface StepOptions {
  readonly log: Log;
  readonly progress?: boolean;
}

export interface TrainedRun {
  readonly cfg: TrainerConfig;
  readonly paths: RunPaths;
  readonly data: SymbolData[];
  readonly result: TrainModelResult;
  /** Which thresholds backtests use: the model's fitted policy (default) or the source's. */
  readonly thresholds?: ThresholdsMode;
}

/** Fits the decision policy on the validation split, sets it on the model and writes decision-policy.json. */
export async function fitPolicyStep(run: TrainedRun, o: StepOptions): Promise<PolicyFitReport | null> {
  const { cfg, result } = run;
  if (cfg.policy.thresholds === 'seed') {
    result.model.setDecisionPolicy(null);
    o.log('decision policy: --thresholds seed, keeping the source design\'s thresholds');
    return null;
  }
  const { policy, report } = fitDecisionPolicy(cfg, result.model, run.data, result.dataset.boundaries, result.dataset.purgeGap, {
    minRoundTripsPerDay: cfg.policy.minRoundTripsPerDay,
    minValidationDays: cfg.policy.minValidationDays,
    log: o.log,
  });
  result.model.setDecisionPolicy(policy);
  await mkdir(run.paths.dir, { recursive: true });
  await writeFile(run.paths.policy, JSON.stringify({ policy, report }, jsonSafe, 2) + '\n');
  o.log(`decision policy fitted on validation in ${report.seconds.toFixed(1)} s, written to ${path.basename(run.paths.policy)}`);
  return report;
}

/**
 * `trainer calibrate --tilt-only`: refits only the tilt policy on the validation split (with the
 * per-symbol GARCH fits the trader needs) and saves it into the artifact and decision-policy.json;
 * the calibration, both fusions' thresholds and the deployment evaluation are kept.
 */
export async function refitTiltStep(run: TrainedRun, o: StepOptions): Promise<void> {
  const { cfg, result } = run;
  const current = result.model.decisionPolicy;
  if (!current) throw new ConfigError('--tilt-only: the run carries no decision policy to add the tilt to (it was trained with --thresholds seed): run `trainer calibrate <run>` without it', 'tilt-only');
  const tilt = fitTiltOnly(cfg, result.model, run.data, result.dataset.boundaries, result.dataset.purgeGap, { minValidationDays: cfg.policy.minValidationDays, log: o.log });
  result.model.setDecisionPolicy({ ...current, tilt: tilt.policy });
  const file = existsSync(run.paths.policy) ? (JSON.parse(await readFile(run.paths.policy, 'utf8')) as { policy?: unknown; report?: Record<string, unknown> }) : {};
  await writeFile(run.paths.policy, JSON.stringify({ policy: result.model.decisionPolicy, report: { ...(file.report ?? {}), tilt: tilt.report } }, jsonSafe, 2) + '\n');
  const old = await readModelJson(run.paths.model);
  await saveModel(result.model, run.paths.model, { training: old.training, metrics: old.metrics, ...(old.evaluation ? { evaluation: old.evaluation } : {}) });
  o.log(`tilt policy refitted on validation in ${tilt.seconds.toFixed(1)} s (calibration and fusion thresholds kept), written to ${path.basename(run.paths.policy)}; model saved to ${run.paths.model}`);
}

/**
 * Refits a loaded run's calibration and decision policy on its validation split and saves them into
 * its artifact (the training range and metrics of the artifact are kept).
 */
export async function recalibrateStep(run: TrainedRun, o: StepOptions, options: { policy?: boolean } = {}): Promise<void> {
  const { cfg, result } = run;
  if (cfg.calibrate === false) {
    result.model.setCalibration({});
    result.model.setBlends({});
    o.log('calibration: off in the run config (calibrate: false)');
  } else {
    const rep = calibrateRun(cfg, result.model, run.data, result.dataset, datasetOptions(cfg))!;
    for (const l of describeCalibration(rep)) o.log(l);
    await writeFile(run.paths.calibration, JSON.stringify(rep, jsonSafe, 2) + '\n');
  }
  if (options.policy === false) {
    // the heads' calibration and blends only: the saved decision policy and deployment evaluation stay
    const old = await readModelJson(run.paths.model);
    result.model.setDecisionPolicy(old.decisionPolicy ?? null);
    await saveModel(result.model, run.paths.model, { training: old.training, metrics: old.metrics, ...(old.evaluation ? { evaluation: old.evaluation } : {}) });
    o.log(`model saved to ${run.paths.model} (decision policy kept: --no-policy)`);
    return;
  }
  await fitPolicyStep(run, o);
  // The deployment evaluation follows the new policy.
  const validation = validateStrategies(cfg, result.model, run.data, result, o.log, run.thresholds ?? 'fitted');
  const old = await readModelJson(run.paths.model);
  await saveModel(result.model, run.paths.model, { training: old.training, metrics: old.metrics, ...(validation ? { evaluation: validation.evaluation } : {}) });
  o.log(`model saved to ${run.paths.model}`);
}

/** One line per calibrated head: method and the test split's figures before -> after. */
export function describeCalibration(rep: CalibrationReport | undefined): string[] {
  if (!rep) return ['calibration: off'];
  const mix = describeClassMixChoices(rep.classMix ?? []);
  const lines = rep.heads.map((h) => {
    const b = h.test?.before.metrics ?? {};
    const a = h.test?.after.metrics ?? {};
    const keys = Object.keys(a).filter((k) => ['ece', 'brier', 'nll', 'meanZ2', 'mse'].includes(k));
    const figs = keys.map((k) => `${k} ${fmtNum(b[k])} -> ${fmtNum(a[k])}`).join(', ');
    const ci = h.test?.after.eceInterval;
    const ciText = ci ? ` (ECE after, ${Math.round(ci.confidence * 100)}% block bootstrap over the ${h.test!.n} test windows: [${fmtNum(ci.lo)}, ${fmtNum(ci.hi)}])` : '';
    const sel = h.selection
      ? `; chosen by held-out validation NLL over ${h.selection.folds} time folds: ${Object.entries(h.selection.heldOutNll).map(([m, v]) => `${m} ${fmtNum(v)}`).join(', ')} (raw ${fmtNum(h.selection.identityNll)})`
      : '';
    return `calibration ${h.task}: ${h.method} (scale ${h.scale.map((x) => +x.toFixed(3)).join('/')}, shift ${h.shift.map((x) => +x.toFixed(3)).join('/')}; fitted on ${h.fitRows} validation windows${sel}); test ${figs || '-'}${ciText}`;
  });
  const blends = (rep.blends?.heads ?? []).map((b) => {
    const s = b.selection.heldOut;
    const what = b.method === 'stack' ? ` (${fmtNum(b.modelWeight)} x head log-probabilities + ${fmtNum(b.baselineWeight)} x baseline's, offsets ${b.offsets.map((x) => +x.toFixed(3)).join('/')})` : b.method === 'convex' ? ` (${fmtNum(b.modelWeight)} x head + ${fmtNum(b.baselineWeight)} x baseline)` : '';
    const o = b.selection.oneSe;
    const rule = o ? `; ${b.selection.rule === 'best' ? 'best mean fold score' : 'one-standard-error rule'} over ${o.folds} folds: best ${o.best}, chosen ${ruleChoice(o, b.selection.rule)} (mean fold score ${Object.entries(o.byCandidate).map(([c, v]) => `${c} ${fmtNum(v.mean)}${c === o.best ? '' : ` short by ${fmtNum(v.shortfall)}, se ${fmtNum(v.se)}`}`).join('; ')})` : '';
    return `blend ${b.task}: ${b.method}${what} with '${b.baseline}'; chosen on ${b.fitRows} validation windows, out-of-fold over ${b.selection.folds} time folds (score, higher is better): head ${fmtNum(s.model)}, baseline ${fmtNum(s.baseline)}, combined ${fmtNum(s.combined)}${s.tuned !== undefined ? `, combined with offsets tuned for the metric ${fmtNum(s.tuned)}` : ''}${rule}`;
  });
  const what: Record<string, string> = {
    risk: 'risk head + volatility head\'s forecast and trailing vol against the vol cuts + persistence, with / without the direction head, by plain or class-balanced cross-entropy',
    regime: 'class-balanced; the best of three feature sets: regime head, volatility head\'s forecast and trailing vol against the regime vol cuts, persistence, the trailing window\'s trend z and vol, with / without the direction head, without the regime head',
  };
  const fusion = Object.values(rep.fusions ?? (rep.riskFusion ? { risk: rep.riskFusion } : {})).map(
    (f) =>
      `${f.task} fusion (${what[f.task] ?? 'the task head and the vol inputs'}, multinomial logistic, offsets tuned for macro-F1): ${f.chosen ? `chosen, replacing the ${f.task} blend` : 'not chosen'}; out-of-fold over ${f.folds} time folds on ${f.fitRows} validation windows: head ${fmtNum(f.heldOut.model)}, ${f.task} blend's best ${fmtNum(f.heldOut.blend)}, fusion ${fmtNum(f.heldOut.fusion)}${f.foldMean ? ` (decided by mean fold score: blend's best ${fmtNum(f.foldMean.blend)}, fusion ${fmtNum(f.foldMean.fusion)})` : ''}${f.candidates && f.candidates.length > 1 ? ` (candidates: ${f.candidates.map((c) => `${c.features} features${c.head ? '' : ' without the head'}${c.direction ? ' with direction' : ''}${c.balanced ? ', class-balanced' : ''} ${fmtNum(c.fusion)}`).join('; ')})` : ''}`,
  );
  return [...mix, ...lines, ...blends, ...fusion, ...rep.warnings.map((w) => `calibration warning: ${w}`)];
}

function fmtNum(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '-' : Math.abs(v) < 0.01 ? v.toExponential(2) : v.toFixed(4);
}

/**
 * Step 1: train and save the model and the training summary. The run is written into its staging
 * folder (see run-folder.ts: an interrupted run of the same config and data resumes from its last
 * checkpoint) and moved to `<out>/<name>/` once saved; an existing run of that name is replaced
 * only then, and a failure leaves it untouched. `skipPolicy` (why; e.g. an ensemble member, whose
 * ensemble refits its own) skips the decision policy and the deployment evaluation that reads it.
 */
export async function trainStep(cfg: TrainerConfig, o: StepOptions, options: { skipPolicy?: string } = {}): Promise<TrainedRun> {
  const final = runPaths(cfg.out, cfg.name);
  const loaded = await loadConfigData(cfg, { log: o.log });
  for (const d of loaded) o.log(`data ${d.symbol}: ${d.candles.length} candles from ${d.source}${describeRepairs(d, cfg.data.policy)}`);
  const data = screenSeries(cfg, loaded, o.log);
  const staging = await openStaging(cfg, data, o.log);
  const paths = staging.paths;
  await writeFile(paths.config, JSON.stringify(cfg, null, 2) + '\n');
  const t0 = Date.now();
  const result = await trainRun(cfg, data, { paths, progress: o.progress ?? true, log: o.log, resume: true, splitMix: 'full' });
  const resumed = result.train?.resumedFromEpoch;
  if (resumed !== undefined && resumed !== null) o.log(`resumed after epoch ${resumed + 1} from ${paths.checkpoints}`);
  o.log(`trained in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${result.history.length} epochs, ${result.dataset.train.n} training windows`);
  const w = result.dataset.train.sampleWeights;
  if (w) o.log(`recency weights (half-life ${cfg.data.recencyHalfLifeDays} days): batches drawn by weight, ${effectiveSampleSize(w).toFixed(0)} effective windows of ${w.length} (Kish)`);
  const ema = (cfg.training as { emaDecay?: unknown }).emaDecay;
  if (typeof ema === 'number') o.log(`weight averaging (training.emaDecay ${ema}): validation, early stopping and the saved model use the averaged weights`);
  for (const r of result.refit ?? []) o.log(describeRefit(r));
  for (const l of describeCalibration(result.calibration)) o.log(l);
  try {
    let evaluation: DeploymentEvaluation | undefined;
    if (options.skipPolicy !== undefined) {
      // e.g. an ensemble member: the ensemble fits its own policy on its own outputs, so this one would be discarded
      o.log(`decision policy: not fitted (${options.skipPolicy}; 'trainer calibrate' on this folder fits one)`);
    } else {
      await fitPolicyStep({ cfg, paths, data, result }, o);
      // The deployment gate's evaluation: validation rows only, with the fitted policy, written into the artifact.
      evaluation = validateStrategies(cfg, result.model, data, result, o.log)?.evaluation;
    }
    await saveTrainRun(cfg, data, result, paths, evaluation);
    await publishRun(paths, final, o.log);
  } catch (err) {
    result.model.dispose();
    throw err;
  }
  o.log(`model saved to ${final.model}`);
  return { cfg, paths: final, data, result };
}

/** Step 2: evaluation (baselines, single-task models, transfer, consistency, representation). */
export async function evaluateStep(run: TrainedRun, o: StepOptions): Promise<Evaluation> {
  const ev = await evaluateRun(run.cfg, run.data, run.result, { log: o.log, progress: false });
  await writeFile(run.paths.evaluation, JSON.stringify(ev, jsonSafe, 2) + '\n');
  o.log(`evaluation written to ${run.paths.evaluation}`);
  return ev;
}

/** The first row of a symbol's test range: after validation and the purge gap. */
export function testStartRow(r: TrainModelResult, i: number): number {
  return r.dataset.boundaries[i]!.valEnd + r.dataset.purgeGap;
}

function backtestFile(paths: RunPaths, symbol: string, i: number): string {
  return i === 0 ? path.basename(paths.backtestHtml) : `backtest-${symbol}.html`;
}


/**
 * Step 3: every symbol's test range: the model's strategy beside buy-and-hold, vol-targeted
 * buy-and-hold and time-series momentum (same engine, fees, slippage), with their HTML and JSON
 * reports. The validation evaluation (the deployment gate's) is recomputed with this run's fusion
 * and written into the artifact.
 */
export async function backtestStep(run: TrainedRun, o: StepOptions): Promise<BacktestSummary[]> {
  const mode = run.thresholds ?? 'fitted';
  o.log(`backtest: ${decisionOf(run.cfg, run.result.model, mode).note}`);
  const comparisons = run.data.map((d, i) => compareStrategies(run.cfg, run.result.model, d, run.result.dataset.boundaries[i]!.trainEnd, testStartRow(run.result, i), d.candles.length, o.log, mode));
  await mkdir(run.paths.dir, { recursive: true });
  const summaries: BacktestSummary[] = [];
  const sharpes = comparisons.map((c, i) => backtestSharpe(c.model.result, run.cfg.seed + i));
  const fit = mode === 'fitted' && run.result.model.decisionPolicy ? await readPolicyFit(run.paths.policy) : null;
  const deflated = comparisons.map((c) => {
    const trials = policyTrials(run.cfg, run.result.model, mode, fit, c.symbol);
    const r = c.model.result;
    return trials ? deflateSharpe(barReturns(r.equity, r.initialEquity), trials, r.barsPerYear, r.metrics.trades) : null;
  });
  const tiltDeflated = comparisons.map((c) => {
    const t = c.runs.find((r) => r.name === TILT_STRATEGY);
    const trials = fit?.tilt?.trials[c.symbol];
    return t && trials ? deflateSharpe(barReturns(t.result.equity, t.result.initialEquity), trials, t.result.barsPerYear, t.result.metrics.trades) : null;
  });
  for (const [i, c] of comparisons.entries()) {
    const b = c.model;
    const file = backtestFile(run.paths, b.symbol, i);
    await writeFile(path.join(run.paths.dir, file), renderReportHtml(b.result, { title: `${run.cfg.name}: backtest ${b.symbol} (test range)`, comparison: c.runs }));
    const cd = b.result.candles;
    const rows = comparisonRows(c.runs);
    summaries.push({
      symbol: b.symbol,
      from: new Date(cd.tsMs[0]!).toISOString().slice(0, 16),
      to: new Date(cd.tsMs[cd.length - 1]!).toISOString().slice(0, 16),
      metrics: b.result.metrics,
      benchmarkMetrics: b.result.benchmarkMetrics,
      ...downsampleCurve(cd.tsMs, b.result.equity, b.result.benchmark, 1500),
      strategies: rows.map((r, k) => ({ ...r, equity: downsampleCurve(cd.tsMs, c.runs[k]!.result.equity, b.result.benchmark, 1500).equity })),
      decisions: b.decisions,
      topReasons: b.topReasons,
      intrabar: describeIntrabar(b.result.intrabar),
      htmlFile: file,
      sharpe: sharpes[i]!,
      deflated: deflated[i] ?? null,
      barsPerYear: b.result.barsPerYear,
    });
    o.log(backtestLine(b.symbol, b.result, sharpes[i]!));
    o.log(deflatedLine(deflated[i] ?? null));
    for (const l of comparisonLines(c, run.cfg.seed + i).lines) o.log(l);
    if (tiltDeflated[i]) o.log(`  ${TILT_STRATEGY}: deflated Sharpe, for the ${tiltDeflated[i]!.trials} tilt candidates tried on validation: ${tiltDeflated[i]!.text}`);
  }
  const versus = comparisons.map((c, i) => modelVersus(c, VOL_TARGETED, run.cfg.seed + i));
  const tiltVersus = comparisons.map((c, i) => modelVersus(c, VOL_TARGETED, run.cfg.seed + i, TILT_STRATEGY));
  if (comparisons.length > 1) o.log(versusSummary(versus));
  if (comparisons.length > 1 && tiltVersus.some((x) => x !== null)) o.log(versusSummary(tiltVersus, TILT_STRATEGY));
  const validation = validateStrategies(run.cfg, run.result.model, run.data, run.result, o.log, mode);
  if (validation && existsSync(run.paths.model)) await writeModelEvaluation(run.paths.model, validation.evaluation);
  const json = {
    symbols: comparisons.map((c, i) => ({ symbol: c.symbol, startRow: c.model.startRow, decisions: c.model.decisions, topReasons: c.model.topReasons, sharpe: sharpes[i], deflated: deflated[i] ?? null, vsVolTargeted: versus[i], tiltVsVolTargeted: tiltVersus[i], tiltDeflated: tiltDeflated[i], report: backtestReportJson(c.model.result, c.runs) })),
    validation: validation?.evaluation ?? null,
  };
  await writeFile(run.paths.backtestJson, JSON.stringify(json, jsonSafe) + '\n');
  o.log(`backtest reports written to ${run.paths.dir}`);
  return summaries;
}

/**
 * The trials behind a backtest's thresholds: those the decision policy tried on validation for this
 * fusion and symbol (a symbol outside the fit: N with the mean V of the fitted symbols); one when
 * the source thresholds are used (nothing was tried); null when the model carries fitted thresholds
 * but there is no record of the trials (decision-policy.json of an older version).
 */
export function policyTrials(cfg: TrainerConfig, model: TaskAgnosticModel, mode: ThresholdsMode, fit: PolicyFitReport | null, symbol: string): TrialSet | null {
  if (mode === 'seed' || !model.decisionPolicy?.fusions[cfg.fusion.method]) return { count: 1, sharpeVariance: 0 };
  const t = fit?.methods[cfg.fusion.method]?.trials;
  if (!t) return null;
  const all = Object.values(t);
  if (t[symbol]) return t[symbol];
  return all.length ? { count: all[0]!.count, sharpeVariance: all.reduce((a, x) => a + x.sharpeVariance, 0) / all.length } : null;
}

/** The fit report of decision-policy.json (null when the file is absent). */
export async function readPolicyFit(file: string): Promise<PolicyFitReport | null> {
  return (await readJson<{ report?: PolicyFitReport }>(file, 'decision policy'))?.report ?? null;
}

/** The deflated Sharpe line under a backtest's Sharpe lines. */
export function deflatedLine(d: DeflatedSharpeReport | null): string {
  if (!d) return '  deflated Sharpe n/a: the run folder has no record of the thresholds tried (decision-policy.json from an older version); run trainer calibrate';
  return d.trials === 1 ? `  deflated Sharpe: source thresholds, nothing tried: ${d.text}` : `  deflated Sharpe, for the ${d.trials} threshold candidates tried on validation (their per-bar Sharpe variance ${d.trialsSharpeVariance.toExponential(2)}): ${d.text}`;
}

/** One honest line per backtest: returns, Sharpe with interval and trades, the verdict against buy & hold. */
export function backtestLine(symbol: string, r: { metrics: BacktestResult['metrics']; benchmarkMetrics: BacktestResult['metrics']; barsPerYear: number }, s: ReturnType<typeof backtestSharpe>): string {
  const m = r.metrics;
  const h = r.benchmarkMetrics;
  const d = s.vsBenchmark.diff;
  return (
    `backtest ${symbol}: return ${(m.totalReturn * 100).toFixed(2)}% (buy & hold ${(h.totalReturn * 100).toFixed(2)}%), annualised ${annualisedNote(m.annualizedReturn, m.bars, r.barsPerYear)}\n` +
    `  strategy   ${s.sharpe.text}\n  buy & hold ${s.benchmarkSharpe.text}\n` +
    `  Sharpe difference ${d.estimate.toFixed(2)} [95% CI ${d.lo.toFixed(2)}, ${d.hi.toFixed(2)}]: ${s.vsBenchmark.verdictText}; max drawdown ${(m.maxDrawdown * 100).toFixed(2)}%`
  );
}

function downsampleCurve(ts: ArrayLike<number>, equity: ArrayLike<number>, bench: ArrayLike<number>, max: number): { tsMs: number[]; equity: number[]; benchmark: number[] } {
  const n = ts.length;
  const step = Math.max(1, Math.ceil(n / max));
  const out = { tsMs: [] as number[], equity: [] as number[], benchmark: [] as number[] };
  for (let i = 0; i < n; i += step) {
    out.tsMs.push(ts[i]!);
    out.equity.push(equity[i]!);
    out.benchmark.push(bench[i]!);
  }
  if ((n - 1) % step !== 0) {
    out.tsMs.push(ts[n - 1]!);
    out.equity.push(equity[n - 1]!);
    out.benchmark.push(bench[n - 1]!);
  }
  return out;
}

/** A JSON file of a run folder: null when absent, a DataError naming it (`what`, the path) when malformed. */
export async function readJson<T>(file: string, what: string): Promise<T | null> {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    throw new DataError(`${what} ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Reads the per-epoch JSONL log; a torn last line (a crash mid-write) is skipped. */
export async function readHistory(file: string): Promise<EpochLine[]> {
  if (!existsSync(file)) return [];
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim());
  const out: EpochLine[] = [];
  for (const [i, l] of lines.entries()) {
    try {
      const e = JSON.parse(l) as Partial<EpochLine> & { phase?: string };
      if (typeof e.epoch === 'number' && e.valLoss) out.push({ epoch: e.epoch, trainLoss: e.trainLoss ?? {}, valLoss: e.valLoss, weights: e.weights ?? {}, ...(e.timeMs !== undefined ? { timeMs: e.timeMs } : {}) });
    } catch {
      if (i !== lines.length - 1) throw new DataError(`${file}: line ${i + 1} is not valid JSON`);
    }
  }
  return out;
}

/** Step 4: the one-page HTML report from what the run folder holds. */
export async function reportStep(runDir: string, o: StepOptions & { backtests?: BacktestSummary[] }): Promise<string> {
  const paths = runPaths(path.dirname(runDir), path.basename(runDir));
  const cfg = await readJson<TrainerConfig>(paths.config, 'run config');
  const training = await readJson<{ symbols: { symbol: string; source: string; rows: number; from: string | null; to: string | null }[]; dataset: { samples: { train: number; val: number; test: number } }; classMix?: TaskClassMix[]; classMixWarnTv?: number }>(paths.training, 'training summary');
  if (!cfg || !training) throw new DataError(`${runDir} is not a trainer run folder (no config.json / training.json): run 'trainer train' first`);
  const model = await readJson<{ createdAt: string; backend: string; weights: { entries?: { shape: number[] }[] } }>(path.join(paths.model, 'model.json'), 'model.json');
  const evaluation = await readJson<Evaluation>(paths.evaluation, 'evaluation');
  const backtests = o.backtests ?? (await readJson<{ summaries?: BacktestSummary[] }>(path.join(paths.dir, 'backtest-summary.json'), 'backtest summary'))?.summaries ?? [];
  const history = await readHistory(paths.history);
  const calibration = await readJson<CalibrationReport>(paths.calibration, 'calibration report');
  const policy = (await readJson<{ report?: PolicyFitReport }>(paths.policy, 'decision policy'))?.report ?? null;
  const paramCount = (model?.weights.entries ?? []).reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0);
  const html = renderRunReport({
    name: cfg.name,
    createdAt: model?.createdAt ?? new Date().toISOString(),
    backend: model?.backend ?? currentBackend(),
    config: cfg,
    data: training.symbols.map((s) => ({ symbol: s.symbol, source: s.source, rows: s.rows, from: s.from?.slice(0, 16) ?? '-', to: s.to?.slice(0, 16) ?? '-' })),
    samples: training.dataset.samples,
    paramCount,
    history,
    evaluation,
    backtests,
    calibration,
    policy,
    ...(training.classMix ? { classMix: training.classMix } : {}),
    ...(training.classMixWarnTv !== undefined ? { classMixWarnTv: training.classMixWarnTv } : {}),
  });
  await writeFile(paths.report, html);
  o.log(`report written to ${paths.report}`);
  return paths.report;
}

/** Saves the backtest summaries the report reads (so `trainer report` can rebuild the page later). */
export async function saveBacktestSummaries(paths: RunPaths, summaries: readonly BacktestSummary[]): Promise<void> {
  await writeFile(path.join(paths.dir, 'backtest-summary.json'), JSON.stringify({ summaries }, jsonSafe) + '\n');
}
