/**
 * The calibration and the decision policy are fitted on the validation split only: two runs whose
 * candles differ only in the test range fit the same numbers. Plus the bad-input cases: a
 * validation split too short to fit, --thresholds seed, and a bad --thresholds flag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, formatCandlesCsv, generateSyntheticMarket, type CandleColumns } from '@task-agnostic/core';
import { initBackend } from '@task-agnostic/tf';
import { runCli } from './commands.js';
import { resolveConfig } from './config.js';
import { fitDecisionPolicy } from './decision-policy-run.js';
import { decisionSetup } from './decision-setup.js';
import { loadRun, readRunConfig } from './load-run.js';
import { holdingVariants } from './holding-variants.js';
import { alterAfter } from '@task-agnostic/test-utils';

const N = 3000;
const VAL_END = 2400; // floor(N x (1 - 0.2))

describe('calibration and decision policy are fitted on validation only', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-trainer-policy-'));
  const quiet = { write: () => true };
  let restore: () => void;
  const candles = generateSyntheticMarket({ bars: N, seed: 8 }).candles;

  const writeData = (name: string, c: CandleColumns): string => {
    const d = path.join(dir, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, 'bybit_SYNUSDT_1h.csv'), formatCandlesCsv(c));
    return d;
  };
  const writeConfig = (name: string, data: string, extra: Record<string, unknown> = {}): string => {
    const f = path.join(dir, `${name}.json`);
    writeFileSync(
      f,
      JSON.stringify({
        extends: 'quick',
        name,
        out: path.join(dir, 'runs'),
        seed: 3,
        data: { source: 'csv', path: data, symbols: ['SYNUSDT'], exchange: 'bybit', stride: 3, split: { valFraction: 0.2, testFraction: 0.2 } },
        model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction', 'volatility', 'return'] },
        training: { epochs: 1, batchSize: 64 },
        ...extra,
      }),
    );
    return f;
  };
  const modelJson = (name: string) => JSON.parse(readFileSync(path.join(dir, 'runs', name, 'model', 'model.json'), 'utf8'));

  beforeAll(async () => {
    await initBackend({ quiet: true });
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = quiet.write as typeof process.stdout.write;
    restore = () => (process.stdout.write = orig);
  });
  afterAll(() => {
    restore?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('changing the test candles changes nothing fitted (weights, calibration, thresholds)', async () => {
    const a = writeData('a', candles);
    const b = writeData('b', alterAfter(candles, VAL_END, { amplitude: 0.08, period: 5 }));
    expect(await runCli(['train', '--config', writeConfig('run-a', a), '--no-progress'])).toBe(0);
    expect(await runCli(['train', '--config', writeConfig('run-b', b), '--no-progress'])).toBe(0);
    const ja = modelJson('run-a');
    const jb = modelJson('run-b');
    expect(ja.formatVersion).toBe(3);
    expect(Object.keys(ja.calibration)).toEqual(['direction', 'volatility', 'return']);
    expect(ja.decisionPolicy.fittedOn.split).toBe('validation');
    expect(ja.decisionPolicy.fittedOn.toMs).toBeLessThan(candles.tsMs[VAL_END]!);
    for (const m of ['consistency', 'weighted'] as const) {
      const p = ja.decisionPolicy.fusions[m];
      expect(p.seed).toEqual(m === 'consistency' ? { minConfidence: 0.5, minAgreement: 0.6 } : { entry: 0.15, strong: 0.4 });
      expect(p.requiredHeads).toEqual(['direction']);
      for (const v of Object.values(p.thresholds)) expect(Number.isFinite(v)).toBe(true);
    }
    // Everything fitted is identical...
    expect(jb.weights.sha256).toBe(ja.weights.sha256);
    expect(jb.calibration).toEqual(ja.calibration);
    expect(jb.decisionPolicy).toEqual(ja.decisionPolicy);
    const pa = JSON.parse(readFileSync(path.join(dir, 'runs', 'run-a', 'decision-policy.json'), 'utf8'));
    const pb = JSON.parse(readFileSync(path.join(dir, 'runs', 'run-b', 'decision-policy.json'), 'utf8'));
    expect(pb.report.methods).toEqual(pa.report.methods);
    // The tilt policy too: fitted on validation beside the fusions, the same whatever the test candles.
    expect(ja.decisionPolicy.tilt.base).toMatchObject({ volatility: 'garch', garchHorizon: 24, rebalanceEvery: 24 });
    // the GARCH fit the trader forecasts with, fitted on the training rows
    expect(Object.keys(ja.decisionPolicy.tilt.base.garch)).toEqual(['SYNUSDT']);
    expect(ja.decisionPolicy.tilt.base.garch.SYNUSDT.omega).toBeGreaterThan(0);
    expect(typeof ja.decisionPolicy.tilt.band).toBe('number');
    expect(pb.report.tilt).toEqual(pa.report.tilt);
    expect(pa.report.tilt.candidates[0].weight).toBe(0);
    for (const c of pa.report.tilt.candidates) expect(pa.report.tilt.chosen.objective).toBeGreaterThanOrEqual(c.objective);
    // the direction head's calibration was chosen by cross-fitting on validation (the default)
    const calA = JSON.parse(readFileSync(path.join(dir, 'runs', 'run-a', 'calibration.json'), 'utf8'));
    expect(Object.keys(calA.heads[0].selection.heldOutNll)).toEqual(['temperature', 'bias-temperature', 'vector']);
    // The holding variant: chosen among all four on validation, the best feasible one (ties: the configured risk),
    // and its risk overrides travel in the artifact.
    for (const m of ['consistency', 'weighted'] as const) {
      const h = pa.report.methods[m].holding;
      // the thresholds searched under each of the four ways of holding, then the chosen one's long-only counterpart
      const names = h.variants.map((v: { name: string }) => v.name);
      expect(names.slice(0, 4)).toEqual(holdingVariants(24).filter((v) => !v.sides).map((v) => v.name));
      expect(names[4]).toMatch(/\+long-only$/);
      expect([names[4], names[4].replace('+long-only', '')]).toContain(h.chosen);
      const chosen = h.variants.find((v: { name: string }) => v.name === h.chosen);
      const feasible = h.variants.filter((v: { feasible: boolean }) => v.feasible);
      if (feasible.length) for (const v of feasible) expect(chosen.objective).toBeGreaterThanOrEqual(v.objective);
      expect(ja.decisionPolicy.fusions[m].options.holding).toBe(h.chosen);
      const v = holdingVariants(24).find((x) => x.name === h.chosen)!;
      expect(ja.decisionPolicy.fusions[m].risk).toEqual(v.risk);
      expect(ja.decisionPolicy.fusions[m].options.sides).toBe(v.sides);
    }
    // ...while what is scored on test differs: the test rows really changed.
    const ca = JSON.parse(readFileSync(path.join(dir, 'runs', 'run-a', 'calibration.json'), 'utf8'));
    const cb = JSON.parse(readFileSync(path.join(dir, 'runs', 'run-b', 'calibration.json'), 'utf8'));
    expect(cb.heads[0].test.before.metrics.brier).not.toBe(ca.heads[0].test.before.metrics.brier);

    // --tilt-only refits the tilt alone: on the same validation rows the same tilt; calibration and thresholds kept.
    writeFileSync(path.join(dir, 'runs', 'run-a', 'decision-policy.json'), JSON.stringify({ policy: ja.decisionPolicy, report: { ...pa.report, tilt: undefined } }));
    expect(await runCli(['calibrate', path.join(dir, 'runs', 'run-a'), '--tilt-only'])).toBe(0);
    const jt = modelJson('run-a');
    expect(jt.decisionPolicy).toEqual(ja.decisionPolicy);
    expect(jt.calibration).toEqual(ja.calibration);
    expect(jt.evaluation).toEqual(ja.evaluation);
    const pt = JSON.parse(readFileSync(path.join(dir, 'runs', 'run-a', 'decision-policy.json'), 'utf8'));
    expect(pt.report.tilt).toEqual(pa.report.tilt);
    expect(pt.report.methods).toEqual(pa.report.methods);
    await expect(runCli(['calibrate', path.join(dir, 'runs', 'run-a'), '--tilt-only', '--thresholds', 'seed'])).rejects.toThrow(/--tilt-only keeps the fusions' thresholds/);
    await expect(runCli(['calibrate', path.join(dir, 'runs', 'run-a'), '--blend-rule', 'max'])).rejects.toThrow("--blend-rule takes oneSe or best, got 'max'");
    await expect(runCli(['calibrate', path.join(dir, 'runs', 'run-a'), '--tilt-only', '--blend-rule', 'best'])).rejects.toThrow(/--tilt-only keeps the calibration, blends and fusions as they are: drop --blend-rule/);

    // --blend-rule best: every blend deploys its best candidate by mean fold score, and the run's config records the rule
    const bDir = path.join(dir, 'runs', 'run-b');
    expect(JSON.parse(readFileSync(path.join(bDir, 'config.json'), 'utf8')).blendRule).toBe('oneSe');
    expect(await runCli(['calibrate', bDir, '--no-policy', '--blend-rule', 'best'])).toBe(0);
    expect(JSON.parse(readFileSync(path.join(bDir, 'config.json'), 'utf8')).blendRule).toBe('best');
    const cbest = JSON.parse(readFileSync(path.join(bDir, 'calibration.json'), 'utf8'));
    expect(cbest.blends.heads.length).toBeGreaterThan(0);
    const methodOf = (c: string, m: string) => (c === 'model' || c === 'baseline' ? c : m === 'model' || m === 'baseline' ? 'a combination' : m);
    for (const h of cbest.blends.heads) {
      expect(h.selection.rule).toBe('best');
      expect(h.method).toBe(methodOf(h.selection.oneSe.best, h.method));
    }
    expect((await readRunConfig(bDir)).cfg.blendRule).toBe('best');

    // The backtest uses the fitted thresholds; --thresholds seed the source's.
    expect(await runCli(['backtest', path.join(dir, 'runs', 'run-a')])).toBe(0);
    expect(await runCli(['backtest', path.join(dir, 'runs', 'run-a'), '--thresholds', 'seed'])).toBe(0);
    const run = await loadRun(path.join(dir, 'runs', 'run-a'));
    try {
      const fitted = decisionSetup('consistency', {}, {}, run.result.model.decisionPolicy, 'fitted');
      expect(fitted.policy).not.toBeNull();
      // the risk the gate gets: the fitted holding variant's overrides, then the entry thresholds
      expect(fitted.risk).toEqual({ ...(fitted.policy!.risk ?? {}), ...fitted.policy!.gate });
      expect(decisionSetup('consistency', {}, {}, run.result.model.decisionPolicy, 'seed').policy).toBeNull();

      // A validation split too short to fit: a ConfigError with the numbers and what to change.
      const cfg = resolveConfig(writeConfig('short', a));
      let err: unknown;
      try {
        fitDecisionPolicy(cfg, run.result.model, run.data, [{ trainEnd: 1800, valEnd: 1900 }], 40);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(
        /validation split is too short to fit the decision thresholds: after the 40-bar purge gap SYNUSDT has 60 bars \(2\.5 days, \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d\); a fit needs at least 14 days \(336 bars at 1h\) on every symbol\. Start validation earlier .* or keep the source thresholds with --thresholds seed\./,
      );
    } finally {
      run.result.model.dispose();
    }
  }, 300_000);

  it('--thresholds seed stores no fitted policy; a bad --thresholds value is named', async () => {
    const a = path.join(dir, 'a');
    expect(await runCli(['train', '--config', writeConfig('run-seed', a), '--thresholds', 'seed', '--no-progress'])).toBe(0);
    const j = modelJson('run-seed');
    expect(j.decisionPolicy).toBeNull();
    expect(Object.keys(j.calibration)).toHaveLength(3);
    await expect(runCli(['train', '--config', writeConfig('run-bad', a), '--thresholds', 'magic'])).rejects.toThrow("--thresholds must be fitted or seed, got 'magic'");
    await expect(runCli(['backtest', path.join(dir, 'runs', 'run-seed'), '--thresholds', 'x'])).rejects.toThrow(/--thresholds must be fitted or seed/);
  }, 120_000);
});
