/**
 * The command side of out-of-sample runs: open the artifact and its config, load the candles,
 * score or backtest each symbol's range, print the tables and write <run>/oos/<label>/.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '@task-agnostic/core';
import { loadModel, type TaskAgnosticModel } from '@task-agnostic/model';
import { backtestReportJson, renderReportHtml } from '@task-agnostic/backtest';
import { parseTrainerConfig, type TrainerConfig } from './config.js';
import { loadData } from './data-source.js';
import { fmt, textTable } from './format.js';
import { backtestSharpe, barReturns, fmtInterval } from './intervals.js';
import { evaluateOos, oosLabel, oosRanges, seriesNameInModel, type OosEvaluation, type OosRange } from './oos.js';
import { pooledOos, type OosPooledTask } from './oos-pooled.js';
import { compareOosRuns, printOosAgainst, type OosAgainst } from './oos-against.js';
import { openAgainst, type AgainstRun } from './against.js';
import { compareStrategies, comparisonLines, type modelVersus, versusSummary, TILT_STRATEGY } from './strategies.js';
import { backtestLine, deflatedLine, policyTrials, readPolicyFit } from './pipeline.js';
import { deflateSharpe, type TrialSet } from './deflation.js';
import { runPaths } from './run-paths.js';
import { jsonSafe, type Log } from './train-run.js';

export interface OosRequest {
  readonly runDir: string;
  /** Candles: a CSV file or a folder (default: the run's own data). */
  readonly dataPath?: string;
  readonly symbols?: readonly string[];
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly exchange?: string;
  readonly fusion?: 'consistency' | 'weighted';
  /** Another run folder to compare with on the same windows and labels (evaluate --against). */
  readonly against?: string;
}

export interface OpenedOos {
  readonly cfg: TrainerConfig;
  readonly model: TaskAgnosticModel;
  readonly ranges: OosRange[];
  readonly outDir: string;
  readonly seenSymbols: readonly string[];
}

function isOneFile(p: string): boolean {
  return !p.includes(',') && existsSync(p) && statSync(p).isFile();
}

export async function openOos(q: OosRequest): Promise<OpenedOos> {
  const paths = runPaths(path.dirname(q.runDir), path.basename(q.runDir));
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(paths.config, 'utf8'));
  } catch (err) {
    throw new DataError(`${q.runDir} is not a trainer run folder: cannot read ${paths.config} (${(err as Error).message})`);
  }
  const base = parseTrainerConfig(raw, paths.config);
  const cfg: TrainerConfig = q.fusion ? { ...base, fusion: { ...base.fusion, method: q.fusion } } : base;
  const synthetic = !q.dataPath && cfg.data.source === 'synthetic';
  const data = await loadData({
    synthetic,
    ...(q.dataPath ? { path: path.resolve(q.dataPath) } : cfg.data.path ? { path: cfg.data.path } : {}),
    // one named file without --symbols: its own symbol (not the run's, which may be another)
    symbols: q.symbols?.length ? q.symbols : q.dataPath && isOneFile(q.dataPath) ? undefined : cfg.data.symbols,
    interval: cfg.data.interval,
    ...(q.exchange ? { exchange: q.exchange } : !q.dataPath && cfg.data.exchange ? { exchange: cfg.data.exchange } : {}),
    policy: cfg.data.policy,
    bars: cfg.data.bars,
    seed: cfg.seed,
  });
  const model = await loadModel(paths.model);
  try {
    // e.g. bybit_ETHUSDT_1h.csv is the series 'bybit:ETHUSDT' of a model that also saw binance's ETHUSDT
    const named = data.map((d) => ({ ...d, symbol: seriesNameInModel(model, d.symbol, d.source) }));
    const ranges = oosRanges(model, named, q.fromMs, q.toMs);
    return { cfg, model, ranges, outDir: path.join(paths.dir, 'oos', oosLabel(ranges)), seenSymbols: Array.isArray(cfg.data.symbols) ? cfg.data.symbols : [...model.symbolNormalizers.keys()] };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

export function printOosEvaluation(evs: readonly OosEvaluation[], log: Log): void {
  for (const e of evs) {
    const rows: string[][] = [['task', 'metric', 'windows', 'model [95% CI]', 'best baseline [95% CI]', 'model - baseline [95% CI]', 'verdict', 'Diebold-Mariano']];
    for (const t of e.tasks) {
      const iv = t.vsBestBaseline;
      rows.push([
        t.task,
        t.metric,
        String(t.windows),
        iv ? fmtInterval(iv.model) : fmt(t.model[t.metric]),
        t.bestBaseline ? `${iv ? fmtInterval(iv.other) : '-'} (${t.bestBaseline})` : '-',
        iv ? fmtInterval(iv.diff) : '-',
        iv ? iv.verdictText : `too few to judge (${t.windows} windows)`,
        t.dieboldMariano ? `DM ${t.dieboldMariano.statistic.toFixed(2)}, p ${t.dieboldMariano.pValue.toFixed(3)} (h ${t.dieboldMariano.horizon})` : '-',
      ]);
    }
    log(
      `\nout-of-sample ${e.symbol} ${e.from} .. ${e.to} (${e.seenInTraining ? 'a symbol the model was trained on' : 'a symbol the model never saw'}; ${e.warmupBars} earlier bars used as warm-up only; artifact applied as saved):\n${textTable(rows)}`,
    );
  }
}

/** The per-task summary over symbols (pooledOos). */
export function printOosPooled(pooled: readonly OosPooledTask[], symbols: number, log: Log): void {
  const rows: string[][] = [['task', 'metric', 'beats best baseline', 'significantly', 'pooled model - baseline [95% CI] (> 0 favours the model)', 'verdict']];
  for (const t of pooled) {
    const p = t.pooled;
    rows.push([t.task, t.metric, `${t.beatsBaseline}/${t.symbols}`, `${t.beatsBaselineSignificant}/${t.symbols}`, p ? `${fmt(p.value)} [${fmt(p.lo)}, ${fmt(p.hi)}]` : '-', p ? p.verdict : '-']);
  }
  log(`\nover the ${symbols} symbols (pooled: the mean of the symbols' differences, resampled together on their common timeline):\n${textTable(rows)}`);
}

export async function runOosEvaluate(q: OosRequest, log: Log): Promise<OosEvaluation[]> {
  const o = await openOos(q);
  let other: AgainstRun | null = null;
  try {
    if (q.against) other = await openAgainst(q.runDir, q.against, o.model);
    const evs = o.ranges.map((r, i) => evaluateOos(o.model, r, o.seenSymbols, o.cfg.seed + i));
    printOosEvaluation(evs, log);
    const pooled = evs.length > 1 ? pooledOos(o.model, evs, o.cfg.seed) : null;
    if (pooled) printOosPooled(pooled, evs.length, log);
    let against: OosAgainst | null = null;
    if (other) {
      // the other artifact as saved on the same candles; its own warm-up decides its first row
      const data = o.ranges.map((r) => ({ symbol: r.symbol, interval: r.interval, candles: r.candles, source: r.source, dropped: 0, filled: 0 }));
      let ranges: OosRange[];
      try {
        ranges = oosRanges(other.model, data, q.fromMs, q.toMs);
      } catch (err) {
        throw new DataError(`--against ${other.dir}: ${(err as Error).message}`);
      }
      const seen = Array.isArray(other.cfg.data.symbols) ? other.cfg.data.symbols : [...other.model.symbolNormalizers.keys()];
      const otherEvs = ranges.map((r, i) => evaluateOos(other!.model, r, seen, o.cfg.seed + i));
      against = compareOosRuns(o.model, evs, otherEvs, other.dir, o.cfg.seed);
      printOosAgainst(against, log);
    }
    await mkdir(o.outDir, { recursive: true });
    const file = path.join(o.outDir, 'evaluation.json');
    const data = o.ranges.map((r) => ({ symbol: r.symbol, source: r.source, from: r.from, to: r.to, warmupBars: r.warmupBars }));
    await writeFile(file, JSON.stringify({ data, evaluations: evs, ...(pooled ? { pooled } : {}), ...(against ? { against } : {}) }, jsonSafe, 2) + '\n');
    log(`out-of-sample evaluation written to ${file}`);
    return evs;
  } finally {
    o.model.dispose();
    other?.model.dispose();
  }
}

export async function runOosBacktest(q: OosRequest, log: Log): Promise<string> {
  const o = await openOos(q);
  try {
    await mkdir(o.outDir, { recursive: true });
    const out: unknown[] = [];
    const versus: ReturnType<typeof modelVersus>[] = [];
    const tiltVersus: ReturnType<typeof modelVersus>[] = [];
    const fit = o.model.decisionPolicy ? await readPolicyFit(path.join(q.runDir, 'decision-policy.json')) : null;
    for (const [i, r] of o.ranges.entries()) {
      const d = { symbol: r.symbol, interval: r.interval, candles: r.candles, source: r.source, dropped: 0, filled: 0 };
      // the naive strategies beside the model; their GARCH is fitted on the bars before the range only
      const c = compareStrategies(o.cfg, o.model, d, r.start, r.start, r.candles.length, log);
      const b = c.model;
      const s = backtestSharpe(b.result, o.cfg.seed + i);
      log(backtestLine(`${r.symbol} (out of sample ${r.from} .. ${r.to})`, b.result, s));
      const trials = policyTrials(o.cfg, o.model, 'fitted', fit, r.symbol);
      const deflated = trials ? deflateSharpe(barReturns(b.result.equity, b.result.initialEquity), trials, b.result.barsPerYear, b.result.metrics.trades) : null;
      log(deflatedLine(deflated));
      const cl = comparisonLines(c, o.cfg.seed + i);
      for (const l of cl.lines) log(l);
      versus.push(cl.vsVolTargeted);
      tiltVersus.push(cl.tiltVsVolTargeted);
      const tiltRun = c.runs.find((x) => x.name === TILT_STRATEGY);
      const tiltTrials = fit?.tilt?.trials[r.symbol] ?? meanTrials(fit?.tilt?.trials);
      const tiltDeflated = tiltRun && tiltTrials ? deflateSharpe(barReturns(tiltRun.result.equity, tiltRun.result.initialEquity), tiltTrials, tiltRun.result.barsPerYear, tiltRun.result.metrics.trades) : null;
      if (tiltDeflated) log(`  ${TILT_STRATEGY}: deflated Sharpe, for the ${tiltDeflated.trials} tilt candidates tried on validation: ${tiltDeflated.text}`);
      await writeFile(path.join(o.outDir, `backtest-${r.symbol}.html`), renderReportHtml(b.result, { title: `${o.cfg.name}: out-of-sample backtest ${r.symbol} ${r.from} .. ${r.to}`, comparison: c.runs }));
      out.push({
        symbol: r.symbol,
        from: r.from,
        to: r.to,
        warmupBars: r.warmupBars,
        seenInTraining: o.seenSymbols.includes(r.symbol),
        decisions: b.decisions,
        topReasons: b.topReasons,
        sharpe: s,
        deflated,
        vsVolTargeted: cl.vsVolTargeted,
        tiltVsVolTargeted: cl.tiltVsVolTargeted,
        tiltDeflated,
        report: backtestReportJson(b.result, c.runs),
      });
    }
    if (o.ranges.length > 1) log(versusSummary(versus));
    if (o.ranges.length > 1 && tiltVersus.some((x) => x !== null)) log(versusSummary(tiltVersus, TILT_STRATEGY));
    const file = path.join(o.outDir, 'backtest.json');
    await writeFile(file, JSON.stringify({ symbols: out }, jsonSafe) + '\n');
    log(`out-of-sample backtest reports written to ${o.outDir}`);
    return o.outDir;
  } finally {
    o.model.dispose();
  }
}

/** A symbol outside the fit: the trials' count with the mean Sharpe variance of the fitted symbols. */
function meanTrials(t: Readonly<Record<string, TrialSet>> | undefined): TrialSet | null {
  const all = t ? Object.values(t) : [];
  return all.length ? { count: all[0]!.count, sharpeVariance: all.reduce((a, x) => a + x.sharpeVariance, 0) / all.length } : null;
}
