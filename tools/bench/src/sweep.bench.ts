// Sweep executors (issue 22).
// 1. Queue overhead per job (goal < 50 ms): N no-op probe jobs one after another through BullMQ
//    on a local redis-server (a `trainer worker` in this process, running each job in its child
//    process), beside the same probes through the local pool alone (IPC to a child, no Redis), in
//    the same run. Overhead = the difference of the medians.
// 2. An 8-trial sweep of real trials (a small MLP, each trial single-threaded) on 2 local worker
//    processes vs 1 (goal >= 1.7x). Wall time, the trials' CPU time and the load average are
//    printed: on a shared machine the wall-time ratio says more about the neighbours than about the
//    pool, and CPU time per trial shows whether the trials themselves got slower.
//    With --worker-flags "--single-threaded" (any Node/V8 flags of the worker processes, the same on
//    both sides) each trial really runs on one thread: by default V8's garbage collector also works
//    on helper threads, so one trial process already uses more than one core.
// Flags: --trials N (default 8), --epochs N (default 2), --probes N (default 50), --skip-sweep, --skip-queue,
//        --worker-flags "<flags>".
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { LocalPool, QueueExecutor, parseSpace, probeRedis, runQueueWorker, runSweep } from '@task-agnostic/trainer';
import { percentiles, printTable } from './data-dir.js';

const argv = process.argv.slice(2);
const flag = (name: string, def: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const TRIALS = flag('trials', 8);
const EPOCHS = flag('epochs', 2);
const PROBES = flag('probes', 50);
const wf = argv.indexOf('--worker-flags');
const WORKER_FLAGS = wf >= 0 ? (argv[wf + 1] ?? '').split(/\s+/).filter(Boolean) : [];

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
  const rows: (string | number)[][] = [['workers', 'wall s', 'trials CPU s', 'CPU s / trial', 'coordinator CPU s', 'load avg before', 'load avg after', 'speed-up']];
  let wall1 = 0;
  for (const n of [1, 2]) {
    const dir = mkdtempSync(path.join(tmpdir(), `tat-bench-sweep-${n}-`));
    const pool = new LocalPool({ processes: n, execArgv: WORKER_FLAGS });
    const before = la();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const s = await runSweep({ space, trials: TRIALS, objective: 'valLoss', strategy: 'random', seed: 1, dir, executor: pool, log: () => {} });
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    await pool.close();
    if (s.failed) throw new Error(`${s.failed} trials failed`);
    const cpu = s.trials.reduce((a, t) => a + t.cpuSeconds, 0);
    if (n === 1) wall1 = wall;
    rows.push([n, wall.toFixed(1), cpu.toFixed(1), (cpu / TRIALS).toFixed(2), ((c.user + c.system) / 1e6).toFixed(1), before, la(), n === 1 ? '1.00x (baseline)' : `${(wall1 / wall).toFixed(2)}x`]);
  }
  console.log(`\n${TRIALS}-trial sweep (tiny MLP, ${EPOCHS} epochs, 3,000 bars; one tfjs thread per trial; worker flags: ${WORKER_FLAGS.join(' ') || 'none'}), 1 vs 2 local worker processes:`);
  printTable(rows);
  console.log('goal: >= 1.7x with 2 workers (wall). The worker processes include their start-up (tfjs and the wasm backend).');
}

if (!argv.includes('--skip-queue')) await queueOverhead();
if (!argv.includes('--skip-sweep')) await sweepSpeedup();
process.exit(0);
