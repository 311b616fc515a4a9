/**
 * TEST SUPPORT ONLY (not exported): the worker-side recipe of data-parallel tests, the test
 * doubles' encoder and tasks. `crashAtCall` makes a worker thread exit (code 3) inside its
 * encoder's n-th apply, `failToStart` makes the recipe throw, `sleepMs` slows a worker's applies.
 */
import { isMainThread } from 'node:worker_threads';
import type { MultiTaskParts } from './step.js';
import { fakeClassificationTask, fakeEncoder, fakeRegressionTask } from './test-doubles.js';

export interface TestRecipeArgs {
  readonly T: number;
  readonly F: number;
  readonly D: number;
  readonly seed: number;
  readonly crashAtCall?: number;
  readonly failToStart?: boolean;
  /** A worker thread sleeps this long in each encoder apply (a slow rank). */
  readonly sleepMs?: number;
}

export function buildParts(a: TestRecipeArgs): MultiTaskParts & { dispose(): void } {
  if (a.failToStart) throw new Error('this recipe cannot build here');
  const enc = fakeEncoder(a.T, a.F, a.D, a.seed);
  let calls = 0;
  const encoder = {
    ...enc,
    apply: (...args: Parameters<typeof enc.apply>) => {
      calls++;
      if (!isMainThread && a.crashAtCall !== undefined && calls >= a.crashAtCall) process.exit(3);
      if (!isMainThread && a.sleepMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, a.sleepMs);
      return enc.apply(...args);
    },
  };
  const tasks = [fakeRegressionTask('reg'), fakeClassificationTask('cls', 3)];
  const heads = tasks.map((t, i) => t.buildHead(a.D, a.seed * 10 + i));
  return { encoder, tasks, heads, dispose: () => (enc.dispose(), heads.forEach((h) => h.dispose())) };
}
