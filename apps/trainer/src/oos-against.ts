/**
 * `trainer evaluate <run> --data ... --against <other-run>`: two saved runs, each applied as saved,
 * on the same out-of-sample windows (aligned on their end timestamps: runs with different feature
 * sets have different warm-ups) and the same labels; per symbol and task run - other with a paired
 * block-bootstrap interval (compareOnWindows), and pooled over symbols as the baseline comparison is.
 */
import { DataError } from '@task-agnostic/core';
import { gatherTargets } from '@task-agnostic/heads';
import type { TaskAgnosticModel } from '@task-agnostic/model';
import { alignOnTimestamps, differingWindows } from './against.js';
import { fmt, textTable } from './format.js';
import { compareOnWindows, fmtInterval, type MetricSource, type WindowComparison } from './intervals.js';
import { oosScored, type OosEvaluation } from './oos.js';
import { poolPairs, type PairedWindows, type PooledPairs } from './oos-pooled.js';
import type { Log } from './train-run.js';

export interface OosAgainstTask {
  readonly task: string;
  readonly metric: string;
  readonly higherIsBetter: boolean;
  /** Windows compared (both runs scored them), and each run's own scored windows. */
  readonly n: number;
  readonly runWindows: number;
  readonly otherWindows: number;
  /** model: the run, other: the other run, diff: run - other (unsigned, as the baseline comparison), with 95% intervals. */
  readonly comparison: WindowComparison;
}

export interface OosAgainst {
  /** The other run's folder. */
  readonly run: string;
  readonly symbols: readonly { readonly symbol: string; readonly tasks: readonly OosAgainstTask[] }[];
  /** Per task over symbols: better/betterSignificant count the run's wins; pooled is signed so that > 0 favours the run. */
  readonly pooled: readonly (PooledPairs & { readonly task: string; readonly metric: string; readonly higherIsBetter: boolean })[];
}

/**
 * The run's evaluations (`runEvs`) against the other run's on the same symbols (`otherEvs`, in the
 * same order): on the windows both scored, the other's forecasts judged on the run's labels. The two
 * runs' labels must agree on those windows (a DataError names the symbol, task and count otherwise).
 */
export function compareOosRuns(model: TaskAgnosticModel, runEvs: readonly OosEvaluation[], otherEvs: readonly OosEvaluation[], otherRun: string, seed = 0, resamples?: number): OosAgainst {
  const pairs = model.tasks.map(() => [] as PairedWindows[]);
  const symbols = runEvs.map((ev, s) => ({
    symbol: ev.symbol,
    tasks: model.tasks.map((modelTask, ti): OosAgainstTask => {
      const task = modelTask as unknown as MetricSource & { id: string };
      const mine = ev.tasks[ti]!;
      const sa = oosScored(mine);
      const sb = oosScored(otherEvs[s]!.tasks[ti]!);
      const what = `${ev.symbol} ${task.id}`;
      const { ia, ib, ts } = alignOnTimestamps(sa?.ts ?? [], sb?.ts ?? [], what);
      const [od, td] = [task.outputDim, task.targetDim];
      const y = gatherTargets(sa!.targets, td, ia);
      const yOther = gatherTargets(sb!.targets, td, ib);
      const differ = differingWindows(y, yOther, td);
      if (differ) throw new DataError(`--against: ${what}: the two runs' saved label fits give different labels on ${differ} of ${ia.length} common windows; compare runs trained on the same data and task settings`);
      const a = gatherTargets(sa!.outputs, od, ia);
      const b = gatherTargets(sb!.outputs, od, ib);
      const comparison = compareOnWindows(task, mine.metric, mine.higherIsBetter, a, b, y, ia.length, { seed: seed + 2000 + ti, ...(resamples ? { resamples } : {}) });
      pairs[ti]!.push({ ts, a, b, targets: y, comparison });
      return { task: task.id, metric: mine.metric, higherIsBetter: mine.higherIsBetter, n: ia.length, runWindows: sa!.ts.length, otherWindows: sb!.ts.length, comparison };
    }),
  }));
  const pooled = model.tasks.map((modelTask, ti) => {
    const first = symbols[0]!.tasks[ti]!;
    return { task: modelTask.id, metric: first.metric, higherIsBetter: first.higherIsBetter, ...poolPairs(modelTask as unknown as MetricSource, first.metric, first.higherIsBetter, pairs[ti]!, seed + 3000 + ti, resamples) };
  });
  return { run: otherRun, symbols, pooled };
}

export function printOosAgainst(r: OosAgainst, log: Log): void {
  for (const s of r.symbols) {
    const rows: string[][] = [['task', 'metric', 'n', 'run [95% CI]', 'other [95% CI]', 'run - other [95% CI]', 'verdict']];
    for (const t of s.tasks) {
      const c = t.comparison;
      rows.push([t.task, t.metric, `${t.n} (of ${t.runWindows} / ${t.otherWindows})`, fmtInterval(c.model), fmtInterval(c.other), fmtInterval(c.diff), c.verdictText]);
    }
    log(`\nout-of-sample ${s.symbol}: the run against ${r.run} on the windows both scored (n), the run's labels:\n${textTable(rows)}`);
  }
  if (r.symbols.length < 2) return;
  const rows: string[][] = [['task', 'metric', 'run better', 'significantly', 'pooled run - other [95% CI] (> 0 favours the run)', 'verdict']];
  for (const t of r.pooled) {
    const p = t.pooled;
    rows.push([t.task, t.metric, `${t.better}/${t.symbols}`, `${t.betterSignificant}/${t.symbols}`, p ? `${fmt(p.value)} [${fmt(p.lo)}, ${fmt(p.hi)}]` : '-', p ? p.verdict : '-']);
  }
  log(`\nthe run against ${r.run} over the ${r.symbols.length} symbols (pooled: the mean of the symbols' differences, resampled together on their common timeline):\n${textTable(rows)}`);
}
