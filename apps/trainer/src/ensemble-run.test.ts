/**
 * `trainer ensemble` end to end on tiny models: two runs of one config (seeds apart) -> an ensemble
 * run folder (format-4 artifact, ensemble.json, calibrated) -> lso on it; the validation figures and
 * the combined outputs recomputed independently; mismatched runs and bad flags rejected in one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatCandlesCsv, generateSyntheticMarket } from '@task-agnostic/core';
import { datasetForModel, evaluateSplit, evaluateTest, forecastCalibration, modelParts } from '@task-agnostic/training';
import { TaskAgnosticModel } from '@task-agnostic/model';
import { initBackend } from '@task-agnostic/tf';
import { resolveConfig, type TrainerConfigInput } from './config.js';
import { runCli as cli } from './test-cli.js';
import type { EnsembleReport } from './ensemble-run.js';
import { epochsForSteps, type LsoReport } from './lso.js';
import { loadRun } from './load-run.js';
import { trainStep } from './pipeline.js';
import { calibrateRun } from './calibrate-run.js';
import { countText, type Evaluation } from './evaluate-run.js';
import { datasetOptions, trainRun } from './train-run.js';

const root = mkdtempSync(path.join(tmpdir(), 'tat-ensemble-'));
const dataDir = path.join(root, 'data');
const runs = path.join(root, 'runs');
const printed: string[] = [];
let restore: () => void;

function config(name: string, seed: number, over: Partial<TrainerConfigInput> = {}): TrainerConfigInput {
  return {
    name,
    seed,
    out: runs,
    data: { source: 'csv', path: dataDir, symbols: 'all', holdout: ['CCCUSDT'], normalisation: 'perSymbol', taskFit: 'perSymbol', stride: 2 },
    model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction', 'volatility', 'return'] },
    training: { epochs: 1, batchSize: 64 },
    evaluate: { singleTask: false, transfer: false },
    policy: { thresholds: 'seed' },
    ...over,
  };
}

beforeAll(async () => {
  await initBackend({ quiet: true });
  mkdirSync(dataDir);
  ['AAAUSDT', 'BBBUSDT', 'CCCUSDT'].forEach((s, k) => writeFileSync(path.join(dataDir, `x_${s}_1h.csv`), formatCandlesCsv(generateSyntheticMarket({ bars: 1400, seed: 30 + k, symbol: s }).candles)));
  const quiet = (l: string) => printed.push(l);
  for (const [name, seed, over] of [['s3', 3, {}], ['s4', 4, {}], ['w12', 5, { model: { windowLength: 12, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction', 'volatility', 'return'] } }]] as const) {
    const run = await trainStep(resolveConfig(undefined, config(name, seed, over as Partial<TrainerConfigInput>)), { log: quiet, progress: false });
    run.result.model.dispose();
  }
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((x: string) => printed.push(String(x)) > 0) as typeof process.stdout.write;
  restore = () => (process.stdout.write = orig);
}, 600_000);

afterAll(() => {
  restore?.();
  rmSync(root, { recursive: true, force: true });
});

describe('trainer ensemble', () => {
  it('builds a calibrated ensemble run folder whose raw heads combine the members, and lso runs on it', async () => {
    const out = path.join(runs, 'ens');
    const r = await cli(['ensemble', path.join(runs, 's3'), path.join(runs, 's4'), '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const mj = JSON.parse(readFileSync(path.join(out, 'model', 'model.json'), 'utf8')) as { formatVersion: number; members: { seed: number }[]; calibration: Record<string, unknown> };
    expect(mj.formatVersion).toBe(4);
    expect(mj.members).toEqual([{ seed: 3 }, { seed: 4 }]);
    expect(Object.keys(mj.calibration).length).toBeGreaterThan(0);
    expect(existsSync(path.join(out, 'calibration.json'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'))).toMatchObject({ name: 'ens', seed: 3 });
    const rep = JSON.parse(readFileSync(path.join(out, 'ensemble.json'), 'utf8')) as EnsembleReport;
    expect(rep.members.map((m) => m.seed)).toEqual([3, 4]);
    expect(rep.rule).toEqual({ direction: 'softmax-mean', volatility: 'mean', return: 'gaussian-mixture' });
    expect(rep.validation.rows.map((x) => x.who)).toEqual(['seed 3', 'seed 4', 'ensemble of 2']);

    // independently: each member run reopened on its own, its raw heads on the validation rows
    const members = [];
    for (const name of ['s3', 's4']) {
      const run = await loadRun(path.join(runs, name));
      members.push(evaluateSplit(modelParts(run.result.model), run.result.dataset.val, 256));
      run.result.model.dispose();
    }
    for (const [k, m] of members.entries()) {
      for (const [i, id] of ['direction', 'volatility', 'return'].entries()) {
        for (const [key, v] of Object.entries(m.metrics[i]!)) expect(rep.validation.rows[k]!.metrics[id]![key]).toBeCloseTo(v, 6);
      }
    }
    // the ensemble's raw outputs on those rows: mean probability / mean / Gaussian mixture of the members'
    const ens = await loadRun(out);
    try {
      const ev = evaluateSplit(modelParts(ens.result.model), ens.result.dataset.val, 256);
      const n = ens.result.dataset.val.n;
      expect(n).toBe(rep.validation.windows);
      for (let i = 0; i < n; i += 7) {
        const probs = members.map((m) => {
          const z = Array.from(m.outputs[0]!.subarray(i * 3, i * 3 + 3)).map(Math.exp);
          const s = z[0]! + z[1]! + z[2]!;
          return z.map((v) => v / s);
        });
        for (let j = 0; j < 3; j++) expect(ev.outputs[0]![i * 3 + j]!).toBeCloseTo(Math.log((probs[0]![j]! + probs[1]![j]!) / 2), 4);
        expect(ev.outputs[1]![i]!).toBeCloseTo((members[0]!.outputs[1]![i]! + members[1]!.outputs[1]![i]!) / 2, 5);
        const mu = members.map((m) => m.outputs[2]![i * 2]!);
        const va = members.map((m) => Math.exp(2 * m.outputs[2]![i * 2 + 1]!));
        const mean = (mu[0]! + mu[1]!) / 2;
        expect(ev.outputs[2]![i * 2]!).toBeCloseTo(mean, 5);
        expect(ev.outputs[2]![i * 2 + 1]!).toBeCloseTo(0.5 * Math.log((va[0]! + va[1]!) / 2 + ((mu[0]! - mean) ** 2 + (mu[1]! - mean) ** 2) / 2), 4);
      }
      for (const [i, id] of ['direction', 'volatility', 'return'].entries()) {
        for (const [key, v] of Object.entries(ev.metrics[i]!)) expect(rep.validation.rows[2]!.metrics[id]![key]).toBeCloseTo(v, 6);
      }
    } finally {
      ens.result.model.dispose();
    }

    const lso = await cli(['lso', out, '--no-alone', '--resamples', '40']);
    expect(lso.err).toBe('');
    expect(lso.code).toBe(0);
    const l = JSON.parse(readFileSync(path.join(out, 'lso.json'), 'utf8')) as { symbols: { symbol: string }[] };
    expect(l.symbols.map((s) => s.symbol)).toEqual(['CCCUSDT']);
    // evaluate (test metrics, representation on member 0's embedding) and backtest run on it as on any run
    const ev = await cli(['evaluate', out]);
    expect(ev.err).toBe('');
    expect(ev.code).toBe(0);
    expect(existsSync(path.join(out, 'evaluation.json'))).toBe(true);
    const bt = await cli(['backtest', out]);
    expect(bt.err).toBe('');
    expect(bt.code).toBe(0);
    // training.json holds the members' data and histories, so the report runs on it too
    const rp = await cli(['report', out]);
    expect(rp.err).toBe('');
    expect(rp.code).toBe(0);
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
  }, 600_000);

  it("training.json keeps every member's history; lso prints the ensemble's budget (the members' sum) and --alone-epochs match caps the alone model at one member's steps", async () => {
    const out = path.join(runs, 'ens');
    const tj = JSON.parse(readFileSync(path.join(out, 'training.json'), 'utf8')) as { history?: unknown; symbols: { symbol: string }[]; members: { seed: number; run: string; trainWindows: number; history: unknown[] }[] };
    expect(tj.history).toBeUndefined();
    const memberJson = ['s3', 's4'].map((n) => JSON.parse(readFileSync(path.join(runs, n, 'training.json'), 'utf8')) as { symbols: unknown; history: unknown[]; dataset: { samples: { train: number } } });
    expect(tj.symbols).toEqual(memberJson[0]!.symbols);
    expect(tj.members).toEqual(memberJson.map((m, k) => ({ seed: 3 + k, run: path.join(runs, `s${3 + k}`), trainWindows: m.dataset.samples.train, history: m.history })));
    const memberSteps = memberJson.map((m) => m.history.length * Math.ceil(m.dataset.samples.train / 64));
    const sum = memberSteps[0]! + memberSteps[1]!;
    const mean = Math.round(sum / 2);

    printed.length = 0;
    const r = await cli(['lso', out, '--alone-epochs', 'match', '--alone-stride', '2', '--resamples', '20']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const text = printed.join('');
    expect(text).not.toMatch(/budget is not reported/);
    expect(text).toContain(`--alone-epochs match gives each alone model one member's steps, their mean, ${mean}`);
    expect(text).toMatch(new RegExp(`universal: ${memberJson[0]!.dataset.samples.train} training windows, 2 epochs, ${sum} optimiser steps \\(seed ensemble: the sum of its 2 members'; seed 3 1 epochs, ${memberSteps[0]} steps; seed 4 1 epochs, ${memberSteps[1]} steps`));
    const l = JSON.parse(readFileSync(path.join(out, 'lso.json'), 'utf8')) as LsoReport;
    expect(l.universalBudget).toMatchObject({ epochs: 2, steps: sum, members: [{ seed: 3, steps: memberSteps[0] }, { seed: 4, steps: memberSteps[1] }] });
    const a = l.symbols[0]!.alone!;
    // one member's steps, not the ensemble's sum (which would allow about twice the epochs)
    expect(a.maxEpochs).toBe(epochsForSteps(mean, a.trainWindows, 64));
    expect(epochsForSteps(sum, a.trainWindows, 64)).toBeGreaterThan(a.maxEpochs);
    expect(a.epochs).toBeLessThanOrEqual(a.maxEpochs);

    // an ensemble folder without training.json (written before it existed): the budget from the members' runs model.json names
    renameSync(path.join(out, 'training.json'), path.join(out, 'training.json.bak'));
    try {
      printed.length = 0;
      const old = await cli(['lso', out, '--no-alone', '--resamples', '20']);
      expect(old.err).toBe('');
      expect(old.code).toBe(0);
      expect(printed.join('')).toContain("the ensemble's budget is read from its members' runs");
      expect((JSON.parse(readFileSync(path.join(out, 'lso.json'), 'utf8')) as LsoReport).universalBudget).toEqual(l.universalBudget);
    } finally {
      renameSync(path.join(out, 'training.json.bak'), path.join(out, 'training.json'));
    }
  }, 600_000);

  it('evaluate --single-task on an ensemble compares it with single-task ensembles of the same seeds', async () => {
    const out = path.join(runs, 'ens-share');
    expect((await cli(['ensemble', path.join(runs, 's3'), path.join(runs, 's4'), '--out', out])).code).toBe(0);
    printed.length = 0;
    const r = await cli(['evaluate', out, '--single-task', '--no-transfer']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const ev = JSON.parse(readFileSync(path.join(out, 'evaluation.json'), 'utf8')) as Evaluation;
    expect(ev.singleTaskSeeds).toEqual([3, 4]);
    expect(printed.join('')).toContain('does sharing help? seed ensembles (seeds 3, 4) against single-task ensembles of the same seeds');
    // one progress line per training, counted over all of them: 3 tasks x 2 seeds
    expect(printed.join('')).toMatch(/single-task model for 'return' \(same encoder and budget; seed 4, member 2 of 2; training 6 of 6, [0-9.]+ min so far, about [0-9.]+ min left\)/);
    // independently: the direction-only model at seeds 3 and 4, ensembled and calibrated on its validation outputs
    const run = await loadRun(out);
    const cfg = run.cfg;
    run.result.model.dispose();
    const members = [];
    for (const seed of [3, 4]) members.push(await trainRun({ ...cfg, seed }, run.data, { tasks: ['direction'], progress: false }));
    const ens = TaskAgnosticModel.ensemble(members.map((m) => m.model));
    try {
      calibrateRun(cfg, ens, run.data, members[0]!.dataset, datasetOptions(cfg));
      const test = evaluateTest(modelParts(ens), members[0]!.dataset, 256, forecastCalibration(ens), ens.blends, ens.fusions);
      const direction = ev.tasks.find((t) => t.task === 'direction')!;
      expect(direction.singleTask!.macroF1).toBeCloseTo(test.direction!.metrics.macroF1 as number, 6);
      expect(direction.vsSingleTaskInterval!.other.estimate).toBeCloseTo(test.direction!.metrics.macroF1 as number, 6);
      // and not the seed-3 model alone (the check above could not tell them apart if they agreed)
      expect(members[0]!.test.direction!.metrics.macroF1).not.toBeCloseTo(test.direction!.metrics.macroF1 as number, 6);
    } finally {
      ens.dispose();
    }
    // one answer per run: both flags at once is a one-line error
    expect((await cli(['evaluate', out, '--single-task', '--no-single-task'])).err).toBe('error: choose one of --single-task and --no-single-task\n');
    expect((await cli(['evaluate', out, '--single-task', '--from', '2020-01-01'])).err).toBe("error: --single-task trains models on the run's own splits; an out-of-sample evaluation (--data, --symbols, --from, --to) scores the saved model only\n");
  }, 600_000);

  it('the single-task progress text counts trainings and extrapolates the time left', () => {
    expect(countText({ done: 0, total: 1, startMs: 0 }, 60_000)).toBe('');
    expect(countText({ done: 0, total: 15, startMs: 0 }, 0)).toBe('; training 1 of 15');
    expect(countText({ done: 3, total: 15, startMs: 0 }, 6 * 60_000)).toBe('; training 4 of 15, 6.0 min so far, about 24.0 min left');
  });

  it('train --seeds trains one run per seed and their ensemble', async () => {
    const file = path.join(root, 'tiny.json');
    writeFileSync(file, JSON.stringify(config('tiny', 0)));
    const r = await cli(['train', '--config', file, '--seeds', '7,8', '--name', 'tens', '--no-progress']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const seed of [7, 8]) expect(JSON.parse(readFileSync(path.join(runs, `tens-s${seed}`, 'config.json'), 'utf8'))).toMatchObject({ name: `tens-s${seed}`, seed });
    const mj = JSON.parse(readFileSync(path.join(runs, 'tens', 'model', 'model.json'), 'utf8')) as { members: { seed: number }[] };
    expect(mj.members).toEqual([{ seed: 7 }, { seed: 8 }]);
    const tj = JSON.parse(readFileSync(path.join(runs, 'tens', 'training.json'), 'utf8')) as { members: { seed: number; history: unknown[] }[] };
    expect(tj.members.map((m) => [m.seed, m.history.length])).toEqual([[7, 1], [8, 1]]);
    // the same name again: refused before any member trains, not after
    const again = await cli(['train', '--config', file, '--seeds', '7,9', '--name', 'tens', '--no-progress']);
    expect(again.code).toBe(2);
    expect(again.err).toBe(`error: the ensemble run folder ${path.join(runs, 'tens')} exists and is not empty: choose another --name, or remove it\n`);
    expect(existsSync(path.join(runs, 'tens-s9'))).toBe(false);
    expect((await cli(['train', '--config', file, '--seeds', '7'])).err).toBe("error: --seeds needs at least two seeds (an ensemble), got '7'\n");
    expect((await cli(['train', '--config', file, '--seeds', '7,x'])).err).toBe("error: --seeds must be a non-negative integer, got 'x'\n");
    expect((await cli(['train', '--config', file, '--seeds', '7,8,7'])).err).toBe('error: --seeds lists seed 7 twice\n');
    expect((await cli(['train', '--config', file, '--seeds', '7,8', '--seed', '3'])).err).toBe('error: choose one of --seed and --seeds\n');
  }, 600_000);

  it('train --seeds: the members fit no decision policy (the ensemble fits its own); data.valStride keeps validation on its own rows', async () => {
    const file = path.join(root, 'tiny-lean.json');
    // a fitted policy (not the seed thresholds) and every training window, but every 3rd validation window
    const base = config('lean', 0);
    writeFileSync(file, JSON.stringify({ ...base, data: { ...base.data, stride: 1, valStride: 3 }, policy: { thresholds: 'fitted', minValidationDays: 1 } }));
    printed.length = 0;
    const r = await cli(['train', '--config', file, '--seeds', '7,8', '--no-progress']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const text = printed.join('');
    expect(text.match(/decision policy: not fitted \(an ensemble member: the ensemble fits its own; 'trainer calibrate' on this folder fits one\)/g)).toHaveLength(2);
    for (const seed of [7, 8]) {
      expect(existsSync(path.join(runs, `lean-s${seed}`, 'decision-policy.json'))).toBe(false);
      const mj = JSON.parse(readFileSync(path.join(runs, `lean-s${seed}`, 'model', 'model.json'), 'utf8')) as { decisionPolicy?: unknown; evaluation?: unknown };
      expect(mj.decisionPolicy ?? null).toBeNull();
      expect(mj.evaluation).toBeUndefined();
    }
    // the ensemble: its policy fitted on its own validation outputs, saved in its artifact
    expect(existsSync(path.join(runs, 'lean', 'decision-policy.json'))).toBe(true);
    const ej = JSON.parse(readFileSync(path.join(runs, 'lean', 'model', 'model.json'), 'utf8')) as { decisionPolicy?: unknown };
    expect(ej.decisionPolicy).toBeTruthy();
    // valStride 3: validation windows end on rows divisible by 3; training's on every row
    const run = await loadRun(path.join(runs, 'lean'));
    try {
      const { train, val } = run.result.dataset;
      expect(val.n).toBeGreaterThan(10);
      expect(Array.from(val.endRows!).every((e) => e % 3 === 0)).toBe(true);
      expect(Array.from(train.endRows!).some((e) => e % 3 !== 0)).toBe(true);
      // the same config at stride 3 throughout: the same validation rows, a third of the training rows
      const coarse = resolveConfig(file, { data: { ...base.data, stride: 3 } } as TrainerConfigInput);
      const ds3 = datasetForModel(run.result.model, run.data.map((d) => ({ symbol: d.symbol, candles: d.candles })), datasetOptions(coarse), run.result.dataset.boundaries);
      expect(Array.from(ds3.val.endRows!)).toEqual(Array.from(val.endRows!));
      expect(ds3.train.n).toBeLessThan(train.n / 2.5);
    } finally {
      run.result.model.dispose();
    }
    // one more member later: --no-policy trains one run without a policy; the ensemble of three fits its own
    printed.length = 0;
    const one = await cli(['train', '--config', file, '--seed', '9', '--name', 'lean-s9', '--no-policy', '--no-progress']);
    expect(one.err).toBe('');
    expect(one.code).toBe(0);
    expect(printed.join('')).toContain("decision policy: not fitted (--no-policy; 'trainer calibrate' on this folder fits one)");
    expect(existsSync(path.join(runs, 'lean-s9', 'decision-policy.json'))).toBe(false);
    const three = await cli(['ensemble', ...[7, 8, 9].map((k) => path.join(runs, `lean-s${k}`)), '--out', path.join(runs, 'lean3')]);
    expect(three.err).toBe('');
    expect(three.code).toBe(0);
    expect(existsSync(path.join(runs, 'lean3', 'decision-policy.json'))).toBe(true);
    expect((await cli(['train', '--config', file, '--seeds', '7,8', '--no-policy'])).err).toBe(
      "error: --no-policy is for one run (e.g. a member for trainer ensemble): a seed ensemble's members fit none already, and the ensemble fits its own\n",
    );
    expect((await cli(['train', '--config', file, '--seed', '9', '--no-policy', '--thresholds', 'seed'])).err).toBe('error: choose one of --thresholds and --no-policy\n');
  }, 600_000);

  it("a config's seeds train the ensemble; --seed N trains that one run", async () => {
    const file = path.join(root, 'tiny-seeds.json');
    writeFileSync(file, JSON.stringify({ ...config('tcfg', 0), seeds: [5, 6] }));
    const r = await cli(['train', '--config', file, '--no-progress']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const mj = JSON.parse(readFileSync(path.join(runs, 'tcfg', 'model', 'model.json'), 'utf8')) as { members: { seed: number }[] };
    expect(mj.members).toEqual([{ seed: 5 }, { seed: 6 }]);
    // each member's config.json is one run's: no `seeds`, so retraining from it trains that run alone
    const member = JSON.parse(readFileSync(path.join(runs, 'tcfg-s5', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(member).toMatchObject({ name: 'tcfg-s5', seed: 5 });
    expect(member.seeds).toBeUndefined();
    const one = await cli(['train', '--config', file, '--seed', '9', '--name', 'tone', '--no-progress']);
    expect(one.code).toBe(0);
    expect(existsSync(path.join(runs, 'tone-s9'))).toBe(false);
    expect(JSON.parse(readFileSync(path.join(runs, 'tone', 'model', 'model.json'), 'utf8')).members).toBeUndefined();
  }, 600_000);

  it('rejects runs trained differently, too few runs, a missing or used --out, naming the problem in one line', async () => {
    const s3 = path.join(runs, 's3');
    const s4 = path.join(runs, 's4');
    const bad = await cli(['ensemble', s3, path.join(runs, 'w12'), '--out', path.join(runs, 'x1')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe(`error: run ${path.join(runs, 'w12')} was not trained like ${s3} (apart from the seed): model.windowLength: 16 vs 12\n`);
    expect(existsSync(path.join(runs, 'x1'))).toBe(false);
    const one = await cli(['ensemble', s3, '--out', path.join(runs, 'x2')]);
    expect(one.code).toBe(2);
    expect(one.err).toMatch(/^error: trainer ensemble needs at least two run folders, got 1\n/);
    expect((await cli(['ensemble', s3, s4])).err).toMatch(/^error: trainer ensemble needs --out <dir>/);
    expect((await cli(['ensemble', s3, s3, '--out', path.join(runs, 'x3')])).err).toBe(`error: run folder ${s3} is given twice\n`);
    expect((await cli(['ensemble', s3, s4, '--out', s4])).err).toBe(`error: --out ${s4} is one of the member runs: choose a new folder\n`);
    expect((await cli(['ensemble', s3, s4, '--out', path.join(runs, 'ens')])).err).toBe(`error: --out ${path.join(runs, 'ens')} exists and is not empty: choose a new folder for the ensemble run\n`);
    expect((await cli(['ensemble', s3, path.join(runs, 'nope'), '--out', path.join(runs, 'x4')])).err).toBe(`error: run folder '${path.join(runs, 'nope')}' does not exist\n`);
    expect((await cli(['ensemble', s3, s4, '--out', path.join(runs, 'x5'), '--no-policy', '--no-calibrate'])).err).toBe('error: choose one of --no-calibrate and --no-policy\n');
    const help = await cli(['ensemble', '--help']);
    expect(help.code).toBe(0);
    expect(printed.join('')).toContain('trainer ensemble <run-dir> <run-dir> [<run-dir>...] --out <dir>');
  }, 120_000);
});
