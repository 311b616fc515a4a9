/**
 * `trainer walk-forward`: retrain per fold and test on the next period, N folds of a fixed test
 * length ending at the data's end; expanding (train from the start) or rolling (the first fold's
 * training length, moved forward). Each fold trains on bars before its test period only (its own
 * validation split for early stopping and the decision thresholds, nothing from the test period),
 * then the fold's model is applied as saved to the test period (walk-forward-fold.ts, `runFold`).
 * The folds' out-of-sample windows and the bar returns of the model and the naive strategies are
 * stitched and judged with intervals (walk-forward-summary.ts).
 *
 * Resumable: each finished fold is one JSON line in <out>/<name>/walk-forward/folds.jsonl; a
 * killed run started again with the same arguments continues after the last finished fold.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError, INTERVAL_MS } from '@task-agnostic/core';
import type { TrainerConfig } from './config.js';
import { jsonSafe, type Log } from './train-run.js';
import type { Executor } from './job.js';
import type { FoldPayload } from './walk-forward-job.js';
import { createHash } from 'node:crypto';
import { loadWalkForwardData, runFold, type FoldRecord, type FoldSpan } from './walk-forward-fold.js';
import { renderWalkForwardHtml } from './walk-forward-html.js';
import { printWalkForward, summarise, type Retrain, type WalkForwardSummary } from './walk-forward-summary.js';
import { isoMinute as iso } from './format.js';

/** Bumped when a fold record's shape changes: folds of an older format are not reused. */
const FOLD_FORMAT = 2;

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

export interface WalkForwardOptions {
  readonly folds: number;
  readonly testLength: Period;
  readonly retrain: Retrain;
  readonly log: Log;
  readonly progress?: boolean;
  /** Runs the folds as jobs (local worker processes or the BullMQ queue); none: one after another in this process. */
  readonly executor?: Executor;
}

/** Identifies the schedule, so a resumed run only reuses folds of the same walk-forward (the `key` of runFold). */
export function walkForwardKey(cfg: TrainerConfig, o: Pick<WalkForwardOptions, 'retrain'>, spans: readonly FoldSpan[]): string {
  return JSON.stringify({ format: FOLD_FORMAT, model: cfg.model, policy: cfg.policy, fusion: cfg.fusion, risk: cfg.risk, backtest: cfg.backtest, naive: cfg.naive, training: cfg.training, data: { ...cfg.data, split: undefined }, seed: cfg.seed, retrain: o.retrain, spans });
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

/** Runs (or resumes) a walk-forward and writes walk-forward/summary.json. */
export async function runWalkForward(cfg: TrainerConfig, o: WalkForwardOptions): Promise<WalkForwardSummary> {
  const data = await loadWalkForwardData(cfg);
  const barMs = INTERVAL_MS[cfg.data.interval];
  const startMs = Math.min(...data.map((d) => d.candles.tsMs[0]!));
  const endMs = Math.max(...data.map((d) => d.candles.tsMs[d.candles.length - 1]!)) + barMs;
  const spans = foldSpans(startMs, endMs, o.folds, o.testLength, o.retrain);
  const dir = path.resolve(cfg.out, cfg.name, 'walk-forward');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'folds.jsonl');
  const key = walkForwardKey(cfg, o, spans);
  const done = await readFolds(file, key);
  if (done.length) o.log(`walk-forward: resuming after fold ${done.length}/${spans.length} (${file})`);
  const records = [...done];
  const t0 = Date.now();
  // folds finish in any order on an executor: a fold is done when its line is in folds.jsonl
  const todo = spans.filter((s) => !done.some((r) => r.fold.index === s.index));
  const finish = async (span: FoldSpan, rec: FoldRecord): Promise<void> => {
    const k = span.index;
    await appendFile(file, JSON.stringify(rec, jsonSafe) + '\n');
    records.push(rec);
    const elapsed = (Date.now() - t0) / 1000;
    const left = spans.length - records.length;
    const per = elapsed / (records.length - done.length);
    o.log(
      `fold ${k + 1}/${spans.length} done: trained ${rec.trainSeconds.toFixed(0)} s on ${rec.trainWindows} windows (fold ${rec.wallSeconds.toFixed(0)} s wall, ${rec.cpuSeconds.toFixed(0)} s CPU); ` +
        rec.backtests
          .map((b) => {
            const m = b.strategies[0]!;
            const bh = b.strategies.find((x) => x.name === 'buy-and-hold');
            return `${b.symbol} ${(m.totalReturn * 100).toFixed(2)}%${bh ? ` (buy & hold ${(bh.totalReturn * 100).toFixed(2)}%)` : ''}, ${m.trades} trades`;
          })
          .join('; ') +
        (left ? `; about ${((per * left) / 60).toFixed(1)} min left` : ''),
    );
  };
  const runOne = async (span: FoldSpan): Promise<void> => {
    const k = span.index;
    o.log(`fold ${k + 1}/${spans.length}: train ${iso(span.trainStartMs)} .. ${iso(span.testStartMs)}, test ${iso(span.testStartMs)} .. ${iso(span.testEndMs)} (${o.retrain})`);
    if (!o.executor) return finish(span, await runFold(cfg, span, { key, data, log: o.log, progress: o.progress ?? false }));
    const payload: FoldPayload = { config: cfg, span, key };
    const out = await o.executor.run({ id: `wf-${createHash('sha256').update(key).digest('hex').slice(0, 10)}-f${k}`, kind: 'fold', payload }, (l) => o.log(`  fold ${k + 1}: ${l}`));
    if (!out.ok) throw new DataError(`fold ${k + 1} failed on ${o.executor.description}: ${out.error}`);
    return finish(span, out.result as FoldRecord);
  };
  if (o.executor) await Promise.all(todo.map(runOne));
  else for (const span of todo) await runOne(span);
  records.sort((x, y) => x.fold.index - y.fold.index);
  const summary = summarise(cfg, records, o);
  await writeFile(path.join(dir, 'summary.json'), JSON.stringify(summary, jsonSafe, 2) + '\n');
  await writeFile(path.join(dir, 'report.html'), renderWalkForwardHtml(summary, cfg.name));
  printWalkForward(summary, o.log);
  o.log(`walk-forward written to ${dir}`);
  return summary;
}

