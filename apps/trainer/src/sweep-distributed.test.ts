/**
 * Real trials (a tiny model, one epoch) through both executors: two local worker processes, and
 * BullMQ on a real redis-server (started here on a free loopback port) with two `trainer worker`
 * processes, one of them SIGKILLed mid-trial. The figures must equal a single-process run of the
 * same trials with the same seeds. Skips with a reason when redis-server is not installed
 * (.ci/run installs it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { freePort } from '@task-agnostic/test-utils';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@task-agnostic/tf';
import { LocalPool } from './local-pool.js';
import { QueueExecutor } from './queue-executor.js';
import { probeRedis } from './redis-connection.js';
import { configFor, parseSpace } from './sweep-space.js';
import { randomParams, runSweep, type SweepSummary } from './sweep.js';
import { runTrial, type TrialResult } from './sweep-trial.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REDIS = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim() || null;
if (!REDIS && (process.env.CI === 'true' || process.env.TAT_REQUIRE_DATA === '1')) throw new Error('redis-server is not installed, and CI forbids skipping the BullMQ sweep tests (.ci/run installs it)');
if (!REDIS) console.warn('sweep-distributed: redis-server is not installed (apt-get install -y redis-server); the BullMQ tests are skipped');

const SEED = 5;
const TRIALS = 3;
const space = parseSpace({
  base: {
    name: 'sweep-test',
    seed: 3,
    data: { source: 'synthetic', symbols: ['SYNTHA'], bars: 1000, stride: 3 },
    model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction', 'volatility'] },
    training: { epochs: 1, batchSize: 64 },
    calibrate: false,
  },
  params: {
    'training.learningRate': { type: 'float', low: 1e-4, high: 1e-2, log: true },
    'fusion.method': { type: 'choice', values: ['consistency', 'weighted'] },
  },
});


/** What must not depend on where a trial ran. */
const figures = (r: Pick<TrialResult, 'val' | 'test' | 'valLossByEpoch'>) => ({ valLoss: r.valLossByEpoch, val: { ...r.val }, test: { ...r.test } });
const fromSummary = (dir: string, s: SweepSummary) =>
  s.trials.map((t) => {
    const rec = JSON.parse(readFileSync(path.join(dir, 'trials', `${String(t.index).padStart(4, '0')}.json`), 'utf8'));
    return rec.status === 'ok' ? figures(rec.result) : rec.error;
  });

let reference: ReturnType<typeof figures>[] = [];

beforeAll(async () => {
  await initBackend({ quiet: true });
  // the single-process run: every trial in this process, one after the other
  reference = [];
  for (let i = 0; i < TRIALS; i++) reference.push(figures(JSON.parse(JSON.stringify(await runTrial({ index: i, config: configFor(space, randomParams(space, SEED, i)) })))));
});

describe('sweep on worker processes', () => {
  it('two local worker processes give the single-process figures', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-sweep-local-'));
    const pool = new LocalPool({ processes: 2 });
    try {
      const s = await runSweep({ space, trials: TRIALS, objective: 'valLoss', strategy: 'random', seed: SEED, dir, executor: pool, log: () => {} });
      expect(s.failed).toBe(0);
      expect(new Set(s.trials.map((t) => t.pid)).size).toBe(2);
      expect(fromSummary(dir, s)).toEqual(reference);
    } finally {
      await pool.close();
    }
  });
});

describe.skipIf(!REDIS)('sweep on BullMQ (redis-server)', () => {
  let redis: ChildProcess | null = null;
  let url = '';
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    const port = await freePort();
    redis = spawn(REDIS!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      try {
        await probeRedis(url, 500);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('redis-server did not start');
  });
  afterAll(() => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    redis?.kill('SIGKILL');
  });

  function startWorker(name: string, log: string[]): ChildProcess {
    const w = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'cli.ts'), 'worker', '--queue', url, '--queue-name', name, '--lock-ms', '1500'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TAT_QUIET_BACKEND: '1' } });
    w.stdout!.on('data', (b: Buffer) => log.push(...b.toString().split('\n').filter(Boolean)));
    w.stderr!.on('data', (b: Buffer) => log.push(...b.toString().split('\n').filter(Boolean)));
    workers.push(w);
    return w;
  }

  it('a SIGKILLed worker\'s trial is run again by the other; no trial lost or counted twice; figures equal the single-process run', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-sweep-queue-'));
    const logA: string[] = [];
    const logB: string[] = [];
    const a = startWorker('kill-test', logA);
    const exec = await QueueExecutor.open({ url, queueName: 'kill-test', shared: dir });
    const progress: string[] = [];
    const done = runSweep({ space, trials: TRIALS, objective: 'valLoss', strategy: 'random', seed: SEED, dir, executor: exec, log: (l) => progress.push(l) });
    // worker A takes the first trial; kill it a second into the trial (process start, data and training take longer), then start B
    let killed: string | null = null;
    for (let i = 0; i < 600 && !killed; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const started = logA.map((l) => /job (\S+) \(trial\) started/.exec(l)).find(Boolean);
      if (started) killed = started[1]!;
    }
    expect(killed).not.toBeNull();
    await new Promise((r) => setTimeout(r, 1000));
    expect(logA.some((l) => l.includes(`job ${killed} done`))).toBe(false);
    a.kill('SIGKILL');
    startWorker('kill-test', logB);
    const s = await done;
    await exec.close();
    expect(s.finished).toBe(TRIALS);
    expect(s.failed).toBe(0);
    expect(readdirSync(path.join(dir, 'trials')).length).toBe(TRIALS);
    expect(logB.some((l) => l.includes(`job ${killed} done`))).toBe(true);
    expect(fromSummary(dir, s)).toEqual(reference);
    expect(progress.some((l) => /trial \d+: epoch 1: validation loss/.test(l))).toBe(true);
  });

});

describe('BullMQ executor without Redis', () => {
  it('an unreachable Redis is a clear error naming the URL, password masked, within 5 s', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const err = await QueueExecutor.open({ url: `redis://tat:s3cret@127.0.0.1:${port}`, shared: tmpdir() }).catch((e: Error) => e);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((err as Error).message).toContain(`cannot reach Redis at redis://tat:***@127.0.0.1:${port}`);
    expect((err as Error).message).not.toContain('s3cret');
  });
});
