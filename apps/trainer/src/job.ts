/**
 * A unit of work for an executor (the local process pool or the BullMQ queue): a sweep trial, a
 * walk-forward fold, or a probe (a no-op or busy job that measures the executor itself). Jobs are
 * plain JSON so they cross process and machine boundaries; `id` is the idempotency key: a result
 * is recorded once per id, however often the job ran.
 */
import { ConfigError } from '@task-agnostic/core';
import type { Log } from './train-run.js';

export type JobKind = 'trial' | 'fold' | 'probe';

export interface JobSpec {
  /** Unique per unit of work; [A-Za-z0-9_-] (a BullMQ job id and a file name). */
  readonly id: string;
  readonly kind: JobKind;
  readonly payload: unknown;
}

interface OutcomeBase {
  readonly id: string;
  /** Wall seconds and CPU seconds (user + system) of the process that ran the job. */
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly pid: number;
  /** How many times the job was started (more than 1 after a worker died). */
  readonly attempts: number;
}

export type JobOutcome = (OutcomeBase & { readonly ok: true; readonly result: unknown }) | (OutcomeBase & { readonly ok: false; readonly error: string });

/** Runs jobs somewhere; `slots` is how many it runs at once. */
export interface Executor {
  readonly slots: number;
  readonly description: string;
  run(job: JobSpec, onProgress?: Log): Promise<JobOutcome>;
  close(): Promise<void>;
}

export interface ProbePayload {
  /** Spin the CPU this long (a single-threaded stand-in for a trial). */
  readonly busyMs?: number;
  /** Throw this message (a failing trial). */
  readonly fail?: string;
  readonly value?: unknown;
}

function probe(p: ProbePayload): { value: unknown; spins: number; execArgv: string[] } {
  if (p.fail) throw new Error(p.fail);
  const until = Date.now() + (p.busyMs ?? 0);
  let spins = 0;
  let x = 0;
  while (Date.now() < until) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(i + x) % 1;
    spins++;
  }
  return { value: p.value ?? null, spins: spins + (x < 0 ? 1 : 0), execArgv: process.execArgv };
}

const JOB_ID = /^[A-Za-z0-9_-]{1,200}$/;

export function assertJobId(id: string): void {
  if (!JOB_ID.test(id)) throw new ConfigError(`job id '${id}' must be 1-200 characters of [A-Za-z0-9_-]`, 'job');
}

/** Runs one job in this process (what a worker process does with a job it was given). */
export async function runJob(job: JobSpec, progress: Log = () => {}): Promise<unknown> {
  switch (job.kind) {
    case 'probe':
      return probe((job.payload ?? {}) as ProbePayload);
    case 'trial': {
      const { runTrial } = await import('./sweep-trial.js');
      return runTrial(job.payload as Parameters<typeof runTrial>[0], progress);
    }
    case 'fold': {
      const { runFoldJob } = await import('./walk-forward-job.js');
      return runFoldJob(job.payload as Parameters<typeof runFoldJob>[0], progress);
    }
    default:
      throw new ConfigError(`unknown job kind '${(job as { kind: string }).kind}'`, 'job');
  }
}
