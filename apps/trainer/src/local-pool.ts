/**
 * The embedded executor: a pool of worker processes on this machine (child_process.fork of
 * job-worker), no server. Each process runs one job at a time and is reused for the next; a
 * process that dies mid-job (killed, out of memory) is replaced and its job started again on a
 * fresh one, up to `maxAttempts` starts, then the job is an outcome with the error.
 *
 * Processes start when jobs need them, or all at once with start(), which also has each load the
 * job code and initialise tfjs's backend before any job and reports what that cost (a worker's
 * start-up is paid once per process, however many jobs it then runs).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@task-agnostic/core';
import type { Executor, JobOutcome, JobSpec } from './job.js';
import type { Log } from './train-run.js';

export interface LocalPoolOptions {
  /** Worker processes (default 1). */
  readonly processes?: number;
  /** Starts per job before it is reported as failed (default 2). */
  readonly maxAttempts?: number;
  /** Environment of the workers (default this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Extra Node/V8 flags for the worker processes, e.g. `['--single-threaded']`: V8 then collects
   * garbage on the job's own thread instead of helper threads, so each job uses one core (more
   * jobs per machine; each job alone runs slower). Checked at start: each must begin with `--`.
   */
  readonly execArgv?: readonly string[];
}

interface Pending {
  readonly job: JobSpec;
  attempts: number;
  readonly onProgress: Log;
  readonly resolve: (o: JobOutcome) => void;
}

/** What starting one worker process cost (LocalPool.start). */
export interface WorkerStart {
  readonly pid: number;
  /** Wall seconds from the process's start until it had loaded the job code and initialised tfjs's backend. */
  readonly seconds: number;
  /** CPU seconds (user + system) the process used for that. */
  readonly cpuSeconds: number;
  /** The tfjs backend it runs (tensorflow, wasm or cpu). */
  readonly backend: string;
}

interface WarmReply {
  readonly pid: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly backend?: string;
  readonly error?: string;
}

interface Slot {
  readonly proc: ChildProcess;
  current: Pending | null;
  started: number;
  warm: Promise<WorkerStart> | null;
  onWarm: ((m: WarmReply) => void) | null;
}

/** The worker entry next to this module: the built .js, or the .ts source (run through tsx) in tests. */
export function workerEntry(): { file: string; execArgv: string[] } {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const js = path.join(here, 'job-worker.js');
  if (existsSync(js)) return { file: js, execArgv: [] };
  const ts = path.join(here, 'job-worker.ts');
  if (existsSync(ts)) return { file: ts, execArgv: ['--import', 'tsx'] };
  throw new ConfigError(`the worker entry job-worker.js is missing next to ${here} (build the trainer)`, 'workers');
}

export class LocalPool implements Executor {
  readonly slots: number;
  readonly description: string;
  private readonly maxAttempts: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly execArgv: readonly string[];
  private readonly queue: Pending[] = [];
  private readonly workers: Slot[] = [];
  private closed = false;

  constructor(o: LocalPoolOptions = {}) {
    const n = o.processes ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--workers must be a positive integer, got ${n}`, 'workers');
    this.slots = n;
    this.maxAttempts = Math.max(1, o.maxAttempts ?? 2);
    this.env = o.env ?? process.env;
    this.execArgv = o.execArgv ?? [];
    const bad = this.execArgv.find((a) => typeof a !== 'string' || !a.startsWith('--'));
    if (bad !== undefined) throw new ConfigError(`worker process flag '${String(bad)}' must start with --`, 'workers');
    this.description = `${n} local worker process${n === 1 ? '' : 'es'}`;
  }

  /** The pids of the running worker processes (for tests and progress lines). */
  pids(): number[] {
    return this.workers.map((w) => w.proc.pid!).filter((p) => p !== undefined);
  }

  run(job: JobSpec, onProgress: Log = () => {}): Promise<JobOutcome> {
    if (this.closed) return Promise.reject(new Error('the local pool is closed'));
    return new Promise((resolve) => {
      this.queue.push({ job, attempts: 0, onProgress, resolve });
      this.dispatch();
    });
  }

  private spawn(): Slot {
    const entry = workerEntry();
    const proc = fork(entry.file, [], { execArgv: [...entry.execArgv, ...this.execArgv], env: this.env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced' });
    const slot: Slot = { proc, current: null, started: 0, warm: null, onWarm: null };
    proc.on('message', (m: { type: string; id?: string; line?: string; outcome?: JobOutcome } & Partial<WarmReply>) => {
      if (m.type === 'warm') {
        slot.onWarm?.(m as WarmReply);
        return;
      }
      const cur = slot.current;
      if (!cur) return;
      if (m.type === 'progress' && m.id === cur.job.id) cur.onProgress(m.line ?? '');
      if (m.type === 'done' && m.outcome && m.outcome.id === cur.job.id) {
        slot.current = null;
        cur.resolve(m.outcome);
        this.dispatch();
      }
    });
    proc.on('exit', (code, signal) => {
      const i = this.workers.indexOf(slot);
      if (i >= 0) this.workers.splice(i, 1);
      const cur = slot.current;
      slot.current = null;
      if (cur) {
        if (cur.attempts < this.maxAttempts && !this.closed) {
          cur.onProgress(`worker process ${proc.pid} exited (${signal ?? `code ${code}`}) during the job; starting it again`);
          this.queue.unshift(cur);
        } else {
          cur.resolve({ id: cur.job.id, ok: false, error: `the worker process exited (${signal ?? `code ${code}`}) ${cur.attempts} time(s) while running it`, seconds: (Date.now() - slot.started) / 1000, cpuSeconds: 0, pid: proc.pid ?? 0, attempts: cur.attempts });
        }
      }
      if (!this.closed) this.dispatch();
    });
    proc.on('error', () => {
      /* 'exit' follows and requeues */
    });
    this.workers.push(slot);
    return slot;
  }

  /**
   * Starts every worker process now (up to `processes`) and waits until each has loaded the job
   * code and initialised tfjs's backend; resolves with what that cost each one. Jobs run after it
   * start on warm processes. Calling it again starts only what is missing (a replaced process).
   */
  async start(): Promise<WorkerStart[]> {
    if (this.closed) throw new Error('the local pool is closed');
    while (this.workers.length < this.slots) this.spawn();
    return Promise.all(this.workers.map((w) => this.warmUp(w)));
  }

  private warmUp(slot: Slot): Promise<WorkerStart> {
    if (slot.warm) return slot.warm;
    const pid = slot.proc.pid ?? 0;
    slot.warm = new Promise<WorkerStart>((resolve, reject) => {
      slot.onWarm = (m) => (m.error ? reject(new Error(`worker process ${pid} could not start: ${m.error}`)) : resolve({ pid, seconds: m.seconds, cpuSeconds: m.cpuSeconds, backend: m.backend ?? '?' }));
      slot.proc.once('exit', (code, signal) => reject(new Error(`worker process ${pid} exited (${signal ?? `code ${code}`}) while starting`)));
      slot.proc.send({ type: 'warm' });
    });
    return slot.warm;
  }

  private dispatch(): void {
    if (this.closed) return;
    while (this.queue.length) {
      let slot = this.workers.find((w) => !w.current);
      if (!slot) {
        if (this.workers.length >= this.slots) return;
        slot = this.spawn();
      }
      const next = this.queue.shift()!;
      next.attempts++;
      slot.current = next;
      slot.started = Date.now();
      slot.proc.send({ type: 'job', job: next.job, attempts: next.attempts });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const waits = this.workers.map((w) => new Promise<void>((res) => (w.proc.exitCode !== null || w.proc.signalCode !== null ? res() : w.proc.once('exit', () => res()))));
    for (const w of this.workers) if (w.proc.connected) w.proc.disconnect();
    for (const p of this.queue.splice(0)) p.resolve({ id: p.job.id, ok: false, error: 'the pool was closed before the job ran', seconds: 0, cpuSeconds: 0, pid: 0, attempts: p.attempts });
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 5000).unref())]);
    for (const w of this.workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
  }
}
