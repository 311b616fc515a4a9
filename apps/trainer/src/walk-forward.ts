/**
 * `trainer walk-forward`: retrain per fold and test on the next period, N folds of a fixed test
 * length ending at the data's end; expanding (train from the start) or rolling (the first fold's
 * training length, moved forward). Each fold trains on bars before its test period only (its own
 * validation split for early stopping, nothing from the test period), then the fold's model is
 * applied as saved to the test period: per-task metrics beside the naive baselines and a backtest.
 * The folds' out-of-sample windows and bar returns are stitched and judged with intervals.
 *
 * Resumable: each finished fold is one JSON line in <out>/<name>/walk-forward/folds.jsonl; a
 * killed run started again with the same arguments continues after the last finished fold.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError, INTERVAL_MS, lowerBound, sliceColumns, barsPerYear } from '@task-agnostic/core';
import { getTask, type Task } from '@task-agnostic/heads';
import type { TrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';
import { fmt, textTable } from './format.js';
import {
  backtestSharpe,
  barReturns,
  compareOnWindows,
  compareSharpe,
  fmtInterval,
  sharpeReport,
  type SharpeDifference,
  type SharpeReport,
  type WindowComparison,
} from './intervals.js';
import { evaluateOos, oosRaw, oosRanges, type OosEvaluation } from './oos.js';
import { backtestSymbol } from './backtest-run.js';
import { loadConfigData } from './pipeline.js';
import { trainRun, jsonSafe, type Log } from './train-run.js';

export type Retrain = 'expanding' | 'rolling';

/** A test length such as 3mo, 6w, 30d, 12h or 1y. */
export interface Period {
  readonly months: number;
  readonly ms: number;
  readonly text: string;
}

export function parsePeriod(s: string): Period {
  const m = /^(\d+)(mo|y|w|d|h)$/.exec(s.trim());
  if (!m || Number(m[1]) <= 0) throw new ConfigError(`--test-length '${s}' is not a period such as 3mo, 6w, 30d, 12h or 1y`, 'test-length');
  const k = Number(m[1]);
  const unit = m[2]!;
  if (unit === 'mo') return { months: k, ms: 0, text: s };
  if (unit === 'y') return { months: 12 * k, ms: 0, text: s };
  const ms = { w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000 }[unit as 'w' | 'd' | 'h'] * k;
  return { months: 0, ms, text: s };
}

function back(ms: number, p: Period, times: number): number {
  if (p.months) {
    const d = new Date(ms);
    d.setUTCMonth(d.getUTCMonth() - p.months * times);
    return d.getTime();
  }
  return ms - p.ms * times;
}

export interface FoldSpan {
  readonly index: number;
  readonly trainStartMs: number;
  readonly testStartMs: number;
  readonly testEndMs: number;
}

const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/**
 * Fold dates: N test periods of length p ending at `endMs` (exclusive), the last ending at the data's
 * end; training from `startMs` (expanding) or over the first fold's training length (rolling).
 */
export function foldSpans(startMs: number, endMs: number, folds: number, p: Period, retrain: Retrain): FoldSpan[] {
  if (!Number.isInteger(folds) || folds < 1) throw new ConfigError(`--folds must be a positive integer, got ${folds}`, 'folds');
  const firstTest = back(endMs, p, folds);
  if (firstTest <= startMs) {
    throw new DataError(`${folds} test periods of ${p.text} need data from before ${iso(firstTest)} for training, but the data starts at ${iso(startMs)} and ends at ${iso(endMs)}`);
  }
  const trainLength = firstTest - startMs;
  const out: FoldSpan[] = [];
  for (let k = 0; k < folds; k++) {
    const testStartMs = back(endMs, p, folds - k);
    const testEndMs = back(endMs, p, folds - k - 1);
    out.push({ index: k, trainStartMs: retrain === 'expanding' ? startMs : Math.max(startMs, testStartMs - trainLength), testStartMs, testEndMs });
  }
  return out;
}

/** What one finished fold leaves on disk (one JSON line). */
export interface FoldRecord {
  readonly key: string;
  readonly fold: FoldSpan;
  readonly trainSeconds: number;
  readonly trainWindows: number;
  readonly evaluations: OosEvaluation[];
  /** Per symbol: the fold's per-bar returns of the strategy and of buy & hold, and its trades. */
  readonly backtests: { symbol: string; bars: number; trades: number; strategy: number[]; benchmark: number[]; totalReturn: number; benchmarkReturn: number }[];
  /** Per task and symbol: the raw test windows (model, best baseline, targets), for pooled intervals. */
  readonly windows: Record<string, Record<string, { outputs: number[]; baseline: number[]; targets: number[]; n: number }>>;
}

export interface WalkForwardOptions {
  readonly folds: number;
  readonly testLength: Period;
  readonly retrain: Retrain;
  readonly log: Log;
  readonly progress?: boolean;
}

export interface WalkForwardSummary {
  readonly folds: number;
  readonly retrain: Retrain;
  readonly testLength: string;
  /** Per task and symbol: pooled out-of-sample model vs best baseline with intervals. */
  readonly tasks: { task: string; symbol: string; comparison: WindowComparison | null }[];
  /** Per symbol: the stitched out-of-sample backtest. */
  readonly backtests: {
    symbol: string;
    bars: number;
    trades: number;
    totalReturn: number;
    benchmarkReturn: number;
    sharpe: SharpeReport;
    benchmarkSharpe: SharpeReport;
    vsBenchmark: SharpeDifference;
  }[];
  readonly perFold: { index: number; test: string; trainSeconds: number; returns: Record<string, number> }[];
  readonly trainSecondsTotal: number;
}

/** Identifies the schedule, so a resumed run only reuses folds of the same walk-forward. */
function runKey(cfg: TrainerConfig, o: WalkForwardOptions, spans: readonly FoldSpan[]): string {
  return JSON.stringify({ model: cfg.model, training: cfg.training, data: { ...cfg.data, split: undefined }, seed: cfg.seed, retrain: o.retrain, spans });
}

async function readFolds(file: string, key: string): Promise<FoldRecord[]> {
  if (!existsSync(file)) return [];
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim());
  const out: FoldRecord[] = [];
  for (const [i, l] of lines.entries()) {
    let r: FoldRecord;
    try {
      r = JSON.parse(l) as FoldRecord;
    } catch {
      if (i === lines.length - 1) break; // a torn last line: the fold did not finish
      throw new DataError(`${file}: line ${i + 1} is not valid JSON; delete the file to start over`);
    }
    if (r.key !== key) throw new DataError(`${file} holds folds of a different walk-forward (config, data or schedule changed); use another --name or delete it`);
    out.push(r);
  }
  return out;
}

function sliceData(d: SymbolData, fromMs: number, toMs: number): SymbolData {
  const c = d.candles;
  return { ...d, candles: sliceColumns(c, lowerBound(c, fromMs), lowerBound(c, toMs)) };
}

/** Runs (or resumes) a walk-forward and writes walk-forward/summary.json. */
export async function runWalkForward(cfg: TrainerConfig, o: WalkForwardOptions): Promise<WalkForwardSummary> {
  const data = await loadConfigData(cfg);
  const barMs = INTERVAL_MS[cfg.data.interval];
  const startMs = Math.min(...data.map((d) => d.candles.tsMs[0]!));
  const endMs = Math.max(...data.map((d) => d.candles.tsMs[d.candles.length - 1]!)) + barMs;
  const spans = foldSpans(startMs, endMs, o.folds, o.testLength, o.retrain);
  const dir = path.resolve(cfg.out, cfg.name, 'walk-forward');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'folds.jsonl');
  const key = runKey(cfg, o, spans);
  const done = await readFolds(file, key);
  if (done.length) o.log(`walk-forward: resuming after fold ${done.length}/${spans.length} (${file})`);
  const valFraction = 'valFraction' in cfg.data.split ? cfg.data.split.valFraction : 0.15;
  const foldCfg: TrainerConfig = { ...cfg, data: { ...cfg.data, split: { valFraction, testFraction: 0 } } };
  const records = [...done];
  const t0 = Date.now();
  for (const span of spans.slice(done.length)) {
    const k = span.index;
    o.log(`fold ${k + 1}/${spans.length}: train ${iso(span.trainStartMs)} .. ${iso(span.testStartMs)}, test ${iso(span.testStartMs)} .. ${iso(span.testEndMs)} (${o.retrain})`);
    const trainData = data.map((d) => sliceData(d, span.trainStartMs, span.testStartMs)).filter((d) => d.candles.length > 0);
    if (trainData.length === 0) throw new DataError(`fold ${k + 1}: no training candles before ${iso(span.testStartMs)}`);
    const ft = Date.now();
    const r = await trainRun({ ...foldCfg, seed: cfg.seed + k }, trainData, { progress: o.progress ?? false });
    const trainSeconds = (Date.now() - ft) / 1000;
    try {
      // The fold's model as saved, on candles up to the end of its test period (earlier bars: warm-up).
      const testData = data.map((d) => sliceData(d, d.candles.tsMs[0]!, span.testEndMs)).filter((d) => d.candles.length && d.candles.tsMs[d.candles.length - 1]! >= span.testStartMs);
      const ranges = oosRanges(r.model, testData, span.testStartMs, span.testEndMs);
      const evaluations = ranges.map((rg, i) => evaluateOos(r.model, rg, cfg.data.symbols, cfg.seed + 1000 * k + i));
      const windows: FoldRecord['windows'] = {};
      for (const ev of evaluations) {
        for (const t of ev.tasks) {
          const raw = oosRaw(t);
          if (!raw) continue;
          (windows[t.task] ??= {})[ev.symbol] = { outputs: Array.from(raw.outputs), baseline: Array.from(raw.baseline), targets: Array.from(raw.targets), n: raw.n };
        }
      }
      const backtests = ranges.map((rg) => {
        const b = backtestSymbol(cfg, r.model, { symbol: rg.symbol, interval: rg.interval, candles: rg.candles, source: rg.source, dropped: 0, filled: 0 }, rg.start);
        return {
          symbol: rg.symbol,
          bars: b.result.metrics.bars,
          trades: b.result.metrics.trades,
          strategy: Array.from(barReturns(b.result.equity, b.result.initialEquity)),
          benchmark: Array.from(barReturns(b.result.benchmark, b.result.initialEquity)),
          totalReturn: b.result.metrics.totalReturn,
          benchmarkReturn: b.result.benchmarkMetrics.totalReturn,
        };
      });
      const rec: FoldRecord = { key, fold: span, trainSeconds, trainWindows: r.dataset.train.n, evaluations, backtests, windows };
      await appendFile(file, JSON.stringify(rec, jsonSafe) + '\n');
      records.push(rec);
      const elapsed = (Date.now() - t0) / 1000;
      const left = spans.length - records.length;
      const per = elapsed / (records.length - done.length);
      o.log(
        `fold ${k + 1}/${spans.length} done: trained ${trainSeconds.toFixed(0)} s on ${r.dataset.train.n} windows; ` +
          backtests.map((b) => `${b.symbol} ${(b.totalReturn * 100).toFixed(2)}% (buy & hold ${(b.benchmarkReturn * 100).toFixed(2)}%), ${b.trades} trades`).join('; ') +
          (left ? `; about ${(per * left / 60).toFixed(1)} min left` : ''),
      );
    } finally {
      r.model.dispose();
    }
  }
  const summary = summarise(cfg, records, o);
  await writeFile(path.join(dir, 'summary.json'), JSON.stringify(summary, jsonSafe, 2) + '\n');
  printWalkForward(summary, o.log);
  o.log(`walk-forward written to ${dir}`);
  return summary;
}

/** Pools the folds: per task and symbol the stitched windows, per symbol the stitched bar returns. */
export function summarise(cfg: TrainerConfig, records: readonly FoldRecord[], o: Pick<WalkForwardOptions, 'folds' | 'retrain' | 'testLength'>): WalkForwardSummary {
  const bpy = barsPerYear(cfg.data.interval);
  const tasks: WalkForwardSummary['tasks'] = [];
  const taskIds = [...new Set(records.flatMap((r) => Object.keys(r.windows)))];
  for (const id of taskIds) {
    const symbols = [...new Set(records.flatMap((r) => Object.keys(r.windows[id] ?? {})))];
    for (const sym of symbols) {
      const parts = records.map((r) => r.windows[id]?.[sym]).filter((x): x is NonNullable<typeof x> => !!x);
      const ev = records.flatMap((r) => r.evaluations.filter((e) => e.symbol === sym).flatMap((e) => e.tasks.filter((t) => t.task === id)))[0];
      const spec = cfg.model.tasks.find((t) => (typeof t === 'string' ? t : t.id) === id);
      if (!ev || !spec) continue;
      const task: Task = getTask(id, typeof spec === 'string' ? undefined : spec.config);
      const cat = (k: 'outputs' | 'baseline' | 'targets'): Float32Array => Float32Array.from(parts.flatMap((p) => p[k]));
      const n = parts.reduce((a, p) => a + p.n, 0);
      tasks.push({ task: id, symbol: sym, comparison: n ? compareOnWindows(task, ev.metric, ev.higherIsBetter, cat('outputs'), cat('baseline'), cat('targets'), n, { seed: cfg.seed }) : null });
    }
  }
  const symbols = [...new Set(records.flatMap((r) => r.backtests.map((b) => b.symbol)))];
  const backtests = symbols.map((sym) => {
    const parts = records.flatMap((r) => r.backtests.filter((b) => b.symbol === sym));
    const s = Float64Array.from(parts.flatMap((p) => p.strategy));
    const b = Float64Array.from(parts.flatMap((p) => p.benchmark));
    const trades = parts.reduce((a, p) => a + p.trades, 0);
    const grow = (x: Float64Array): number => x.reduce((a, r) => a * (1 + r), 1) - 1;
    return {
      symbol: sym,
      bars: s.length,
      trades,
      totalReturn: grow(s),
      benchmarkReturn: grow(b),
      sharpe: sharpeReport(s, bpy, trades),
      benchmarkSharpe: sharpeReport(b, bpy),
      vsBenchmark: compareSharpe(s, b, bpy, trades, cfg.seed),
    };
  });
  return {
    folds: o.folds,
    retrain: o.retrain,
    testLength: o.testLength.text,
    tasks,
    backtests,
    perFold: records.map((r) => ({ index: r.fold.index, test: `${iso(r.fold.testStartMs)} .. ${iso(r.fold.testEndMs)}`, trainSeconds: r.trainSeconds, returns: Object.fromEntries(r.backtests.map((b) => [b.symbol, b.totalReturn])) })),
    trainSecondsTotal: records.reduce((a, r) => a + r.trainSeconds, 0),
  };
}

export function printWalkForward(s: WalkForwardSummary, log: Log): void {
  const rows: string[][] = [['task', 'symbol', 'metric', 'windows', 'model [95% CI]', 'best baseline [95% CI]', 'model - baseline [95% CI]', 'verdict']];
  for (const t of s.tasks) {
    const c = t.comparison;
    rows.push([t.task, t.symbol, c?.metric ?? '-', String(c?.n ?? 0), fmtInterval(c?.model), fmtInterval(c?.other), fmtInterval(c?.diff), c?.verdictText ?? 'too few to judge (0 windows)']);
  }
  log(`\nwalk-forward (${s.folds} folds of ${s.testLength}, ${s.retrain}): stitched out-of-sample windows of every fold, each against the fold's best naive baseline:\n${textTable(rows)}`);
  const bt: string[][] = [['symbol', 'bars', 'trades', 'return', 'buy & hold', 'strategy Sharpe', 'buy & hold Sharpe', 'difference [95% CI]', 'verdict']];
  for (const b of s.backtests) {
    const d = b.vsBenchmark.diff;
    bt.push([b.symbol, String(b.bars), String(b.trades), `${(b.totalReturn * 100).toFixed(2)}%`, `${(b.benchmarkReturn * 100).toFixed(2)}%`, b.sharpe.text.replace(/, \d+ bars.*$/, ''), b.benchmarkSharpe.text.replace(/, \d+ bars.*$/, ''), `${fmt(d.estimate, 2)} [${fmt(d.lo, 2)}, ${fmt(d.hi, 2)}]`, b.vsBenchmark.verdictText]);
  }
  log(`\nstitched out-of-sample backtests (each fold's model on its own test period, returns chained):\n${textTable(bt)}`);
  log(`training time over ${s.perFold.length} folds: ${(s.trainSecondsTotal / 60).toFixed(1)} min`);
}
