import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatCandlesCsv, generateSyntheticMarket, Rng } from '@task-agnostic/core';
import { computeFeatures, makeWindows, type FeatureSetConfig } from '@task-agnostic/features';
import { applyBlend, getTask } from '@task-agnostic/heads';
import { normalizerForSeries, type TaskAgnosticModel } from '@task-agnostic/model';
import { initBackend } from '@task-agnostic/tf';
import { resolveConfig, type TrainerConfig } from './config.js';
import { blockBootstrap } from './bootstrap.js';
import { epochsForSteps, evaluateLeaveSymbolsOut, printLso, readTrainingBudget, trainingSteps, type LsoReport } from './lso.js';
import { trainStep, type TrainedRun } from './pipeline.js';
import { runCli } from './commands.js';
import { alignOnTimestamps, assertSameLabels } from './against.js';
import { compareOnValidation, deployedLayers, foldPairedDiff, printDeployedComparison, printValidationComparison, type DeployedComparison, type ValidationComparison } from './compare-validation.js';
import { evaluateSplit, modelParts } from '@task-agnostic/training';
import { multiTimeframeFeatures } from './feature-presets.js';

const root = mkdtempSync(path.join(tmpdir(), 'tat-lso-'));
const dataDir = path.join(root, 'data');
let cfg: TrainerConfig;
let run: TrainedRun;
let report: LsoReport;
const lines: string[] = [];

beforeAll(async () => {
  await initBackend({ quiet: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dataDir);
  ['AAAUSDT', 'BBBUSDT', 'CCCUSDT'].forEach((s, k) => writeFileSync(path.join(dataDir, `x_${s}_1h.csv`), formatCandlesCsv(generateSyntheticMarket({ bars: 1400, seed: 20 + k, symbol: s }).candles)));
  // far too short for the window, horizons and splits
  writeFileSync(path.join(dataDir, 'x_TINYUSDT_1h.csv'), formatCandlesCsv(generateSyntheticMarket({ bars: 150, seed: 9 }).candles));
  cfg = resolveConfig(undefined, {
    name: 'lso-test',
    out: path.join(root, 'runs'),
    data: { source: 'csv', path: dataDir, symbols: 'all', holdout: ['CCCUSDT', 'TINYUSDT'], normalisation: 'perSymbol', taskFit: 'perSymbol', stride: 2 },
    model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction', 'volatility'] },
    training: { epochs: 1, batchSize: 64 },
    evaluate: { singleTask: false, transfer: false },
    // a week of validation is too short to fit decision thresholds (not what this test is about)
    policy: { thresholds: 'seed' },
  });
  run = await trainStep(cfg, { log: (l) => lines.push(l), progress: false });
  report = await evaluateLeaveSymbolsOut(cfg, run.result.model, { log: (l) => lines.push(l), alone: true, aloneEpochs: 1, aloneStride: 2, resamples: 40 });
}, 300_000);

afterAll(() => {
  run?.result.model.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('leave-symbols-out evaluation', () => {
  it('the encoder never sees the held-out symbols', () => {
    expect(run.data.map((d) => d.symbol)).toEqual(['AAAUSDT', 'BBBUSDT']);
    expect([...run.result.model.symbolNormalizers.keys()]).toEqual(['AAAUSDT', 'BBBUSDT']);
    expect([...run.result.model.symbolTaskStates.keys()]).toEqual(['AAAUSDT', 'BBBUSDT']);
    const saved = JSON.parse(readFileSync(path.join(run.paths.model, 'model.json'), 'utf8')) as { training: { symbols: string[] } };
    expect(saved.training.symbols).toEqual(['AAAUSDT', 'BBBUSDT']);
  });

  it('skips a held-out symbol with too little history, naming it and its bar count', () => {
    expect(report.skipped).toEqual(['TINYUSDT']);
    expect(lines.some((l) => /^skipping TINYUSDT: 150 bars, needs at least \d+/.test(l))).toBe(true);
    expect(report.symbols.map((s) => s.symbol)).toEqual(['CCCUSDT']);
  });

  it('scores the frozen model on the held-out test rows: the same figure recomputed independently', () => {
    const s = report.symbols[0]!;
    const model = run.result.model;
    const candles = generateSyntheticMarket({ bars: 1400, seed: 22, symbol: 'CCCUSDT' }).candles;
    // the split of 1400 rows (fractions 0.15 / 0.15), the gap and the horizons, by hand
    const trainEnd = Math.floor(1400 * 0.7);
    const valEnd = Math.floor(1400 * 0.85);
    const dir = getTask('direction');
    const vol = getTask('volatility');
    const h = Math.max(dir.horizon, vol.horizon);
    const gap = h + 16;
    const nz = normalizerForSeries(model, 'CCCUSDT', candles, trainEnd, { minRows: 1 });
    expect(nz.source).toBe('history');
    expect(s.normaliser).toBe(nz.note);
    const m = nz.normalizer.transform(computeFeatures(candles, model.featureConfig as FeatureSetConfig));
    const dState = dir.fit(candles, trainEnd);
    const dl = dir.labels(candles, dState);
    const vl = vol.labels(candles, vol.fit(candles, trainEnd));
    const ends: number[] = [];
    for (let e = valEnd + gap; e < 1400 - h; e++) if (dl.valid[e] && vl.valid[e] && e >= m.warmup + 15) ends.push(e);
    expect(s.testWindows).toBe(ends.length);
    const raw = model.predictRaw(makeWindows(m, ends, 16), ends.length, ['direction']).get('direction')!;
    const y = Float32Array.from(ends, (e) => dl.targets[e]!);
    // the head combined with its baseline where the run's validation chose so (the model's blend)
    const blend = model.blends.get('direction');
    const base = dir.baseline!(candles, dState, ends);
    const out = blend ? applyBlend(blend, 'classes', raw, base.find((b) => b.name === blend.baseline)!.outputs!, ends.length, 3) : raw;
    const f1 = dir.metrics(out, y, ends.length).macroF1;
    const got = s.tasks.find((t) => t.task === 'direction')!;
    expect(got.universal).toBeCloseTo(f1!, 6);
    // the baselines are those of the heads package on the same rows and labels
    const best = Math.max(...dir.baseline!(candles, dState, ends).map((b) => b.metrics.macroF1!));
    expect(got.bestBaseline!.value).toBeCloseTo(best, 10);
    // every comparison carries an interval around its point estimate
    for (const t of s.tasks) {
      for (const d of [t.vsBaselineDiff!, t.vsAloneDiff!]) {
        expect(d.lo).toBeLessThanOrEqual(d.hi);
        expect(['better', 'worse', 'no significant difference']).toContain(d.verdict);
      }
      expect(t.alone).not.toBeNull();
    }
    expect(s.alone!.trainWindows).toBeGreaterThan(0);
    expect(report.summary.map((x) => x.task)).toEqual(['direction', 'volatility']);
    // one held-out symbol: the pooled difference is its difference, with an interval of its own draws
    for (const x of report.summary) {
      const t = s.tasks.find((y) => y.task === x.task)!;
      for (const [p, d] of [[x.pooledVsBaseline!, t.vsBaselineDiff!], [x.pooledVsAlone!, t.vsAloneDiff!]] as const) {
        expect(p.value).toBe(d.value);
        expect(p.lo).toBeLessThanOrEqual(p.hi);
      }
    }
  });

  it("reports the alone model's budget: epochs run, one optimiser step per batch of 64, CPU time", () => {
    const a = report.symbols[0]!.alone!;
    expect(a.maxEpochs).toBe(1);
    expect(a.epochs).toBe(1);
    expect(a.steps).toBe(Math.ceil(a.trainWindows / 64));
    expect(a.cpuSeconds).toBeGreaterThan(0);
    expect(report.universalBudget).toBeNull();
  });

  it("--alone-epochs match: caps the alone model at the universal run's steps, read from its training.json", async () => {
    const u = await readTrainingBudget(run.paths.training, 64);
    expect(u).toEqual({ trainWindows: run.result.dataset.train.n, epochs: run.result.history.length, steps: run.result.history.length * Math.ceil(run.result.dataset.train.n / 64) });
    // a universal budget of exactly two of the alone model's epochs
    const aloneWindows = report.symbols[0]!.alone!.trainWindows;
    const budget = { trainWindows: 1, epochs: 1, steps: 2 * Math.ceil(aloneWindows / 64) };
    const out: string[] = [];
    const r = await evaluateLeaveSymbolsOut({ ...cfg, data: { ...cfg.data, holdout: ['CCCUSDT'] } }, run.result.model, { alone: true, aloneEpochs: 'matchSteps', aloneStride: 2, universalBudget: budget, resamples: 20 });
    const a = r.symbols[0]!.alone!;
    expect(a.trainWindows).toBe(aloneWindows);
    expect(a.maxEpochs).toBe(2);
    expect(a.epochs).toBeLessThanOrEqual(2);
    expect(r.universalBudget).toEqual(budget);
    printLso(r, (l) => out.push(l));
    expect(out.join('\n')).toMatch(/pooled - baseline \[95%\].*pooled - alone \[95%\]/);
    expect(out.join('\n')).toMatch(/direction\s+macroF1\s+\d\/1\s+\d\/1\s+-?\d\.\d{4} \[/);
    expect(out.join('\n')).toMatch(new RegExp(`universal: 1 training windows, 1 epochs, ${budget.steps} optimiser steps`));
    expect(out.join('\n')).toMatch(new RegExp(`alone CCCUSDT: ${aloneWindows} training windows, ${a.epochs} epochs, ${a.steps} optimiser steps, \\d+ CPU s .*\\(cap 2 epochs\\)`));
    await expect(evaluateLeaveSymbolsOut({ ...cfg, data: { ...cfg.data, holdout: ['CCCUSDT'] } }, run.result.model, { alone: true, aloneEpochs: 'matchSteps' })).rejects.toThrow(/needs the universal run's budget/);
    await expect(runCli(['lso', run.paths.dir, '--alone-epochs', 'soon'])).rejects.toThrow(/--alone-epochs must be an integer >= 1 or 'match', got 'soon'/);
    await expect(runCli(['lso', run.paths.dir, '--alone-epochs', '0'])).rejects.toThrow(/--alone-epochs must be an integer >= 1 or 'match', got '0'/);
  }, 120_000);
});

describe('alone models kept in the run folder', () => {
  it('saves each alone model in <run>/alone/<SYMBOL>/, reuses it with the same settings, refuses other settings unless told to retrain', async () => {
    const only = { ...cfg, data: { ...cfg.data, holdout: ['CCCUSDT'] } };
    const dir = path.join(run.paths.dir, 'alone', 'CCCUSDT');
    const opts = { alone: true, aloneEpochs: 1, aloneStride: 2, resamples: 20, runDir: run.paths.dir } as const;
    const first = await evaluateLeaveSymbolsOut(only, run.result.model, opts);
    expect(first.symbols[0]!.alone!.reused).toBe(false);
    const record = JSON.parse(readFileSync(path.join(dir, 'alone.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ symbol: 'CCCUSDT', stride: 2, maxEpochs: 1, trainWindows: first.symbols[0]!.alone!.trainWindows, epochs: 1 });
    expect(existsSync(path.join(dir, 'model', 'model.json'))).toBe(true);
    // the saved record is what the second run reports: a sentinel CPU figure proves it was read, not retrained
    writeFileSync(path.join(dir, 'alone.json'), JSON.stringify({ ...record, cpuSeconds: 12345 }));
    const log: string[] = [];
    const second = await evaluateLeaveSymbolsOut(only, run.result.model, { ...opts, log: (l) => log.push(l) });
    const a = second.symbols[0]!.alone!;
    expect(a).toMatchObject({ reused: true, cpuSeconds: 12345, epochs: 1, maxEpochs: 1 });
    expect(log.some((l) => l.includes('not retrained'))).toBe(true);
    expect(log.some((l) => l.includes('training a model on CCCUSDT alone'))).toBe(false);
    // the saved model scores exactly as the one trained in the first run
    expect(second.symbols[0]!.tasks.map((t) => t.alone)).toEqual(first.symbols[0]!.tasks.map((t) => t.alone));
    const out: string[] = [];
    printLso(second, (l) => out.push(l));
    expect(out.join('\n')).toMatch(/alone CCCUSDT: .*12345 CPU s .*saved earlier, reused/);
    // other settings: a clear error naming both, unless the model is to be replaced
    await expect(evaluateLeaveSymbolsOut(only, run.result.model, { ...opts, aloneStride: 3 })).rejects.toThrow(
      /holds an alone model trained with stride 2 and an epoch cap of 1, but this lso asks stride 3 and a cap of 1: pass --retrain-alone/,
    );
    const third = await evaluateLeaveSymbolsOut(only, run.result.model, { ...opts, aloneStride: 3, retrainAlone: true });
    expect(third.symbols[0]!.alone!.reused).toBe(false);
    expect(JSON.parse(readFileSync(path.join(dir, 'alone.json'), 'utf8'))).toMatchObject({ stride: 3, maxEpochs: 1 });
    // a damaged record: one line naming the file and the field
    writeFileSync(path.join(dir, 'alone.json'), JSON.stringify({ ...record, stride: 'two' }));
    await expect(evaluateLeaveSymbolsOut(only, run.result.model, opts)).rejects.toThrow(/alone\.json is malformed: stride: Expected number/);
    writeFileSync(path.join(dir, 'alone.json'), '{ not json');
    await expect(evaluateLeaveSymbolsOut(only, run.result.model, opts)).rejects.toThrow(/alone\.json is not valid JSON/);
  }, 120_000);

  it('--symbols: a subset of the held-out symbols; one that is not held out is named', async () => {
    await expect(evaluateLeaveSymbolsOut(cfg, run.result.model, { alone: false, symbols: ['AAAUSDT'] })).rejects.toThrow(
      /not held out by this run: AAAUSDT \(its held-out symbols: CCCUSDT, TINYUSDT\)/,
    );
    const r = await evaluateLeaveSymbolsOut(cfg, run.result.model, { alone: false, symbols: ['CCCUSDT'], resamples: 20 });
    expect(r.heldOut).toEqual(['CCCUSDT']);
    expect(r.symbols.map((s) => s.symbol)).toEqual(['CCCUSDT']);
    expect(r.skipped).toEqual([]);
    // from the command line, a subset gets its own report file and leaves lso.json alone
    expect(await runCli(['lso', run.paths.dir, '--no-alone', '--no-progress', '--symbols', 'cccusdt', '--resamples', '20'])).toBe(0);
    const sub = JSON.parse(readFileSync(path.join(run.paths.dir, 'lso-CCCUSDT.json'), 'utf8')) as LsoReport;
    expect(sub.heldOut).toEqual(['CCCUSDT']);
    expect(existsSync(path.join(run.paths.dir, 'lso.json'))).toBe(false);
  }, 60_000);
});

describe('training budgets', () => {
  it('steps: one per batch, a last partial batch counts', () => {
    expect(trainingSteps(1000, 3, 128)).toBe(24); // 7 full batches + 1 of 104, 3 times
    expect(trainingSteps(1024, 3, 128)).toBe(24);
    expect(trainingSteps(1025, 1, 128)).toBe(9);
    // training.stepsPerEpoch: that many steps an epoch whatever the windows; without it, one pass
    expect(trainingSteps(171_366, 8, { batchSize: 128, stepsPerEpoch: 447 })).toBe(3576);
    expect(trainingSteps(1000, 3, { batchSize: 128 })).toBe(24);
  });

  it('the epoch cap that reaches a step budget', () => {
    // the universal preset's order of magnitude: 2,682 steps; an alone model of 29,000 windows has 227 batches an epoch
    expect(epochsForSteps(2682, 29_000, 128)).toBe(12); // 11 epochs = 2,497 steps, short of 2,682
    expect(epochsForSteps(16, 1000, 128)).toBe(2);
    expect(epochsForSteps(17, 1000, 128)).toBe(3);
    expect(epochsForSteps(0, 1000, 128)).toBe(1);
    expect(() => epochsForSteps(10, 0, 128)).toThrow(/0 training windows/);
    // an alone model trained with the run's stepsPerEpoch: epochs of that many steps
    expect(epochsForSteps(3576, 29_000, { batchSize: 128, stepsPerEpoch: 447 })).toBe(8);
    expect(epochsForSteps(3577, 29_000, { batchSize: 128, stepsPerEpoch: 447 })).toBe(9);
  });

  it('a missing training.json or one without history gives no budget', async () => {
    expect(await readTrainingBudget(path.join(root, 'nope.json'), 64)).toBeNull();
    const f = path.join(root, 'empty-history.json');
    writeFileSync(f, JSON.stringify({ history: [], dataset: { samples: { train: 100 } } }));
    expect(await readTrainingBudget(f, 64)).toBeNull();
    writeFileSync(f, JSON.stringify({ history: [{}, {}], dataset: { samples: { train: 100 } } }));
    expect(await readTrainingBudget(f, 64)).toEqual({ trainWindows: 100, epochs: 2, steps: 4 });
  });
});

describe('blockBootstrap', () => {
  it('a constant statistic has a zero-width interval; the mean of iid noise gets about +-1.96 sd/sqrt(n)', () => {
    expect(blockBootstrap(50, () => 3, { resamples: 30, blockLength: 5, level: 0.95, seed: 1 })).toMatchObject({ lo: 3, hi: 3 });
    const rng = new Rng(4);
    const n = 2000;
    const x = Float64Array.from({ length: n }, () => rng.normal());
    const mean = (idx: Int32Array) => idx.reduce((a, i) => a + x[i]!, 0) / idx.length;
    const ci = blockBootstrap(n, mean, { resamples: 400, blockLength: 1, level: 0.95, seed: 2 });
    const all = x.reduce((a, b) => a + b, 0) / n;
    const half = (ci.hi - ci.lo) / 2;
    expect(half).toBeGreaterThan(0.8 * 1.96 / Math.sqrt(n));
    expect(half).toBeLessThan(1.2 * 1.96 / Math.sqrt(n));
    expect(ci.lo).toBeLessThan(all);
    expect(ci.hi).toBeGreaterThan(all);
    expect(() => blockBootstrap(1, mean, { resamples: 10, blockLength: 1, level: 0.95, seed: 1 })).toThrow(/at least 2 rows/);
  });
});

describe('lso --against: the run against another run on the same test rows and labels', () => {
  let other: TrainedRun;
  beforeAll(async () => {
    // another seed and a feature set with a 200-bar warm-up (the default set's is about 30)
    const cfg2: TrainerConfig = { ...cfg, name: 'lso-test-mtf', seed: cfg.seed + 1, model: { ...cfg.model, features: multiTimeframeFeatures() } };
    other = await trainStep(cfg2, { log: () => {}, progress: false });
  }, 300_000);
  afterAll(() => other?.result.model.dispose());

  it('a run against a copy of itself: every difference exactly 0 with the interval [0, 0], on all its test rows', async () => {
    const copy = path.join(root, 'copy-of-run');
    cpSync(run.paths.dir, copy, { recursive: true });
    expect(await runCli(['lso', copy, '--no-alone', '--no-progress', '--symbols', 'CCCUSDT', '--resamples', '20', '--against', run.paths.dir])).toBe(0);
    const r = JSON.parse(readFileSync(path.join(copy, 'lso-CCCUSDT.json'), 'utf8')) as LsoReport;
    const v = r.against!;
    expect(v.run).toBe(run.paths.dir);
    expect(v.symbols).toHaveLength(1);
    expect(v.symbols[0]!.n).toBe(r.symbols[0]!.testWindows);
    expect(v.symbols[0]!.otherRows).toBe(r.symbols[0]!.testWindows);
    for (const t of v.symbols[0]!.tasks) {
      expect(t.run).toBe(t.other);
      expect(t.diff).toEqual({ value: 0, lo: 0, hi: 0, verdict: 'no significant difference' });
    }
    for (const p of v.pooled) expect(p.pooled).toEqual({ value: 0, lo: 0, hi: 0, verdict: 'no significant difference' });
    // the usual baseline comparison is still there
    expect(r.symbols[0]!.tasks.every((t) => t.vsBaselineDiff !== null && t.vsAloneDiff === null)).toBe(true);
  }, 120_000);

  it("against a run with other features: each run's metric is its own lso figure on the same rows; the difference is theirs, signed for the run", async () => {
    const only = { ...cfg, data: { ...cfg.data, holdout: ['CCCUSDT'] } };
    const r = await evaluateLeaveSymbolsOut(only, run.result.model, { alone: false, resamples: 40, against: { run: 'mtf', model: other.result.model } });
    // the other run's own lso (its own pipeline, features and window), independently of --against
    const own = await evaluateLeaveSymbolsOut({ ...only, model: other.cfg.model }, other.result.model, { alone: false, resamples: 20 });
    const s = r.against!.symbols[0]!;
    // the 200-bar warm-up ends long before the test range: both runs score the same test rows
    expect(s.n).toBe(r.symbols[0]!.testWindows);
    expect(s.otherRows).toBe(own.symbols[0]!.testWindows);
    for (const [k, t] of s.tasks.entries()) {
      const a = r.symbols[0]!.tasks[k]!.universal;
      const b = own.symbols[0]!.tasks[k]!.universal;
      expect(t.run).toBeCloseTo(a, 10);
      expect(t.other).toBeCloseTo(b, 10);
      expect(t.diff.value).toBeCloseTo(t.higherIsBetter ? a - b : b - a, 10);
      expect(t.diff.lo).toBeLessThanOrEqual(t.diff.hi);
      expect(['better', 'worse', 'no significant difference']).toContain(t.diff.verdict);
    }
    expect(s.tasks.map((t) => t.metric)).toEqual(['macroF1', 'mse']);
    expect(s.tasks.some((t) => t.diff.lo < t.diff.hi)).toBe(true);
    // one held-out symbol: the pooled difference is its difference
    for (const [k, p] of r.against!.pooled.entries()) {
      expect(p.pooled!.value).toBe(s.tasks[k]!.diff.value);
      expect(p.symbols).toBe(1);
      expect(p.better).toBe(s.tasks[k]!.diff.value > 0 ? 1 : 0);
    }
    const out: string[] = [];
    printLso(r, (l) => out.push(l));
    expect(out.join('\n')).toMatch(/the run against mtf .*\nsymbol .*run - other \[95%\]\s*\nCCCUSDT\s+direction\s+macroF1\s+\d+\s+\d\.\d{4}\s+\d\.\d{4}\s+-?\d\.\d{4} \[/);
    expect(out.join('\n')).toMatch(/pooled run - other \[95%\]\s*\ndirection .*\nvolatility\s+mse\s+\d\/1\s+\d\/1\s+-?\d\.\d{4} \[/);
  }, 120_000);

  it('rows are aligned on timestamps: only those both runs scored, and none is an error', () => {
    expect(alignOnTimestamps([10, 20, 30, 40], [30, 40, 50], 'X')).toEqual({ ia: Int32Array.from([2, 3]), ib: Int32Array.from([0, 1]), ts: Float64Array.from([30, 40]) });
    expect(alignOnTimestamps([10, 20, 30], [5, 20, 25, 30, 35], 'X').ts).toEqual(Float64Array.from([20, 30]));
    expect(() => alignOnTimestamps([0, 3_600_000], [7_200_000], 'CCCUSDT test rows')).toThrow(
      /--against: CCCUSDT test rows: the two runs share no scored row \(the run's 2 rows: 1970-01-01T00:00 \.\. 1970-01-01T01:00; the other's 1: 1970-01-01T02:00/,
    );
  });

  it('trainer compare: validation only; a run against its copy is level to the last digit, against another run each side is its own metric', async () => {
    const copy = path.join(root, 'copy-for-compare');
    cpSync(run.paths.dir, copy, { recursive: true });
    expect(await runCli(['compare', copy, '--against', run.paths.dir])).toBe(0);
    const self = JSON.parse(readFileSync(path.join(copy, `compare-${path.basename(run.paths.dir)}.json`), 'utf8')) as ValidationComparison;
    const valN = run.result.dataset.val.n;
    expect(self.windows).toEqual({ run: valN, other: valN, compared: valN });
    expect(self.tasks.map((t) => t.task)).toEqual(['direction', 'volatility']);
    for (const t of self.tasks) {
      expect(t.comparison.diff.estimate).toBe(0);
      expect([t.comparison.diff.lo, t.comparison.diff.hi]).toEqual([0, 0]);
    }
    // what each run deploys, from its calibration.json: the same layers and scores on a copy
    const deployed = (self as ValidationComparison & { deployed: DeployedComparison[] }).deployed;
    expect(deployed.map((d) => d.task)).toEqual(['direction', 'volatility']);
    for (const d of deployed) {
      expect(d.run).not.toBeNull();
      expect(d.run).toEqual(d.other);
    }
    const cal = JSON.parse(readFileSync(path.join(run.paths.dir, 'calibration.json'), 'utf8')) as {
      blends: { heads: { task: string; selection: { heldOut: Record<string, number>; oneSe: { chosen: string; byCandidate: Record<string, { mean: number }> } } }[] };
    };
    const vol = cal.blends.heads.find((h) => h.task === 'volatility')!;
    // the report keeps -MSE (higher is better); the table shows MSE, pooled and as the mean of the fold scores
    const c = vol.selection.oneSe.chosen;
    const folds = (vol.selection.oneSe.byCandidate[c]! as unknown as { scores: number[] }).scores;
    expect(deployed[1]!.run).toEqual({ layer: c, outOfFold: -vol.selection.heldOut[c]!, foldMean: -vol.selection.oneSe.byCandidate[c]!.mean, foldScores: folds.map((v) => -v) });
    // a copy: paired by fold, every difference 0
    for (const d of deployed) expect(d.byFold).toEqual({ folds: folds.length, estimate: 0, lo: 0, hi: 0 });
    const out: string[] = [];
    printDeployedComparison(deployed, (l) => out.push(l));
    expect(out.join('\n')).toMatch(/what each run deploys .*\n.*\n-+.*\ndirection\s+macroF1\s+\w+ \d\.\d{4} \/ \d\.\d{4}\s+\w+ \d\.\d{4} \/ \d\.\d{4}\s+0\.0000 \/ 0\.0000\s+0\.0000 \[0\.0000, 0\.0000\] \(\d folds\)\s+no significant difference/);
    out.length = 0;
    printValidationComparison(self, (l) => out.push(l));
    expect(out.join('\n')).toMatch(/validation only: .* raw heads on the \d+ validation windows both have \(of \d+ \/ \d+\).*\ntask .*run - other \[95% CI\]\s+verdict\s*\n-+.*\ndirection\s+macroF1\s+\d\.\d{4} \[/);

    // another run (other features and seed): each side equals its own raw heads' metric on its validation split
    const r = compareOnValidation(run, other);
    const own = (x: TrainedRun) => evaluateSplit(modelParts(x.result.model), x.result.dataset.val, 256).metrics;
    const [ma, mb] = [own(run), own(other)];
    expect(r.windows.compared).toBe(valN);
    for (const [ti, t] of r.tasks.entries()) {
      expect(t.comparison.model.estimate).toBeCloseTo(ma[ti]![t.metric] as number, 10);
      expect(t.comparison.other.estimate).toBeCloseTo(mb[ti]![t.metric] as number, 10);
      expect(t.comparison.diff.estimate).toBeCloseTo((ma[ti]![t.metric] as number) - (mb[ti]![t.metric] as number), 10);
    }
    expect(r.tasks.some((t) => t.comparison.diff.lo < t.comparison.diff.hi)).toBe(true);

    // --from / --to split the windows by their last bar: the two halves add up to the whole
    const v = run.result.dataset.val;
    const ts = Array.from(v.endRows!, (row, i) => run.data[v.seriesIds![i]!]!.candles.tsMs[row]!).sort((x, y) => x - y);
    const mid = ts[Math.floor(ts.length / 2)]!;
    const late = compareOnValidation(run, other, { fromMs: mid });
    const early = compareOnValidation(run, other, { toMs: mid });
    expect(late.windows.compared).toBe(ts.filter((t) => t >= mid).length);
    expect(early.windows.compared + late.windows.compared).toBe(valN);
    expect(late.from).toBe(new Date(mid).toISOString().slice(0, 10));
    expect(() => compareOnValidation(run, other, { fromMs: ts[ts.length - 1]! + 1 })).toThrow(/share no validation window ending in \[\d{4}-\d{2}-\d{2}, -\)/);
  }, 120_000);

  it("deployedLayers: a chosen fusion, else the blend's one-SE choice, with its out-of-fold score", () => {
    const report = {
      blends: {
        heads: [
          { task: 'direction', method: 'model', selection: { heldOut: { model: 0.39, tuned: 0.4 }, oneSe: { chosen: 'model', byCandidate: { model: { mean: 0.37 } } } } },
          { task: 'volatility', method: 'convex', selection: { heldOut: { model: -0.18, combined: -0.176 }, oneSe: { chosen: 'combined' } } },
          { task: 'regime', method: 'stack', selection: { heldOut: { tuned: 0.3218, combined: 0.2922 }, oneSe: { chosen: 'combined' } } },
          { task: 'risk', method: 'model', selection: { heldOut: { model: 0.4769, tuned: 0.5069 }, oneSe: { chosen: 'model' } } },
          // a report from before the one-SE rule: the method names the layer
          { task: 'return', method: 'baseline', selection: { heldOut: { baseline: -0.35 } } },
        ],
      },
      fusions: { risk: { chosen: true, heldOut: { fusion: 0.5097 }, foldScores: [{ fusion: 0.4 }, { fusion: 0.5 }] }, regime: { chosen: false, heldOut: { fusion: 0.3187 } } },
    };
    expect(deployedLayers(report)).toEqual([
      { task: 'direction', layer: 'model', score: 0.39, foldMean: 0.37, foldScores: null },
      { task: 'volatility', layer: 'combined', score: -0.176, foldMean: null, foldScores: null },
      { task: 'regime', layer: 'combined', score: 0.2922, foldMean: null, foldScores: null },
      // a fusion's fold mean from its per-fold scores
      { task: 'risk', layer: 'fusion', score: 0.5097, foldMean: 0.45, foldScores: [0.4, 0.5] },
      { task: 'return', layer: 'baseline', score: -0.35, foldMean: null, foldScores: null },
    ]);
    // the rule 'best': the blend deploys the best candidate, not the one-SE choice, with that candidate's fold scores
    const best = { blends: { heads: [{ task: 'risk', method: 'stack', selection: { rule: 'best', heldOut: { model: 0.4769, tuned: 0.5069 }, oneSe: { best: 'tuned', chosen: 'model', byCandidate: { tuned: { mean: 0.45, scores: [0.4, 0.5] }, model: { mean: 0.44, scores: [0.42, 0.46] } } } } }] } };
    expect(deployedLayers(best)).toEqual([{ task: 'risk', layer: 'tuned', score: 0.5069, foldMean: 0.45, foldScores: [0.4, 0.5] }]);
    expect(deployedLayers(null)).toEqual([]);
    expect(deployedLayers({ blends: { heads: [{ task: 'x', method: 'stack', selection: {} }] } })).toEqual([{ task: 'x', layer: 'stack', score: null, foldMean: null, foldScores: null }]);
  });

  it('foldPairedDiff: the fold-mean difference with a Student-t interval over the paired fold differences; the table gives its verdict', () => {
    // differences 0.01, 0.03, 0.02, 0.00, 0.04: mean 0.02, sd sqrt(0.001 / 4) = 0.0158114, t(0.975, 4) = 2.776445
    const p = foldPairedDiff([0.51, 0.53, 0.52, 0.5, 0.54], [0.5, 0.5, 0.5, 0.5, 0.5])!;
    const half = 2.776445 * (Math.sqrt(0.001 / 4) / Math.sqrt(5));
    expect(p.folds).toBe(5);
    expect(p.estimate).toBeCloseTo(0.02, 12);
    expect(p.lo).toBeCloseTo(0.02 - half, 5);
    expect(p.hi).toBeCloseTo(0.02 + half, 5);
    // not pairable: a side without fold scores, unequal fold counts, one fold
    expect(foldPairedDiff(null, [0.5, 0.5])).toBeNull();
    expect(foldPairedDiff([0.5, 0.5, 0.5], [0.5, 0.5])).toBeNull();
    expect(foldPairedDiff([0.5], [0.4])).toBeNull();
    const row = (task: string, metric: string, higherIsBetter: boolean, byFold: ReturnType<typeof foldPairedDiff>): DeployedComparison => ({ task, metric, higherIsBetter, run: null, other: null, byFold });
    const out: string[] = [];
    printDeployedComparison(
      [
        row('risk', 'macroF1', true, p),
        row('volatility', 'mse', false, { folds: 5, estimate: 0.002, lo: 0.001, hi: 0.003 }),
        row('regime', 'macroF1', true, { folds: 5, estimate: -0.003, lo: -0.009, hi: 0.003 }),
        row('direction', 'macroF1', true, null),
      ],
      (l) => out.push(l),
    );
    const text = out.join('\n');
    expect(text).toMatch(/\nrisk\s+macroF1\s+.*0\.0200 \[3\.68e-4, 0\.0396\] \(5 folds\)\s+better \(95% CI excludes 0\)/);
    // a loss: a positive difference is worse
    expect(text).toMatch(/\nvolatility\s+mse\s+.*0\.0020 \[0\.0010, 0\.0030\] \(5 folds\)\s+worse \(95% CI excludes 0\)/);
    expect(text).toMatch(/\nregime\s+macroF1\s+.*-0\.0030 \[-0\.0090, 0\.0030\] \(5 folds\)\s+no significant difference/);
    expect(text).toMatch(/\ndirection\s+macroF1\s+.*\s-\s+-\s*$/m);
  });

  it('trainer compare: bad flags are one-line errors', async () => {
    await expect(runCli(['compare', run.paths.dir])).rejects.toThrow(/trainer compare needs --against <other-run>/);
    await expect(runCli(['compare', run.paths.dir, '--against', run.paths.dir])).rejects.toThrow(/--against .* is the run itself/);
    await expect(runCli(['compare', run.paths.dir, '--against', path.join(root, 'nope')])).rejects.toThrow(/^--against .*nope: .*nope is not a trainer run folder/);
    await expect(runCli(['compare', run.paths.dir, '--against', other.paths.dir, '--from', '2024-02-01', '--to', '2024-01-01'])).rejects.toThrow(/--to 2024-01-01 is not after --from 2024-02-01/);
    await expect(runCli(['compare', run.paths.dir, '--against', other.paths.dir, '--from', 'soon'])).rejects.toThrow(/--from 'soon' is not a date/);
  });

  it('bad input: a missing run, the run itself, other tasks or label settings', async () => {
    await expect(runCli(['lso', run.paths.dir, '--no-alone', '--against', path.join(root, 'nope')])).rejects.toThrow(/^--against .*nope: .*nope is not a trainer run folder: cannot read/);
    await expect(runCli(['lso', run.paths.dir, '--no-alone', '--against', run.paths.dir])).rejects.toThrow(/--against .* is the run itself: name another run folder/);
    const fake = (tasks: { id: string; config: Record<string, unknown> }[]) => ({ tasks }) as unknown as TaskAgnosticModel;
    const dir = (config: Record<string, unknown>) => fake([{ id: 'direction', config }, { id: 'volatility', config: {} }]);
    expect(() => assertSameLabels(dir({ horizon: 24 }), fake([{ id: 'direction', config: { horizon: 24 } }]), 'runs/a', 'runs/b')).toThrow(
      /--against: runs\/a has tasks direction,volatility and runs\/b direction; the runs must predict the same labels/,
    );
    expect(() => assertSameLabels(dir({ horizon: 24, thresholdSigmas: 0.5 }), dir({ horizon: 24, thresholdSigmas: 1 }), 'runs/a', 'runs/b')).toThrow(
      /--against: task direction's label settings differ \(thresholdSigmas: 0.5 vs 1, runs\/a vs runs\/b\)/,
    );
    // class weighting changes the loss, not the labels
    expect(() => assertSameLabels(dir({ horizon: 24, classWeighting: 'balanced' }), dir({ horizon: 24, classWeighting: 'none' }), 'a', 'b')).not.toThrow();
    expect(() => assertSameLabels(run.result.model, other.result.model, 'a', 'b')).not.toThrow();
  });
});
