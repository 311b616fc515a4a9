/**
 * Training resume across a real crash (issue 24 item 9): `trainer train` in a child process is
 * killed with SIGKILL once two epochs (of four) are checkpointed; the same command run again resumes from the
 * checkpoint (weights, optimiser, RNG position, early-stopping state) and ends with a model
 * bit-for-bit equal to an uninterrupted run's, each epoch logged once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stagingPaths } from './run-folder.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, 'cli.ts');
const repoRoot = path.resolve(here, '../../..');
const dir = mkdtempSync(path.join(tmpdir(), 'tat-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EPOCHS = 4;
function config(out: string): string {
  const f = path.join(out + '.json');
  writeFileSync(
    f,
    JSON.stringify({
      name: 'k',
      out,
      seed: 8,
      data: { source: 'synthetic', symbols: ['SYNTHA'], bars: 3000 },
      model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction', 'volatility'] },
      // input noise draws random numbers every step: the RNG position must resume too
      training: { epochs: EPOCHS, batchSize: 32, workers: 1, inputNoise: 0.1, earlyStopping: { patience: 10 } },
      // a resumed run skips pre-training (the checkpoint holds the pre-trained encoder): still the same weights
      pretrain: { epochs: 1, stepsPerEpoch: 5, batchSize: 32 },
      evaluate: { singleTask: false, transfer: false },
      policy: { thresholds: 'seed' },
      calibrate: false,
    }),
  );
  return f;
}

interface Child { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; killedAfterEpoch?: number }

/** Runs `trainer train`; with killAfterEpoch, SIGKILLs it once the staging checkpoint holds that epoch. */
function train(cfgFile: string, checkpoint?: string, killAfterEpoch?: number): Promise<Child> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'train', '--config', cfgFile, '--no-progress'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    let stdout = '';
    let stderr = '';
    let killedAfterEpoch: number | undefined;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer =
      checkpoint && killAfterEpoch !== undefined
        ? setInterval(() => {
            try {
              const epoch = (JSON.parse(readFileSync(path.join(checkpoint, 'checkpoint.json'), 'utf8')) as { epoch: number }).epoch;
              if (epoch >= killAfterEpoch) {
                child.kill('SIGKILL');
                killedAfterEpoch = epoch;
                clearInterval(timer);
              }
            } catch {
              // not written yet (or mid-rename)
            }
          }, 5)
        : undefined;
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stdout, stderr, ...(killedAfterEpoch !== undefined ? { killedAfterEpoch } : {}) });
    });
  });
}

const epochsLogged = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch);

describe('trainer train: kill -9 after two epochs, then the same command again', () => {
  it('resumes from the checkpoint and ends with the weights of an uninterrupted run', async () => {
    const whole = path.join(dir, 'whole');
    const a = await train(config(whole));
    expect(a.code, a.stderr).toBe(0);

    const crash = path.join(dir, 'crash');
    const cfg = config(crash);
    const staging = stagingPaths(crash, 'k');
    const b = await train(cfg, staging.checkpoints, 1);
    expect(b.signal, `${b.stdout}\n${b.stderr}`).toBe('SIGKILL');
    expect(b.killedAfterEpoch).toBeLessThan(EPOCHS - 1);
    // killed mid-run: no run folder yet, the staging folder holds the checkpoint
    expect(existsSync(path.join(crash, 'k'))).toBe(false);
    expect(existsSync(path.join(staging.checkpoints, 'checkpoint.json'))).toBe(true);

    const c = await train(cfg);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/resuming the interrupted run in .*\.k\.partial/);
    // (the child may have checkpointed one more epoch between the poll and the kill)
    const resumedAfter = Number(/resumed after epoch (\d+) from/.exec(c.stdout)?.[1]);
    expect(resumedAfter).toBeGreaterThanOrEqual(b.killedAfterEpoch! + 1);
    expect(resumedAfter).toBeLessThan(EPOCHS);
    const want = readFileSync(path.join(whole, 'k', 'model', 'weights.bin'));
    const got = readFileSync(path.join(crash, 'k', 'model', 'weights.bin'));
    expect(got.equals(want)).toBe(true);
    expect(epochsLogged(path.join(crash, 'k', 'training.jsonl'))).toEqual(epochsLogged(path.join(whole, 'k', 'training.jsonl')));
    expect(epochsLogged(path.join(crash, 'k', 'training.jsonl'))).toEqual([0, 1, 2, 3]);
    const summary = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as { history: { valTotal: number }[] };
    expect(summary(path.join(crash, 'k', 'training.json')).history.map((h) => h.valTotal)).toEqual(summary(path.join(whole, 'k', 'training.json')).history.map((h) => h.valTotal));
    expect(existsSync(staging.dir)).toBe(false);
  }, 480_000);
});
