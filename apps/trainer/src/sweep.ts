/**
 * `trainer sweep`: hyperparameter search over a space (sweep-space), trials run by an executor
 * (the local process pool, or the BullMQ queue). Random search draws trial i's parameters from
 * a stream seeded by (seed, i), so a sweep is the same whichever worker runs which trial; TPE
 * proposes from the finished trials (sweep-tpe), so with several trials in flight its proposals
 * depend on which finished first.
 *
 * Every finished trial (succeeded or failed) is one file, <dir>/trials/<index>.json, written
 * atomically and keyed by the trial index: a sweep started again with the same space, strategy
 * and seed skips them (no finished trial lost or repeated), and a result that arrives twice (a
 * job re-run after a worker was thought dead) is recorded once.
 *
 * The objective reads validation figures only. The best trial's test figures carry the deflated
 * Sharpe ratio (core's deflated-sharpe.ts): its test bar returns against the Sharpe ratio the
 * best of N unskilled trials would show, N the finished trials, their spread the variance of the
 * trials' validation Sharpe ratios (the figures the choice was made on).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, DataError, Rng, deflatedSharpeRatio, sharpeMoments, type DeflatedSharpe } from '@task-agnostic/core';
import { fmt, textTable } from './format.js';
import type { Executor, JobOutcome } from './job.js';
import { paramImportance, type ParamImportance } from './param-importance.js';
import { configFor, samplePoint, type Params, type SearchSpace } from './sweep-space.js';
import { renderSweepReport } from './sweep-report.js';
import { objectiveOf, type TrialResult } from './sweep-trial.js';
import { suggestTpe } from './sweep-tpe.js';
import { jsonSafe, type Log } from './train-run.js';

export type SweepStrategy = 'random' | 'tpe';

export interface SweepOptions {
  readonly space: SearchSpace;
  readonly trials: number;
  readonly objective: string;
  readonly strategy: SweepStrategy;
  readonly seed: number;
  /** The sweep's folder: trials/, results.json, report.html. */
  readonly dir: string;
  readonly executor: Executor;
  readonly log: Log;
}

export interface TrialRecord {
  readonly index: number;
  readonly jobId: string;
  readonly params: Params;
  readonly status: 'ok' | 'failed';
  /** The objective's value (null for a failed trial or a missing figure). */
  readonly objective: number | null;
  readonly error?: string;
  readonly result?: TrialResult;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly attempts: number;
  readonly pid: number;
}

export interface SweepSummary {
  readonly objective: string;
  readonly direction: 'min' | 'max';
  readonly strategy: SweepStrategy;
  readonly seed: number;
  readonly params: readonly string[];
  readonly trials: readonly Omit<TrialRecord, 'result'>[];
  readonly finished: number;
  readonly failed: number;
  readonly best: {
    readonly index: number;
    readonly params: Params;
    readonly objective: number;
    readonly val: Omit<TrialResult['val'], never>;
    readonly test: Omit<TrialResult['test'], 'returns'>;
    /** Deflated Sharpe of the best trial's test returns given the number of trials; null when it cannot be computed. */
    readonly deflatedSharpe: DeflatedSharpe | null;
    readonly trialsSharpeVariance: number | null;
  } | null;
  readonly importance: readonly ParamImportance[];
}

const hash = (s: string, n = 10): string => createHash('sha256').update(s).digest('hex').slice(0, n);

/** Identifies a sweep: a folder holds the trials of one sweep only. */
export function sweepKey(o: Pick<SweepOptions, 'space' | 'strategy' | 'seed' | 'objective'>): string {
  return hash(JSON.stringify({ base: o.space.base, params: o.space.params, strategy: o.strategy, seed: o.seed, ...(o.strategy === 'tpe' ? { objective: o.objective } : {}) }));
}

/** Trial i's parameters under random search: a function of (seed, i) only. */
export function randomParams(space: SearchSpace, seed: number, index: number): Params {
  return samplePoint(space, new Rng(`sweep:${seed}:trial:${index}`));
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

async function readTrials(dir: string): Promise<Map<number, TrialRecord>> {
  const out = new Map<number, TrialRecord>();
  if (!existsSync(dir)) return out;
  for (const f of (await readdir(dir)).filter((x) => /^\d+\.json$/.test(x)).sort()) {
    try {
      const r = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as TrialRecord;
      out.set(r.index, r);
    } catch {
      throw new DataError(`${path.join(dir, f)} is not valid JSON; delete it and that trial runs again`);
    }
  }
  return out;
}

function describeParams(p: Params): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? String(v) : fmt(v, 4)) : String(v)}`)
    .join(' ');
}

/** Runs (or resumes) a sweep and writes results.json and report.html. */
export async function runSweep(o: SweepOptions): Promise<SweepSummary> {
  if (!Number.isInteger(o.trials) || o.trials < 1) throw new ConfigError(`--trials must be a positive integer, got ${o.trials}`, 'trials');
  const obj = objectiveOf(o.objective);
  const key = sweepKey(o);
  await mkdir(path.join(o.dir, 'trials'), { recursive: true });
  const manifest = path.join(o.dir, 'sweep.json');
  if (existsSync(manifest)) {
    const m = JSON.parse(await readFile(manifest, 'utf8')) as { key?: string };
    if (m.key !== key) throw new ConfigError(`${o.dir} holds a different sweep (space, strategy or seed changed); use another --out or delete it`, 'out');
  } else {
    await writeAtomic(manifest, JSON.stringify({ key, strategy: o.strategy, seed: o.seed, objective: o.objective, params: o.space.params, base: o.space.base }, jsonSafe, 2) + '\n');
  }
  const trialsDir = path.join(o.dir, 'trials');
  const done = await readTrials(trialsDir);
  for (const i of [...done.keys()]) if (i >= o.trials) done.delete(i);
  if (done.size) o.log(`sweep: resuming with ${done.size}/${o.trials} trials finished (${trialsDir})`);
  o.log(`sweep: ${o.trials} trials, ${o.strategy} search over ${o.space.names.join(', ')}; objective ${o.objective} (${obj.direction === 'min' ? 'lower' : 'higher'} is better, validation rows only); ${o.executor.description}`);

  const better = (a: number, b: number) => (obj.direction === 'min' ? a < b : a > b);
  const bestSoFar = (): TrialRecord | null => {
    let b: TrialRecord | null = null;
    for (const r of done.values()) if (r.objective !== null && (!b || better(r.objective, b.objective!))) b = r;
    return b;
  };
  const observations = () => [...done.values()].sort((a, b) => a.index - b.index).map((r) => ({ params: r.params, loss: r.objective === null ? null : obj.direction === 'min' ? r.objective : -r.objective }));

  const inflight = new Map<number, Promise<void>>();
  const t0 = Date.now();
  let started = 0;
  const launch = (index: number): void => {
    const params = o.strategy === 'random' ? randomParams(o.space, o.seed, index) : suggestTpe(o.space, observations(), new Rng(`sweep:${o.seed}:tpe:${index}`));
    const config = configFor(o.space, params);
    const jobId = `sweep-${key}-t${index}-${hash(JSON.stringify(params), 8)}`;
    started++;
    const p = o.executor
      .run({ id: jobId, kind: 'trial', payload: { index, config } }, (line) => o.log(`  trial ${index}: ${line}`))
      .then(async (out: JobOutcome) => {
        if (done.has(index)) return; // recorded already: a duplicate delivery counts once
        const result = out.ok ? (out.result as TrialResult) : undefined;
        const value = result ? obj.read(result) : null;
        const rec: TrialRecord = {
          index,
          jobId,
          params,
          status: out.ok ? 'ok' : 'failed',
          objective: value,
          ...(out.ok ? {} : { error: out.error }),
          ...(result ? { result } : {}),
          seconds: out.seconds,
          cpuSeconds: out.cpuSeconds,
          attempts: out.attempts,
          pid: out.pid,
        };
        await writeAtomic(path.join(trialsDir, `${String(index).padStart(4, '0')}.json`), JSON.stringify(rec, jsonSafe) + '\n');
        done.set(index, rec);
        const best = bestSoFar();
        const left = o.trials - done.size;
        const elapsed = (Date.now() - t0) / 1000;
        o.log(
          rec.status === 'ok'
            ? `trial ${index} done (${done.size}/${o.trials}) in ${out.seconds.toFixed(1)} s, cpu ${out.cpuSeconds.toFixed(1)} s${out.attempts > 1 ? `, attempt ${out.attempts}` : ''}: ${o.objective} ${fmt(value)}; ${describeParams(params)}${best ? `; best ${fmt(best.objective)} (trial ${best.index})` : ''}${left && started ? `; about ${((elapsed / Math.max(1, done.size)) * left / 60).toFixed(1)} min left` : ''}`
            : `trial ${index} FAILED (${done.size}/${o.trials}): ${out.ok ? '' : out.error}; ${describeParams(params)}; the sweep goes on`,
        );
      })
      .finally(() => inflight.delete(index));
    inflight.set(index, p);
  };

  let nextIndex = 0;
  const pickNext = (): number | null => {
    while (nextIndex < o.trials && (done.has(nextIndex) || inflight.has(nextIndex))) nextIndex++;
    return nextIndex < o.trials ? nextIndex : null;
  };
  for (;;) {
    let i: number | null;
    while (inflight.size < o.executor.slots && (i = pickNext()) !== null) launch(i);
    if (!inflight.size) break;
    await Promise.race(inflight.values());
  }
  const summary = summariseSweep(o, [...done.values()].sort((a, b) => a.index - b.index));
  await writeFile(path.join(o.dir, 'results.json'), JSON.stringify(summary, jsonSafe, 2) + '\n');
  await writeFile(path.join(o.dir, 'report.html'), renderSweepReport(summary, o.space));
  printSweep(summary, o.log);
  o.log(`sweep written to ${o.dir} (results.json, report.html, trials/)`);
  return summary;
}

function variance(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
}

export function summariseSweep(o: Pick<SweepOptions, 'objective' | 'strategy' | 'seed' | 'space'>, records: readonly TrialRecord[]): SweepSummary {
  const obj = objectiveOf(o.objective);
  let best: TrialRecord | null = null;
  for (const r of records) if (r.objective !== null && r.result && (!best || (obj.direction === 'min' ? r.objective < best.objective! : r.objective > best.objective!))) best = r;
  const ok = records.filter((r) => r.status === 'ok' && r.result);
  const valSharpes = ok.map((r) => r.result!.val.sharpePerBar).filter((x): x is number => x !== null && Number.isFinite(x));
  const v = variance(valSharpes);
  let dsr: DeflatedSharpe | null = null;
  if (best?.result && best.result.test.returns.length > 2 && v !== null) {
    const d = deflatedSharpeRatio(sharpeMoments(best.result.test.returns), Math.max(1, ok.length), v);
    dsr = Number.isFinite(d.dsr) ? d : null;
  }
  const { returns: _r, ...testFigures } = best?.result?.test ?? ({ returns: [] } as unknown as TrialResult['test']);
  return {
    objective: o.objective,
    direction: obj.direction,
    strategy: o.strategy,
    seed: o.seed,
    params: o.space.names,
    trials: records.map(({ result: _x, ...r }) => ({ ...r, ...(r.status === 'ok' && _x ? { val: { loss: _x.val.loss, sharpe: _x.val.sharpe, trades: _x.val.trades }, epochs: _x.epochs } : {}) })),
    finished: records.length,
    failed: records.filter((r) => r.status === 'failed').length,
    best: best?.result
      ? { index: best.index, params: best.params, objective: best.objective!, val: best.result.val, test: testFigures as Omit<TrialResult['test'], 'returns'>, deflatedSharpe: dsr, trialsSharpeVariance: v }
      : null,
    importance: paramImportance(o.space, records.filter((r) => r.objective !== null).map((r) => ({ params: r.params, value: r.objective! }))),
  };
}

export function printSweep(s: SweepSummary, log: Log): void {
  const head = ['trial', 'status', s.objective, ...s.params, 'val Sharpe', 'epochs', 'seconds', 'cpu s'];
  const rows: string[][] = [head];
  for (const t of s.trials) {
    const x = t as Omit<TrialRecord, 'result'> & { val?: { sharpe: number | null }; epochs?: number };
    rows.push([
      `${t.index}${s.best?.index === t.index ? ' *' : ''}`,
      t.status === 'ok' ? 'ok' : `failed: ${(t.error ?? '').slice(0, 40)}`,
      fmt(t.objective),
      ...s.params.map((p) => {
        const v = t.params[p];
        return typeof v === 'number' ? (Number.isInteger(v) ? String(v) : fmt(v, 4)) : String(v);
      }),
      fmt(x.val?.sharpe, 2),
      String(x.epochs ?? '-'),
      t.seconds.toFixed(1),
      t.cpuSeconds.toFixed(1),
    ]);
  }
  log(`\nsweep (${s.strategy}, ${s.finished} trials, ${s.failed} failed; objective ${s.objective}, ${s.direction === 'min' ? 'lower' : 'higher'} is better; * = best):\n${textTable(rows)}`);
  if (s.importance.length) log(`parameter importance (share of the objective's variance each explains alone; ${s.finished - s.failed} trials, noisy when few): ${s.importance.map((i) => `${i.name} ${(i.share * 100).toFixed(0)}%`).join(', ')}`);
  const b = s.best;
  if (!b) {
    log('no trial finished with a value of the objective');
    return;
  }
  const d = b.deflatedSharpe;
  log(
    `best trial ${b.index}: ${s.objective} ${fmt(b.objective)} on validation; test (never used to choose): Sharpe ${fmt(b.test.sharpe, 2)} over ${b.test.bars} bars, ${b.test.trades} trades; ` +
      (d
        ? `deflated Sharpe ${fmt(d.dsr, 3)} (probability the true test Sharpe beats ${fmt(d.benchmark, 4)} per bar, what the best of ${d.trials} unskilled trials would show; PSR vs 0 ${fmt(d.psr, 3)})`
        : 'deflated Sharpe n/a (needs >= 2 trials with a validation Sharpe and >= 3 test bars)'),
  );
}
