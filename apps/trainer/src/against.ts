/**
 * `--against <other-run>` (trainer lso, trainer evaluate out of sample): a second trained run scored
 * on the same out-of-sample rows and labels as the first, for a paired model-vs-model interval.
 * Opening and checking the other run, and aligning the two runs' scored rows on their timestamps
 * (runs with different feature sets have different warm-ups, so different first rows).
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError } from '@task-agnostic/core';
import type { Task } from '@task-agnostic/heads';
import { jsonDifference, type TaskAgnosticModel } from '@task-agnostic/model';
import { loadRunModel } from './load-run.js';

/** The other run of a comparison: its folder, config and saved model (a single run or a seed ensemble). */
export type AgainstRun = Awaited<ReturnType<typeof loadRunModel>> & { readonly dir: string };

/** Settings of a task that change the loss only, not the labels: they may differ between the two runs. */
const LOSS_ONLY = new Set(['classWeighting']);

/**
 * The two models predict the same labels: the same task ids in the same order and the same label
 * settings (each task's config, loss-only settings aside). A one-line DataError names the difference.
 */
export function assertSameLabels(a: TaskAgnosticModel, b: TaskAgnosticModel, nameA: string, nameB: string): void {
  const ids = (m: TaskAgnosticModel) => m.tasks.map((t) => t.id).join(',');
  if (ids(a) !== ids(b)) throw new DataError(`--against: ${nameA} has tasks ${ids(a)} and ${nameB} ${ids(b)}; the runs must predict the same labels`);
  const labelSettings = (t: TaskAgnosticModel['tasks'][number]) => Object.fromEntries(Object.entries((t as unknown as Task).config).filter(([k]) => !LOSS_ONLY.has(k)));
  for (const [i, ta] of a.tasks.entries()) {
    const d = jsonDifference(labelSettings(ta), labelSettings(b.tasks[i]!));
    if (d) throw new DataError(`--against: task ${ta.id}'s label settings differ (${d}, ${nameA} vs ${nameB}); the runs must predict the same labels`);
  }
}

/** `--against` names another folder than the run's own (symbolic links resolved): a ConfigError otherwise. */
export function assertOtherFolder(runDir: string, otherDir: string): void {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  if (real(runDir) === real(otherDir)) throw new ConfigError(`--against ${otherDir} is the run itself: name another run folder`, 'against');
}

/**
 * Opens `otherDir` as lso and evaluate open a run (config.json and model/) and checks it can be
 * compared with `model` (the run in `runDir`): not the same folder, readable, the same labels.
 */
export async function openAgainst(runDir: string, otherDir: string, model: TaskAgnosticModel): Promise<AgainstRun> {
  assertOtherFolder(runDir, otherDir);
  let other: Awaited<ReturnType<typeof loadRunModel>>;
  try {
    other = await loadRunModel(otherDir);
  } catch (err) {
    throw new DataError(`--against ${otherDir}: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    assertSameLabels(model, other.model, runDir, otherDir);
  } catch (err) {
    other.model.dispose();
    throw err;
  }
  return { ...other, dir: otherDir };
}

/**
 * The rows both runs scored: indices into `a` and into `b` (each ascending timestamps) of the
 * timestamps present in both. No common row is a DataError naming `what` and both ranges.
 */
export function alignOnTimestamps(a: ArrayLike<number>, b: ArrayLike<number>, what: string): { ia: Int32Array; ib: Int32Array; ts: Float64Array } {
  const ia: number[] = [];
  const ib: number[] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      ia.push(i++);
      ib.push(j++);
    }
  }
  if (ia.length === 0) {
    const range = (x: ArrayLike<number>) => (x.length ? `${new Date(x[0]!).toISOString().slice(0, 16)} .. ${new Date(x[x.length - 1]!).toISOString().slice(0, 16)}` : 'none');
    throw new DataError(`--against: ${what}: the two runs share no scored row (the run's ${a.length} rows: ${range(a)}; the other's ${b.length}: ${range(b)})`);
  }
  return { ia: Int32Array.from(ia), ib: Int32Array.from(ib), ts: Float64Array.from(ia, (i) => a[i]!) };
}

/**
 * How many of the windows of two label arrays (the same windows, `dim` values each) differ in any
 * value (Object.is: NaN equals NaN): both runs of a comparison must be judged on the same labels.
 */
export function differingWindows(a: Float32Array, b: Float32Array, dim: number): number {
  let n = 0;
  for (let w = 0; w * dim < a.length; w++) {
    for (let j = w * dim; j < (w + 1) * dim; j++) {
      if (!Object.is(a[j], b[j])) {
        n++;
        break;
      }
    }
  }
  return n;
}
