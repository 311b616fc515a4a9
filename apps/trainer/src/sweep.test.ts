/**
 * The sweep coordinator with an in-process executor (the trial is a formula of its parameters):
 * resume without repeating finished trials, a throwing trial recorded as failed while the sweep
 * goes on, parameters independent of the number of slots, and the best trial's deflated Sharpe.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, Rng, deflatedSharpeRatio, sharpeMoments } from '@task-agnostic/core';
import type { Executor, JobOutcome, JobSpec } from './job.js';
import { parseSpace } from './sweep-space.js';
import { randomParams, runSweep } from './sweep.js';
import type { TrialPayload, TrialResult } from './sweep-trial.js';
import type { TrainerConfig } from './config.js';

const space = parseSpace({
  params: {
    'training.learningRate': { type: 'float', low: 1e-4, high: 1e-2, log: true },
    'fusion.method': { type: 'choice', values: ['consistency', 'weighted'] },
  },
});

/** A fake trial: validation loss is a formula of the learning rate; trial 2 throws. */
function fakeResult(p: TrialPayload): TrialResult {
  const cfg = p.config as TrainerConfig;
  const lr = cfg.training.learningRate as number;
  const loss = (Math.log10(lr) + 3) ** 2 + 1;
  const rng = new Rng(`returns:${p.index}`);
  const returns = Array.from({ length: 500 }, () => 0.0005 + 0.01 * rng.normal());
  const fig = { sharpe: 1, sharpePerBar: 0.01 * (p.index + 1), bars: 500, trades: 10, totalReturn: {} };
  return { index: p.index, epochs: 1, bestEpoch: 0, trainSeconds: 0, valLossByEpoch: [loss], val: { ...fig, loss, metrics: {} }, test: { ...fig, metrics: { 'direction.macroF1': 0.4 }, returns } };
}

class FakeExecutor implements Executor {
  readonly description = 'in-process fake';
  readonly calls: number[] = [];
  constructor(readonly slots: number) {}
  async run(job: JobSpec): Promise<JobOutcome> {
    const p = job.payload as TrialPayload;
    this.calls.push(p.index);
    await new Promise((r) => setTimeout(r, 5 * ((p.index * 7) % 3)));
    const base = { id: job.id, seconds: 0.1, cpuSeconds: 0.1, pid: 1, attempts: 1 };
    if (p.index === 2) return { ...base, ok: false, error: 'RangeError: the trial blew up' };
    return { ...base, ok: true, result: fakeResult(p) };
  }
  async close(): Promise<void> {}
}

const quiet = () => {};

describe('sweep coordinator', () => {
  it('records a failing trial and goes on; resumes without repeating finished trials', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-sweep-'));
    const a = new FakeExecutor(2);
    const s1 = await runSweep({ space, trials: 4, objective: 'valLoss', strategy: 'random', seed: 7, dir, executor: a, log: quiet });
    expect(a.calls.sort()).toEqual([0, 1, 2, 3]);
    expect(s1.finished).toBe(4);
    expect(s1.failed).toBe(1);
    expect(s1.trials.find((t) => t.index === 2)).toMatchObject({ status: 'failed', error: 'RangeError: the trial blew up', objective: null });
    expect(readdirSync(path.join(dir, 'trials')).sort()).toEqual(['0000.json', '0001.json', '0002.json', '0003.json']);

    // more trials, same folder: only the new ones run
    const b = new FakeExecutor(3);
    const lines: string[] = [];
    const s2 = await runSweep({ space, trials: 6, objective: 'valLoss', strategy: 'random', seed: 7, dir, executor: b, log: (l) => lines.push(l) });
    expect(b.calls.sort()).toEqual([4, 5]);
    expect(lines[0]).toContain('resuming with 4/6 trials finished');
    expect(s2.finished).toBe(6);
    // the finished trials kept their parameters, and they equal a fresh draw of (seed, index)
    for (const t of s2.trials) expect(t.params).toEqual(randomParams(space, 7, t.index));

    // nothing left to do
    const c = new FakeExecutor(2);
    await runSweep({ space, trials: 6, objective: 'valLoss', strategy: 'random', seed: 7, dir, executor: c, log: quiet });
    expect(c.calls).toEqual([]);

    // another seed is another sweep: refused in this folder
    await expect(runSweep({ space, trials: 6, objective: 'valLoss', strategy: 'random', seed: 8, dir, executor: c, log: quiet })).rejects.toBeInstanceOf(ConfigError);
  });

  it('picks the best by the validation objective and deflates its test Sharpe by the number of trials', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-sweep-'));
    const s = await runSweep({ space, trials: 6, objective: 'valLoss', strategy: 'random', seed: 3, dir, executor: new FakeExecutor(4), log: quiet });
    const ok = s.trials.filter((t) => t.status === 'ok');
    const bestTrial = ok.reduce((a, b) => (b.objective! < a.objective! ? b : a));
    expect(s.best!.index).toBe(bestTrial.index);
    // variance of the five ok trials' validation Sharpe per bar, 0.01 * (index + 1)
    const vs = ok.map((t) => 0.01 * (t.index + 1));
    const m = vs.reduce((a, b) => a + b, 0) / vs.length;
    const v = vs.reduce((a, x) => a + (x - m) ** 2, 0) / (vs.length - 1);
    expect(s.best!.trialsSharpeVariance).toBeCloseTo(v, 12);
    const want = deflatedSharpeRatio(sharpeMoments(fakeResult({ index: bestTrial.index, config: { training: { learningRate: 0.001 } } }).test.returns), 5, v);
    expect(s.best!.deflatedSharpe!.dsr).toBeCloseTo(want.dsr, 12);
    expect(s.best!.deflatedSharpe!.trials).toBe(5);
    expect(s.importance.map((i) => i.name)).toEqual(['training.learningRate', 'fusion.method']);
    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('aria-label="parallel coordinates of the trials"');
    expect((html.match(/<polyline /g) ?? []).length).toBe(5);
    expect(html).toContain('Parameter importance');
    expect(existsSync(path.join(dir, 'results.json'))).toBe(true);
  });

  it('draws the same parameters whatever the number of slots', async () => {
    const d1 = mkdtempSync(path.join(tmpdir(), 'tat-sweep-'));
    const d2 = mkdtempSync(path.join(tmpdir(), 'tat-sweep-'));
    const one = await runSweep({ space, trials: 5, objective: 'valLoss', strategy: 'random', seed: 11, dir: d1, executor: new FakeExecutor(1), log: quiet });
    const four = await runSweep({ space, trials: 5, objective: 'valLoss', strategy: 'random', seed: 11, dir: d2, executor: new FakeExecutor(4), log: quiet });
    expect(four.trials.map((t) => [t.params, t.objective])).toEqual(one.trials.map((t) => [t.params, t.objective]));
  });
});

describe('trainer sweep command line', () => {
  it('refuses a malformed space, an unknown strategy or objective with one clear line each', async () => {
    const { runCli } = await import('./commands.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-sweep-cli-'));
    const bad = path.join(dir, 'bad.json');
    const ok = path.join(dir, 'ok.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, JSON.stringify({ params: { 'training.learningRate': { type: 'float', low: 1, high: 0.1 }, 'data.bars': { type: 'int', low: 1, high: 3 } } }));
    writeFileSync(ok, JSON.stringify({ params: { 'training.learningRate': { type: 'float', low: 0.001, high: 0.01 } } }));
    await expect(runCli(['sweep', '--space', bad, '--trials', '2'])).rejects.toThrow(/params\.training\.learningRate\.high: must be greater than low \(1\); params\.data\.bars: only model, training/);
    await expect(runCli(['sweep', '--space', ok, '--trials', '2', '--strategy', 'grid'])).rejects.toThrow("--strategy must be random or tpe, got 'grid'");
    await expect(runCli(['sweep', '--space', ok, '--trials', '2', '--objective', 'testSharpe'])).rejects.toThrow(/--objective must be valLoss, valSharpe or val\.<task>\.<metric>/);
    await expect(runCli(['sweep', '--space', ok, '--trials', '0'])).rejects.toThrow('--trials must be a positive integer');
    await expect(runCli(['sweep', '--space', ok, '--trials', '2', '--queue', 'http://x'])).rejects.toThrow("--queue 'http://x' must start with redis://");
    await expect(runCli(['worker'])).rejects.toBeInstanceOf(ConfigError);
  });
});
