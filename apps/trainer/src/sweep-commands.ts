/**
 * The command lines of `trainer sweep` and `trainer worker`, and the executor choice
 * (executorFromFlags): --workers N (local worker processes, the default) or --queue redis://...
 * (BullMQ; `trainer worker` processes anywhere run the jobs).
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '@task-agnostic/core';
import type { Executor } from './job.js';
import { LocalPool } from './local-pool.js';
import { QueueExecutor } from './queue-executor.js';
import { runQueueWorker } from './queue-worker.js';
import { parseRedisUrl } from './redis-connection.js';
import { runSweep, type SweepStrategy } from './sweep.js';
import { readSpace } from './sweep-space.js';
import { isObjectiveName } from './sweep-trial.js';
import type { Log } from './train-run.js';

export const SWEEP_HELP: Record<string, string> = {
  sweep: `trainer sweep --space sweep.json --trials N [--objective valLoss] [--strategy random|tpe] [--seed 42]
              [--out runs/sweep-<space>] [--workers N | --queue redis://host:6379 [--queue-name tat-trainer]
              [--parallel 64] [--shared DIR]]

Hyperparameter search: N trials of the space's base config with the searched parameters put in.
--objective reads validation rows only: valLoss (the best epoch's summed validation loss), valSharpe
(backtest over the validation range), or val.<task>.<metric> (e.g. val.direction.macroF1).
--strategy random draws every trial independently (seeded per trial); tpe (tree-structured Parzen
estimator) proposes from the finished trials after 10 random ones.
Trials run in --workers local processes (default: the core count, at most the trials), or, with
--queue, on 'trainer worker' processes on any machine; results go to --shared (default: --out),
a folder every machine must see at the same or a mapped path (trainer worker --shared).
Writes <out>/trials/<index>.json per finished trial (a killed sweep started again skips them),
results.json and report.html (parallel coordinates, parameter importance, the best trial's test
figures with the deflated Sharpe given the number of trials). A trial that throws is recorded as
failed and the sweep goes on.

Space file:
  { "base": "quick", "overrides": { "training": { "epochs": 3 } },
    "params": { "training.learningRate": { "type": "float", "low": 0.0001, "high": 0.01, "log": true },
                "training.batchSize": { "type": "int", "low": 32, "high": 128, "step": 32 },
                "model.encoderType": { "type": "choice", "values": ["transformer", "mlp"] } } }

Examples:
  trainer sweep --space sweep.json --trials 20 --objective val.direction.macroF1 --strategy tpe
  trainer sweep --space sweep.json --trials 64 --queue redis://10.0.0.5:6379 --shared /mnt/sweeps/s1
`,
  worker: `trainer worker --queue redis://host:6379 [--queue-name tat-trainer] [--concurrency 1] [--shared DIR]
               [--lock-ms 30000] [--max-jobs N]

Takes sweep trials and walk-forward folds from the BullMQ queue and runs each in a child process
(--concurrency at a time; each trial is single-threaded). Outcomes are written to
<shared>/results/<job>.json, where <shared> is the folder the sweep named or --shared (the same
folder mounted at another path on this machine). A killed worker's job goes back to the queue
after --lock-ms and another worker runs it. Stops on Ctrl-C (the job in hand is re-queued).

Example:
  trainer worker --queue redis://10.0.0.5:6379 --shared /mnt/sweeps/s1
`,
};

type Flags = Record<string, string | boolean | undefined>;

function parse(args: readonly string[], options: ParseArgsConfig['options'], command: string): Flags {
  try {
    return parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true }).values as Flags;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${SWEEP_HELP[command]}`, 'arguments');
  }
}

function positiveInt(s: string | boolean | undefined, flag: string): number | undefined {
  if (s === undefined) return undefined;
  const v = Number(s);
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`--${flag} must be a positive integer, got '${String(s)}'`, flag);
  return v;
}

export const EXECUTOR_FLAGS = {
  workers: { type: 'string' },
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
  parallel: { type: 'string' },
  shared: { type: 'string' },
} as const;

/** The executor the flags choose; `jobs` caps the local pool (no idle processes). */
export async function executorFromFlags(values: Flags, jobs: number, defaultShared: string): Promise<Executor> {
  const workers = positiveInt(values.workers, 'workers');
  if (values.queue !== undefined) {
    if (workers !== undefined) throw new ConfigError('--workers and --queue exclude each other (with --queue, start trainer worker processes)', 'workers');
    const url = parseRedisUrl(values.queue as string);
    return QueueExecutor.open({
      url,
      shared: path.resolve((values.shared as string | undefined) ?? defaultShared),
      ...(values['queue-name'] ? { queueName: values['queue-name'] as string } : {}),
      ...(values.parallel !== undefined ? { parallel: positiveInt(values.parallel, 'parallel')! } : {}),
    });
  }
  if (values['queue-name'] !== undefined || values.parallel !== undefined) throw new ConfigError('--queue-name and --parallel need --queue', values['queue-name'] !== undefined ? 'queue-name' : 'parallel');
  return new LocalPool({ processes: workers ?? Math.max(1, Math.min(availableParallelism(), jobs)) });
}

export async function cmdSweep(args: readonly string[], log: Log): Promise<number> {
  const values = parse(
    args,
    { space: { type: 'string' }, trials: { type: 'string' }, objective: { type: 'string', default: 'valLoss' }, strategy: { type: 'string', default: 'random' }, seed: { type: 'string' }, out: { type: 'string' }, ...EXECUTOR_FLAGS },
    'sweep',
  );
  if (values.help) {
    process.stdout.write(SWEEP_HELP.sweep!);
    return 0;
  }
  if (!values.space) throw new ConfigError(`--space is required (a JSON file)\n\n${SWEEP_HELP.sweep}`, 'space');
  const trials = positiveInt(values.trials, 'trials');
  if (!trials) throw new ConfigError(`--trials is required (a positive integer), e.g. --trials 20`, 'trials');
  const strategy = values.strategy as string;
  if (strategy === 'asha') throw new ConfigError("--strategy asha is not available; use random or tpe", 'strategy');
  if (strategy !== 'random' && strategy !== 'tpe') throw new ConfigError(`--strategy must be random or tpe, got '${strategy}'`, 'strategy');
  const objective = values.objective as string;
  if (!isObjectiveName(objective)) throw new ConfigError(`--objective must be valLoss, valSharpe or val.<task>.<metric> (e.g. val.direction.macroF1), got '${objective}'`, 'objective');
  const seedText = values.seed as string | undefined;
  const seed = seedText === undefined ? 42 : Number(seedText);
  if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed must be a non-negative integer, got '${seedText}'`, 'seed');
  const space = readSpace(values.space as string);
  const dir = path.resolve((values.out as string | undefined) ?? path.join('runs', `sweep-${path.basename(values.space as string, '.json')}`));
  const executor = await executorFromFlags(values, trials, dir);
  try {
    if (executor instanceof LocalPool) {
      // every worker starts now, side by side, and reports what its start-up cost (paid once per process)
      const starts = await executor.start();
      log(`sweep: ${starts.length} worker process${starts.length === 1 ? '' : 'es'} ready (tfjs ${starts[0]?.backend}) in ${Math.max(...starts.map((s) => s.seconds)).toFixed(1)} s, start-up ${starts.map((s) => s.cpuSeconds.toFixed(1)).join(' / ')} CPU-s each`);
    }
    await runSweep({ space, trials, objective, strategy: strategy as SweepStrategy, seed, dir, executor, log });
  } finally {
    await executor.close();
  }
  return 0;
}

export async function cmdWorker(args: readonly string[], log: Log): Promise<number> {
  const values = parse(
    args,
    { queue: { type: 'string' }, 'queue-name': { type: 'string' }, concurrency: { type: 'string' }, shared: { type: 'string' }, 'lock-ms': { type: 'string' }, 'max-jobs': { type: 'string' } },
    'worker',
  );
  if (values.help) {
    process.stdout.write(SWEEP_HELP.worker!);
    return 0;
  }
  if (!values.queue) throw new ConfigError(`--queue is required, e.g. --queue redis://127.0.0.1:6379\n\n${SWEEP_HELP.worker}`, 'queue');
  const url = parseRedisUrl(values.queue as string);
  const lockMs = positiveInt(values['lock-ms'], 'lock-ms');
  if (lockMs !== undefined && lockMs < 500) throw new ConfigError('--lock-ms must be at least 500', 'lock-ms');
  const ac = new AbortController();
  const onSignal = () => {
    log(`worker ${process.pid}: stopping`);
    ac.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const maxJobs = positiveInt(values['max-jobs'], 'max-jobs');
  const concurrency = positiveInt(values.concurrency, 'concurrency');
  const n = await runQueueWorker({
    url,
    log,
    signal: ac.signal,
    ...(values['queue-name'] ? { queueName: values['queue-name'] as string } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(values.shared ? { shared: path.resolve(values.shared as string) } : {}),
    ...(lockMs !== undefined ? { lockMs } : {}),
    ...(maxJobs !== undefined ? { maxJobs } : {}),
  });
  log(`worker ${process.pid}: ${n} job(s) done`);
  return 0;
}
