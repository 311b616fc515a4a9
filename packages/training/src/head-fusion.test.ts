import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { headFusionFeatureNames, RISK_FUSION_FEATURES } from '@task-agnostic/heads';
import { initBackend } from '@task-agnostic/tf';
import { calibrateModel } from './calibrate.js';
import { alterAfter } from '@task-agnostic/test-utils';
import type { TrainableTask } from './contracts.js';
import { datasetForModel, evaluateTest, forecastCalibration, modelParts } from './model-evaluation.js';
import { fuseRiskRows, fuseTaskRows, taskClasses } from './head-fusion.js';
import { trainModel } from './train-model.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

/**
 * The SYN test series as evaluateTest scores it three ways: raw heads, calibrated heads, and
 * calibrated with the model's blends and `fusions`; `task`'s scored rows and each series' task states.
 */
function scoredTest(r: Awaited<ReturnType<typeof trainModel>>, fusions: Parameters<typeof evaluateTest>[5], task: string) {
  const parts = modelParts(r.model);
  const tasks = r.model.tasks as unknown as TrainableTask[];
  const raw = evaluateTest(parts, r.dataset, 256);
  const cal = evaluateTest(parts, r.dataset, 256, forecastCalibration(r.model));
  const fused = evaluateTest(parts, r.dataset, 256, forecastCalibration(r.model), r.model.blends, fusions);
  const outOf = (e: typeof raw) => (id: string) => (e[id]!.bySeries.SYN as unknown as { outputs: Float32Array }).outputs;
  return {
    fused,
    rows: (fused[task]!.bySeries.SYN as unknown as { rows: number[] }).rows,
    raw: outOf(raw),
    cal: outOf(cal),
    fusedOut: outOf(fused),
    states: r.dataset.symbolTaskStates?.SYN ?? tasks.map((t) => r.model.taskStates.get(t.id)!),
  };
}

/**
 * The model's own fused logits of `task` on the test rows (forecastRaw: what predictCandles and the
 * streaming predictor apply) from the same raw heads that scoredTest read.
 */
function modelFused(r: Awaited<ReturnType<typeof trainModel>>, raw: (id: string) => Float32Array, rows: readonly number[], candles: Parameters<typeof fuseTaskRows>[3], task: string): Float32Array {
  const rawMap = new Map(r.model.tasks.map((t) => [t.id, Float32Array.from(raw(t.id))]));
  return r.model.forecastRaw(rawMap, rows.length, { candles, endRows: rows }, 'SYN').get(task)!;
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

describe('risk fusion (fitted in calibrateModel on validation, applied by evaluateTest)', () => {
  it('is fitted on validation only, chosen out of fold against the risk blend, and is what the test split is scored on', async () => {
    const candles = generateSyntheticMarket({ bars: 3000, seed: 8 }).candles;
    const boundaries = [{ trainEnd: 1800, valEnd: 2400 }];
    const r = await trainModel(
      {
        model: { windowLength: 16, encoder: encoderPreset('tiny', 'mlp'), tasks: ['volatility', 'risk'], seed: 5 },
        boundaries,
        training: { epochs: 1, batchSize: 64, progress: false },
      },
      [{ symbol: 'SYN', candles }],
    );
    try {
      const rep = r.calibration!.riskFusion!;
      expect(rep.fitRows).toBe(r.dataset.val.n);
      expect(rep.fusion!.features).toEqual([...RISK_FUSION_FEATURES]);
      // two candidates on the same features, fitted by plain and by class-balanced cross-entropy; the better out of fold is kept
      expect(rep.candidates.map((c) => [c.features, c.balanced])).toEqual([
        [RISK_FUSION_FEATURES.length, false],
        [RISK_FUSION_FEATURES.length, true],
      ]);
      expect(rep.candidates[0]!.fusion).not.toBe(rep.candidates[1]!.fusion);
      expect(rep.heldOut.fusion).toBe(Math.max(...rep.candidates.map((c) => c.fusion)));
      const blend = r.calibration!.blends!.heads.find((h) => h.task === 'risk')!;
      const s = blend.selection.heldOut;
      expect(rep.heldOut.blend).toBe(Math.max(...[s.model, s.baseline, s.combined, s.tuned ?? Number.NaN].filter(Number.isFinite)));
      // chosen exactly when its out-of-fold score beats the blend's best; it then replaces the risk blend
      expect(rep.chosen).toBe(rep.heldOut.fusion > rep.heldOut.blend);
      expect(r.model.riskFusion !== null).toBe(rep.chosen);
      expect(r.model.blends.has('risk')).toBe(!rep.chosen);
      const fitted = JSON.stringify(rep.fusion);

      // the test split as evaluateTest scores it with a fusion = the fusion applied by hand to the raw risk head and the calibrated vol head
      r.model.setRiskFusion(rep.fusion);
      const tasks = r.model.tasks as unknown as TrainableTask[];
      const { fused, rows, raw, cal, fusedOut, states } = scoredTest(r, r.model.riskFusion, 'risk');
      const want = fuseRiskRows(rep.fusion!, tasks[1]!, tasks[0]!, raw('risk'), cal('volatility'), candles, states[1]!, states[0]!, rows);
      expect(Array.from(fusedOut('risk'))).toEqual(Array.from(want));
      expect(fused.risk!.metrics).toEqual(tasks[1]!.metrics(want, r.dataset.test.targets[1]!, r.dataset.test.n));
      // the model's own forecasts on the same rows: bit for bit the same fusion
      expect(bits(modelFused(r, raw, rows, candles, 'risk'))).toEqual(bits(want));
      expect(Array.from(want)).not.toEqual(Array.from(raw('risk')));

      // other candles in the test range: the refitted fusion and its out-of-fold scores do not move
      const ds2 = datasetForModel(r.model, [{ symbol: 'SYN', candles: alterAfter(candles, 2400) }], {}, boundaries);
      const rep2 = calibrateModel(r.model, ds2).riskFusion!;
      expect(JSON.stringify(rep2.fusion)).toBe(fitted);
      expect(rep2.heldOut).toEqual(rep.heldOut);
      expect(rep2.foldMean).toBeUndefined();
      // the rule 'best': every blend deploys its best candidate by mean fold score, and the fusion is chosen
      // exactly when its mean fold score beats that candidate's (the same fits: the pooled scores do not move)
      const best = calibrateModel(r.model, ds2, { blendRule: 'best' });
      const rb = best.riskFusion!;
      const bb = best.blends!.heads.find((h) => h.task === 'risk')!.selection;
      expect(rb.heldOut).toEqual(rep.heldOut);
      expect(bb.rule).toBe('best');
      const o = bb.oneSe!;
      const mean = (a: readonly number[]) => a.reduce((x, y) => x + y, 0) / a.length;
      expect(rb.foldMean).toEqual({ blend: o.byCandidate[o.best]!.mean, fusion: mean(rb.foldScores.map((f) => f.fusion)) });
      expect(rb.foldMean!.blend).toBe(Math.max(...Object.values(o.byCandidate).map((c) => c!.mean)));
      expect(rb.chosen).toBe(rb.foldMean!.fusion > rb.foldMean!.blend);
      expect(r.model.blends.has('risk')).toBe(!rb.chosen);
      for (const h of best.blends!.heads) {
        const m = h.selection.oneSe!.best;
        expect(h.method).toBe(m === 'model' ? 'model' : m === 'baseline' ? 'baseline' : h.method);
        if (m === 'combined' || m === 'tuned') expect(['stack', 'convex']).toContain(h.method);
      }
      // blend: false leaves the risk head alone
      expect(calibrateModel(r.model, ds2, { blend: false }).riskFusion).toBeUndefined();
      expect(r.model.riskFusion).toBeNull();
    } finally {
      r.model.dispose();
    }
  }, 180_000);

  it('risk with a direction head: four candidates (with / without the direction head, plain / class-balanced), the best out of fold kept', async () => {
    const candles = generateSyntheticMarket({ bars: 3000, seed: 8 }).candles;
    const r = await trainModel(
      {
        model: { windowLength: 16, encoder: encoderPreset('tiny', 'mlp'), tasks: ['direction', 'volatility', 'risk'], seed: 5 },
        boundaries: [{ trainEnd: 1800, valEnd: 2400 }],
        training: { epochs: 1, batchSize: 64, progress: false },
      },
      [{ symbol: 'SYN', candles }],
    );
    try {
      const rep = r.calibration!.fusions!.risk!;
      const tasks = r.model.tasks as unknown as TrainableTask[];
      const withDir = headFusionFeatureNames({ task: 'risk', classes: taskClasses(tasks[2]!), directionClasses: taskClasses(tasks[0]!) }).length;
      expect(withDir).toBeGreaterThan(RISK_FUSION_FEATURES.length);
      expect(rep.candidates.map((c) => [c.features, c.direction, c.balanced])).toEqual([
        [RISK_FUSION_FEATURES.length, false, false],
        [RISK_FUSION_FEATURES.length, false, true],
        [withDir, true, false],
        [withDir, true, true],
      ]);
      expect(rep.heldOut.fusion).toBe(Math.max(...rep.candidates.map((c) => c.fusion)));
      const best = rep.candidates.find((c) => c.fusion === rep.heldOut.fusion)!;
      expect(rep.fusion!.features.length).toBe(best.features);
      expect(rep.fusion!.directionTask === 'direction').toBe(best.direction);
    } finally {
      r.model.dispose();
    }
  }, 180_000);

  it('regime: fitted on validation only from the regime, volatility and direction heads, chosen out of fold against the regime blend, and what the test split is scored on', async () => {
    const candles = generateSyntheticMarket({ bars: 3000, seed: 9 }).candles;
    const boundaries = [{ trainEnd: 1700, valEnd: 2400 }];
    const r = await trainModel(
      {
        model: { windowLength: 16, encoder: encoderPreset('tiny', 'mlp'), tasks: ['direction', 'volatility', { id: 'regime', config: { horizon: 32 } }], seed: 6 },
        boundaries,
        training: { epochs: 1, batchSize: 64, progress: false },
      },
      [{ symbol: 'SYN', candles }],
    );
    try {
      const rep = r.calibration!.fusions!.regime!;
      expect(r.calibration!.fusions!.risk).toBeUndefined();
      expect(rep.fitRows).toBe(r.dataset.val.n);
      const tasks = r.model.tasks as unknown as TrainableTask[];
      // three candidate feature sets, the best out of fold kept; its names say what it reads
      expect(rep.candidates.map((c) => [c.head, c.direction, c.trailingBars, c.balanced])).toEqual([
        [true, true, 32, true],
        [true, false, 32, true],
        [false, false, 32, true],
      ]);
      expect(rep.heldOut.fusion).toBe(Math.max(...rep.candidates.map((c) => c.fusion)));
      const f = rep.fusion!;
      const names = headFusionFeatureNames({ task: 'regime', classes: taskClasses(tasks[2]!), ...(f.directionTask ? { directionClasses: taskClasses(tasks[0]!) } : {}), trailingBars: 32, ...(f.head === false ? { head: false } : {}) });
      expect(f.features).toEqual(names);
      expect(f.trailingBars).toBe(32);
      const s = r.calibration!.blends!.heads.find((h) => h.task === 'regime')!.selection.heldOut;
      expect(rep.heldOut.blend).toBe(Math.max(...[s.model, s.baseline, s.combined, s.tuned ?? Number.NaN].filter(Number.isFinite)));
      expect(rep.chosen).toBe(rep.heldOut.fusion > rep.heldOut.blend);
      expect(r.model.fusions.has('regime')).toBe(rep.chosen);
      expect(r.model.blends.has('regime')).toBe(!rep.chosen);
      const fitted = JSON.stringify(rep.fusion);

      // evaluateTest with the fusion = the fusion applied by hand to the raw regime and direction heads and the calibrated vol head
      r.model.setFusion(rep.fusion!);
      const { fused, rows, raw, cal, fusedOut, states } = scoredTest(r, r.model.fusions, 'regime');
      const want = fuseTaskRows(rep.fusion!, tasks, { headRaw: raw('regime'), volForecast: cal('volatility'), ...(f.directionTask ? { directionRaw: raw('direction') } : {}) }, candles, (id) => states[tasks.findIndex((t) => t.id === id)]!, rows);
      expect(Array.from(fusedOut('regime'))).toEqual(Array.from(want));
      expect(fused.regime!.metrics).toEqual(tasks[2]!.metrics(want, r.dataset.test.targets[2]!, r.dataset.test.n));
      expect(bits(modelFused(r, raw, rows, candles, 'regime'))).toEqual(bits(want));
      // a regime fusion that reads the direction head (whichever candidate was chosen above): evaluateTest,
      // fuseTaskRows and the model's own forecasts agree bit for bit
      const dirNames = headFusionFeatureNames({ task: 'regime', classes: taskClasses(tasks[2]!), directionClasses: taskClasses(tasks[0]!), trailingBars: 32 });
      const K = tasks[2]!.outputDim;
      const withDir = { task: 'regime', volatilityTask: 'volatility', directionTask: 'direction', trailingBars: 32, features: dirNames, weights: Array.from({ length: (dirNames.length + 1) * K }, (_, j) => (j % K === 0 ? 0 : Math.sin(0.7 * j) * 0.6)), offsets: Array.from({ length: K }, (_, k) => 0.1 * k) };
      r.model.setFusion(withDir);
      const d = scoredTest(r, r.model.fusions, 'regime');
      const wantDir = fuseTaskRows(withDir, tasks, { headRaw: d.raw('regime'), volForecast: d.cal('volatility'), directionRaw: d.raw('direction') }, candles, (id) => d.states[tasks.findIndex((t) => t.id === id)]!, d.rows);
      expect(bits(d.fusedOut('regime'))).toEqual(bits(wantDir));
      expect(bits(modelFused(r, d.raw, d.rows, candles, 'regime'))).toEqual(bits(wantDir));
      expect(Array.from(wantDir)).not.toEqual(Array.from(want));
      r.model.clearFusion('regime');

      // other candles in the test range: the refitted fusion and its out-of-fold scores do not move
      const ds2 = datasetForModel(r.model, [{ symbol: 'SYN', candles: alterAfter(candles, 2400) }], {}, boundaries);
      const rep2 = calibrateModel(r.model, ds2).fusions!.regime!;
      expect(JSON.stringify(rep2.fusion)).toBe(fitted);
      expect(rep2.heldOut).toEqual(rep.heldOut);
      expect(calibrateModel(r.model, ds2, { blend: false }).fusions).toBeUndefined();
      expect(r.model.fusions.size).toBe(0);
    } finally {
      r.model.dispose();
    }
  }, 180_000);
});
