// Sweep executors (issue 22).
// 1. Queue overhead per job (goal < 50 ms): N no-op probe jobs one after another through BullMQ
//    on a local redis-server (a `trainer worker` in this process, running each job in its child
//    process), beside the same probes through the local pool alone (IPC to a child, no Redis), in
//    the same run. Overhead = the difference of the medians.
// 2. An 8-trial sweep of real trials (a small MLP, 40 epochs with early stopping) on 2 local
//    worker processes vs 1 (goal >= 1.7x), each trial single-threaded: the workers run with
//    --worker-flags (default "--single-threaded": V8 collects garbage and compiles on the trial's
//    own thread; without it one trial process uses more than one core), the same on both sides.
//    --reps pairs, alternating which side runs first. Per run: the wall time, the workers' start-up
//    (LocalPool.start: spawn, job code, tfjs backend; paid once per process) and the warm rest,
//    the trials' CPU and wall time, the workers' idle tail (a lone last trial), what follows the
//    last trial, and the load average. Per flag set: the speed-up with and without the start-up,
//    what the start-up and the schedule alone would allow (the 1-worker trial times dispatched on 2
//    workers), and how much longer each trial took beside another one (contention).
// Flags: --trials N (default 8), --epochs N (default 40), --reps N (default 2), --probes N (default 50),
//        --skip-sweep, --skip-queue, --worker-flags "<flags>" ("" for Node's defaults),
//        --also-default (the same pairs again with Node's default flags, beside), --per-trial (each trial's CPU and wall).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { LocalPool, QueueExecutor, parseSpace, probeRedis, runQueueWorker, runSweep, type Executor, type JobOutcome, type JobSpec, type SearchSpace } from '@task-agnostic/trainer';
import { percentiles, printTable } from './data-dir.js';
import { listSchedule } from './list-schedule.js';

const argv = process.argv.slice(2);
const flag = (name: string, def: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const TRIALS = flag('trials', 8);
const EPOCHS = flag('epochs', 40);
const REPS = flag('reps', 2);
const PROBES = flag('probes', 50);
const wf = argv.indexOf('--worker-flags');
const WORKER_FLAGS = wf >= 0 ? (argv[wf + 1] ?? '').split(/\s+/).filter(Boolean) : ['--single-threaded'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const la = () => loadavg().map((x) => x.toFixed(1)).join(' / ');

async function queueOverhead(): Promise<void> {
  const bin = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!bin) {
    console.log('queue overhead: skipped (redis-server is not installed)');
    return;
  }
  const port = await freePort();
  const redis: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        await probeRedis(url, 500);
        break;
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const shared = mkdtempSync(path.join(tmpdir(), 'tat-bench-queue-'));
    // baseline: the local pool alone
    const pool = new LocalPool({ processes: 1 });
    await pool.run({ id: 'warm', kind: 'probe', payload: {} });
    const local: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      const t = performance.now();
      await pool.run({ id: `l${i}`, kind: 'probe', payload: {} });
      local.push(performance.now() - t);
    }
    await pool.close();
    // the queue: a worker in this process (its job runs in the worker's child process)
    const ac = new AbortController();
    const worker = runQueueWorker({ url, queueName: 'bench', log: () => {}, signal: ac.signal, lockMs: 30_000 });
    const exec = await QueueExecutor.open({ url, queueName: 'bench', shared, parallel: 1 });
    await exec.run({ id: 'warm', kind: 'probe', payload: {} });
    const queued: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      const t = performance.now();
      const o = await exec.run({ id: `q${i}`, kind: 'probe', payload: {} });
      if (!o.ok) throw new Error(o.error);
      queued.push(performance.now() - t);
    }
    await exec.close();
    ac.abort();
    await worker;
    const l = percentiles(local);
    const q = percentiles(queued);
    console.log(`\nqueue overhead per job (${PROBES} no-op jobs one after another; load average ${la()}):`);
    printTable([
      ['executor', 'median ms', 'p99 ms', 'mean ms'],
      ['local pool (IPC to a child)', l.median.toFixed(2), l.p99.toFixed(2), l.mean.toFixed(2)],
      ['BullMQ + worker + child', q.median.toFixed(2), q.p99.toFixed(2), q.mean.toFixed(2)],
      ['queue overhead (difference)', (q.median - l.median).toFixed(2), (q.p99 - l.p99).toFixed(2), (q.mean - l.mean).toFixed(2)],
    ]);
    console.log(`goal: < 50 ms per job -> ${q.mean - l.mean < 50 ? 'met' : 'NOT met'} (mean difference)`);
  } finally {
    redis.kill('SIGKILL');
  }
}

/** The local pool with each job's dispatch and return times (ms since the run's clock started) and where it ran. */
class TimedPool implements Executor {
  readonly jobs: { index: number; pid: number; start: number; end: number; cpu: number; seconds: number }[] = [];
  readonly slots: number;
  readonly description: string;
  constructor(
    readonly pool: LocalPool,
    private readonly t0: number,
  ) {
    this.slots = pool.slots;
    this.description = pool.description;
  }
  async run(job: JobSpec, onProgress?: (line: string) => void): Promise<JobOutcome> {
    const start = performance.now() - this.t0;
    const o = await this.pool.run(job, onProgress);
    this.jobs.push({ index: (job.payload as { index: number }).index, pid: o.pid, start, end: performance.now() - this.t0, cpu: o.cpuSeconds, seconds: o.seconds });
    return o;
  }
  close(): Promise<void> {
    return this.pool.close();
  }
}

interface SweepRun {
  readonly flags: string;
  readonly rep: number;
  readonly workers: number;
  /** Seconds: the whole run (worker start-up included), the start-up (all workers ready), the rest (warm). */
  readonly wall: number;
  readonly startup: number;
  readonly warm: number;
  readonly startupCpu: number[];
  readonly jobs: TimedPool['jobs'];
  /** Seconds after the last trial came back (results.json, report.html). */
  readonly after: number;
  /** Worker seconds idle at the end: each worker's time from its last trial's return to the last trial's return. */
  readonly tail: number;
  readonly loadBefore: string;
  readonly loadAfter: string;
  /** Each trial's objective (the best epoch's validation loss) and epochs run: the same in every run, whatever the workers. */
  readonly results: ReadonlyMap<number, string>;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const range = (xs: readonly number[], d = 2) => `${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)}`;

async function sweepRun(space: SearchSpace, flags: string[], workers: number, rep: number): Promise<SweepRun> {
  const dir = mkdtempSync(path.join(tmpdir(), `tat-bench-sweep-${workers}-`));
  const loadBefore = la();
  const t0 = performance.now();
  const pool = new LocalPool({ processes: workers, execArgv: flags });
  const starts = await pool.start();
  const ready = performance.now();
  const timed = new TimedPool(pool, t0);
  const s = await runSweep({ space, trials: TRIALS, objective: 'valLoss', strategy: 'random', seed: 1, dir, executor: timed, log: () => {} });
  const wall = (performance.now() - t0) / 1000;
  await pool.close();
  if (s.failed) throw new Error(`${s.failed} trials failed`);
  const last = Math.max(...timed.jobs.map((j) => j.end));
  const lastByPid = new Map<number, number>();
  for (const j of timed.jobs) lastByPid.set(j.pid, Math.max(lastByPid.get(j.pid) ?? 0, j.end));
  const tail = [...lastByPid.values()].reduce((a, e) => a + (last - e), 0) / 1000 + (workers - lastByPid.size) * (last - (ready - t0)) / 1000;
  return {
    flags: flags.join(' ') || 'default',
    rep,
    workers,
    wall,
    startup: (ready - t0) / 1000,
    warm: wall - (ready - t0) / 1000,
    startupCpu: starts.map((x) => x.cpuSeconds),
    jobs: timed.jobs,
    after: wall - last / 1000,
    tail,
    loadBefore,
    loadAfter: la(),
    results: new Map(s.trials.map((t) => [t.index, `${t.objective} after ${(t as { epochs?: number }).epochs} epochs`])),
  };
}

/** Throws unless every run produced the same trials with the same results (the comparison is like with like). */
function assertSameResults(runs: readonly SweepRun[]): void {
  const ref = runs[0]!;
  for (const r of runs) {
    if (r.results.size !== ref.results.size) throw new Error(`the ${r.workers}-worker run of rep ${r.rep} finished ${r.results.size} trials, the first run ${ref.results.size}`);
    for (const [i, v] of ref.results) {
      if (r.results.get(i) !== v) throw new Error(`trial ${i}: the ${r.workers}-worker run of rep ${r.rep} (${r.flags}) gave valLoss ${r.results.get(i)}, the first run ${v}: the runs do not compare like with like`);
    }
  }
}

async function sweepSpeedup(): Promise<void> {
  const space = parseSpace({
    base: {
      name: 'bench',
      seed: 3,
      data: { source: 'synthetic', symbols: ['SYNTHA'], bars: 3000, stride: 1 },
      model: { windowLength: 24, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction', 'volatility', 'regime'] },
      training: { epochs: EPOCHS, batchSize: 64 },
      calibrate: false,
    },
    params: {
      'training.learningRate': { type: 'float', low: 1e-4, high: 1e-2, log: true },
      'fusion.method': { type: 'choice', values: ['consistency', 'weighted'] },
    },
  });
  const flagSets = [WORKER_FLAGS, ...(argv.includes('--also-default') ? [[]] : [])];
  const runs: SweepRun[] = [];
  for (const flags of flagSets) {
    for (let rep = 0; rep < REPS; rep++) {
      // 1 then 2 workers, then 2 then 1: a drift of the machine's load does not favour one side
      for (const n of rep % 2 === 0 ? [1, 2] : [2, 1]) runs.push(await sweepRun(space, flags, n, rep));
    }
  }
  assertSameResults(runs);
  console.log(`\nevery run gave the same ${TRIALS} trials with the same results (valLoss and epochs of each trial identical across all ${runs.length} runs, 1 and 2 workers): ${[...runs[0]!.results].map(([i, v]) => `${i}: ${v}`).join('; ')}`);
  console.log(`\n${TRIALS}-trial sweep (tiny MLP, ${EPOCHS} epochs with early stopping, 3,000 bars; one tfjs thread per trial), 1 vs 2 local worker processes, ${REPS} repetitions:`);
  printTable([
    ['worker flags', 'rep', 'workers', 'wall s', 'start-up s', 'start-up CPU s / worker', 'warm wall s', 'trials CPU s', 'trials wall s', 'idle tail worker-s', 'after last trial s', 'load avg before', 'load avg after'],
    ...runs.map((r) => [r.flags, String(r.rep), String(r.workers), r.wall.toFixed(2), r.startup.toFixed(2), r.startupCpu.map((c) => c.toFixed(2)).join(' / '), r.warm.toFixed(2), r.jobs.reduce((a, j) => a + j.cpu, 0).toFixed(1), r.jobs.reduce((a, j) => a + j.seconds, 0).toFixed(1), r.tail.toFixed(2), r.after.toFixed(2), r.loadBefore, r.loadAfter]),
  ]);
  if (argv.includes('--per-trial')) {
    console.log('\nper trial (index: CPU s / wall s in its worker, p = the worker\'s first trial):');
    for (const r of runs) {
      const firsts = new Set<number>();
      const seen = new Set<number>();
      for (const j of [...r.jobs].sort((a, b) => a.start - b.start)) if (!seen.has(j.pid)) (seen.add(j.pid), firsts.add(j.index));
      console.log(`  ${r.flags} rep ${r.rep}, ${r.workers} worker(s): ${[...r.jobs].sort((a, b) => a.index - b.index).map((j) => `${j.index}${firsts.has(j.index) ? 'p' : ''}: ${j.cpu.toFixed(2)} / ${j.seconds.toFixed(2)}`).join(', ')}`);
    }
  }
  for (const flags of flagSets) {
    const name = flags.join(' ') || 'default';
    const pairs = Array.from({ length: REPS }, (_, rep) => {
      const one = runs.find((r) => r.flags === name && r.rep === rep && r.workers === 1)!;
      const two = runs.find((r) => r.flags === name && r.rep === rep && r.workers === 2)!;
      const byIndex = (r: SweepRun) => new Map(r.jobs.map((j) => [j.index, j]));
      const a = byIndex(one);
      const b = byIndex(two);
      const idx = [...a.keys()].sort((x, y) => x - y);
      // the 1-worker trials' own durations dispatched in index order on 2 workers: the schedule's makespan without contention
      const ideal = two.startup + listSchedule(idx.map((i) => a.get(i)!.seconds), 2) + two.after;
      return {
        cold: one.wall / two.wall,
        warm: one.warm / two.warm,
        ceiling: one.wall / ideal,
        cpu: mean(idx.map((i) => b.get(i)!.cpu / a.get(i)!.cpu)) - 1,
        slow: mean(idx.map((i) => b.get(i)!.seconds / a.get(i)!.seconds)) - 1,
      };
    });
    console.log(`\nworker flags ${name}: speed-up of 2 workers over 1 (wall, the same flags on both sides), ${REPS} repetitions:`);
    console.log(`  whole sweep, worker start-up included: ${range(pairs.map((p) => p.cold))}x (mean ${mean(pairs.map((p) => p.cold)).toFixed(2)}x)  <- the goal's measurement (>= 1.7x)`);
    console.log(`  pool warm (clock from all workers ready): ${range(pairs.map((p) => p.warm))}x (mean ${mean(pairs.map((p) => p.warm)).toFixed(2)}x)`);
    console.log(`  what the start-up and the schedule alone allow (the 1-worker trial times dispatched in index order on 2 workers, plus the 2-worker start-up and write-out): ${range(pairs.map((p) => p.ceiling))}x`);
    console.log(`  each trial with 2 workers vs 1: CPU ${range(pairs.map((p) => p.cpu * 100), 0)}% more, wall ${range(pairs.map((p) => p.slow * 100), 0)}% longer (contention for the cores, caches and memory)`);
  }
  console.log('goal: >= 1.7x with 2 workers, whole sweep (wall). On a shared machine the wall times say more about the neighbours than the pool: read the CPU columns and the load.');
}

if (!argv.includes('--skip-queue')) await queueOverhead();
if (!argv.includes('--skip-sweep')) await sweepSpeedup();
process.exit(0);
