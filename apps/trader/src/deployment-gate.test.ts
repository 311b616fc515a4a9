import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatCandlesCsv, generateSyntheticMarket } from '@task-agnostic/core';
import { MANIFEST_CHECKSUM_FIELD, manifestChecksum, readModelJson, writeModelEvaluation, type DeploymentEvaluation } from '@task-agnostic/model';
import { initBackend } from '@task-agnostic/tf';
import { main } from './cli.js';
import { checkDeployment, deploymentAllows, describeDeployment } from './deployment-gate.js';
import { writeUntrainedModel } from './model-factory.js';

const ci = (estimate: number, lo: number, hi: number) => ({ estimate, lo, hi });
function evaluation(passed: boolean, fusion = 'consistency'): DeploymentEvaluation {
  return {
    version: 1, split: 'validation', fusion, level: 0.9, method: 'stationary bootstrap',
    symbols: [{
      symbol: 'BTCUSDT', fromMs: 1, toMs: 2, bars: 2150,
      strategies: [{ name: 'model', sharpe: ci(1, 0.2, 1.8), totalReturn: 0.1, maxDrawdown: 0.05, trades: 60 }],
      vsBuyAndHold: passed ? ci(0.8, 0.1, 1.5) : ci(0.2, -0.9, 1.3),
      vsBestNaive: { name: 'time-series momentum', ...(passed ? ci(0.5, 0.05, 1.1) : ci(-0.4, -1.6, 0.7)) },
      passed,
      reason: passed ? 'beat: ...' : 'not proven: Sharpe difference with buy-and-hold 0.20 [-0.90, 1.30] (no significant difference: interval includes 0)',
    }],
    passed,
    summary: '',
  };
}
const ctx = { fusion: 'consistency', symbols: ['BTCUSDT'] };

describe('checkDeployment', () => {
  it('an evaluation that beat both on the traded symbols, with this fusion: proven', () => {
    const c = checkDeployment({ metrics: {}, evaluation: evaluation(true) }, ctx);
    expect(c).toEqual({ proven: true, untrained: false, problems: [] });
    expect(deploymentAllows(c, 'live', false)).toBe(true);
  });
  it('no evaluation, a failed one, another fusion or an unevaluated symbol: unproven, each named', () => {
    expect(checkDeployment({ metrics: {} }, ctx).problems[0]).toMatch(/carries no evaluation/);
    expect(checkDeployment({ metrics: {}, evaluation: evaluation(false) }, ctx).problems[0]).toMatch(/^BTCUSDT on validation \(2150 bars\): not proven: .*interval includes 0/);
    expect(checkDeployment({ metrics: {}, evaluation: evaluation(true, 'weighted') }, ctx).problems[0]).toMatch(/evaluated with weighted fusion but would trade with consistency/);
    expect(checkDeployment({ metrics: {}, evaluation: evaluation(true) }, { ...ctx, symbols: ['BTCUSDT', 'SOLUSDT'] }).problems).toEqual(['SOLUSDT: not evaluated (validation covered BTCUSDT)']);
  });
  it('the tilt policy is never proven by the fused evaluation: live needs the override, paper warns', () => {
    const c = checkDeployment({ metrics: {}, evaluation: evaluation(true) }, { ...ctx, policy: 'tilt' });
    expect(c.proven).toBe(false);
    expect(c.problems[0]).toMatch(/the tilt policy has no evaluation of its own/);
    expect([deploymentAllows(c, 'live', false), deploymentAllows(c, 'live', true), deploymentAllows(c, 'paper', false)]).toEqual([false, true, true]);
  });
  it('live refuses unless overridden; paper only warns; an untrained model is refused live even with the flag', () => {
    const unproven = checkDeployment({ metrics: {}, evaluation: evaluation(false) }, ctx);
    expect(deploymentAllows(unproven, 'live', false)).toBe(false);
    expect(deploymentAllows(unproven, 'live', true)).toBe(true);
    expect(deploymentAllows(unproven, 'paper', false)).toBe(true);
    expect(describeDeployment(unproven, 'live', false)).toMatch(/refusing to trade this model live[\s\S]*--allow-unproven-model/);
    expect(describeDeployment(unproven, 'paper', false)).toMatch(/warning only in paper/);
    // untrained, even with an evaluation that passed
    const untrained = checkDeployment({ metrics: { untrained: true }, evaluation: evaluation(true) }, ctx);
    expect(untrained.untrained).toBe(true);
    expect(deploymentAllows(untrained, 'live', true)).toBe(false);
    expect(describeDeployment(untrained, 'live', true)).toMatch(/untrained model live \(no flag overrides this\)/);
    expect(checkDeployment({ metrics: { note: 'untrained: random weights (trader init-model)' } }, ctx).untrained).toBe(true);
  });
});

describe('trader live / paper with the gate', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-gate-'));
  const untrained = path.join(dir, 'untrained');
  const trainedNoEval = path.join(dir, 'no-eval');
  const csv = path.join(dir, 'c.csv');
  const saved = { k: process.env.BYBIT_API_KEY, s: process.env.BYBIT_API_SECRET };
  const errs: string[] = [];
  const outs: string[] = [];
  let restore: () => void;

  beforeAll(async () => {
    await initBackend({ quiet: true });
    const candles = generateSyntheticMarket({ bars: 700, seed: 4 }).candles;
    writeFileSync(csv, formatCandlesCsv(candles));
    (await writeUntrainedModel(untrained, candles)).dispose();
    (await writeUntrainedModel(trainedNoEval, candles)).dispose();
    // an artifact as an older trainer wrote it: trained (no untrained marker), no evaluation
    const j = JSON.parse(readFileSync(path.join(trainedNoEval, 'model.json'), 'utf8')) as { metrics: Record<string, unknown> };
    j.metrics = { test: {} };
    // resealed as a trainer would write it (model.json carries its own checksum since format 3)
    writeFileSync(path.join(trainedNoEval, 'model.json'), JSON.stringify({ ...j, [MANIFEST_CHECKSUM_FIELD]: manifestChecksum(j) }));
    process.env.BYBIT_API_KEY = 'AKEYAKEYAKEY';
    process.env.BYBIT_API_SECRET = 'SUPERSECRETVALUE123';
    const e = process.stderr.write.bind(process.stderr);
    const o = process.stdout.write.bind(process.stdout);
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    process.stdout.write = ((s: string) => (outs.push(String(s)), true)) as typeof process.stdout.write;
    restore = () => {
      process.stderr.write = e;
      process.stdout.write = o;
    };
  });
  afterAll(() => {
    restore?.();
    for (const [k, v] of [['BYBIT_API_KEY', saved.k], ['BYBIT_API_SECRET', saved.s]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses init-model's untrained artifact live, with or without --allow-unproven-model, before connecting", async () => {
    const journal = path.join(dir, 'live.db');
    for (const extra of [[], ['--allow-unproven-model']]) {
      errs.length = 0;
      expect(await main(['live', '--model', untrained, '--base-url', 'http://127.0.0.1:9', '--journal', journal, ...extra])).toBe(2);
      expect(errs.join('')).toMatch(/refusing to trade an untrained model live \(no flag overrides this\)/);
    }
    expect(() => readFileSync(journal)).toThrow(); // nothing was opened
  });
  it('refuses an artifact without an evaluation live; names the override', async () => {
    errs.length = 0;
    expect(await main(['live', '--model', trainedNoEval, '--base-url', 'http://127.0.0.1:9', '--journal', path.join(dir, 'l2.db')])).toBe(2);
    expect(errs.join('')).toMatch(/carries no evaluation[\s\S]*--allow-unproven-model/);
  });
  it('an evaluation that did not beat the naive strategies is refused live too', async () => {
    await writeModelEvaluation(trainedNoEval, evaluation(false));
    expect((await readModelJson(trainedNoEval)).evaluation?.passed).toBe(false);
    errs.length = 0;
    expect(await main(['live', '--model', trainedNoEval, '--base-url', 'http://127.0.0.1:9', '--journal', path.join(dir, 'l3.db')])).toBe(2);
    expect(errs.join('')).toMatch(/BTCUSDT on validation \(2150 bars\): not proven/);
  });
  it('paper only warns, and trades on', async () => {
    outs.length = 0;
    const code = await main(['paper', '--model', untrained, '--replay', csv, '--limit', '120', '--journal', path.join(dir, 'p.db'), '--log-level', 'warn', '--log-file', path.join(dir, 'p.log')]);
    expect(code).toBe(0);
    expect(outs.join('')).toMatch(/deployment gate \(warning only in paper\): this model is not proven:[\s\S]*UNTRAINED/);
    expect(outs.join('')).toMatch(/final /);
  }, 60_000);
});
