import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { applyBlend } from '@task-agnostic/heads';
import { initBackend } from '@task-agnostic/tf';
import { calibrateModel } from './calibrate.js';
import { alterAfter } from '@task-agnostic/test-utils';
import type { TrainableTask } from './contracts.js';
import { datasetForModel, evaluateTest, forecastCalibration, modelParts } from './model-evaluation.js';
import { trainModel } from './train-model.js';


beforeAll(async () => {
  await initBackend({ quiet: true });
});

describe('baseline blends (fitted in calibrateModel, applied by evaluateTest)', () => {
  it('are fitted on validation only, travel on the model, and are what the test split is scored on', async () => {
    const candles = generateSyntheticMarket({ bars: 3000, seed: 3 }).candles;
    const boundaries = [{ trainEnd: 1800, valEnd: 2400 }];
    const r = await trainModel(
      {
        model: { windowLength: 16, encoder: encoderPreset('tiny', 'mlp'), tasks: ['direction', 'volatility', 'regime', 'risk', 'anomaly'], seed: 4 },
        boundaries,
        training: { epochs: 1, batchSize: 64, progress: false },
      },
      [{ symbol: 'SYN', candles }],
    );
    try {
      const rep = r.calibration!.blends!;
      // every multi-class and regression head, each with the best baseline on the validation rows; the one-logit anomaly head has none
      expect(rep.heads.map((h) => h.task)).toEqual(['direction', 'volatility', 'regime', 'risk']);
      for (const h of rep.heads) {
        const best = Object.entries(h.baselines).reduce((a, b) => (b[1] > a[1] ? b : a));
        expect(h.baseline).toBe(best[0]);
        expect(h.fitRows).toBe(r.dataset.val.n);
        // the choice is the one-standard-error rule's over the time folds: the simplest candidate whose
        // mean fold shortfall against the best is within the standard error; every simpler one falls short by more
        const o = h.selection.oneSe!;
        const order = ['model', 'baseline', 'combined', 'tuned'] as const;
        const chosenAt = order.indexOf(o.chosen);
        expect(o.byCandidate[o.chosen]!.shortfall).toBeLessThanOrEqual(o.byCandidate[o.chosen]!.se);
        for (const c of order.slice(0, chosenAt)) expect(o.byCandidate[c]!.shortfall).toBeGreaterThan(o.byCandidate[c]!.se);
        const method = o.chosen === 'model' || o.chosen === 'baseline' ? o.chosen : h.task === 'volatility' ? 'convex' : 'stack';
        expect(h.method).toBe(method);
      }
      // a risk fusion chosen on validation replaces the risk blend (head-fusion.test.ts)
      const fusedRisk = r.calibration!.riskFusion?.chosen === true;
      expect([...r.model.blends.keys()]).toEqual(['direction', 'volatility', 'regime', ...(fusedRisk ? [] : ['risk'])]);
      const fitted = JSON.stringify(Object.fromEntries(r.model.blends));

      // the test split as evaluateTest scores it = the calibrated head blended by hand with the named baseline
      const parts = modelParts(r.model);
      const raw = evaluateTest(parts, r.dataset, 256, forecastCalibration(r.model));
      for (const [i, t] of (r.model.tasks as unknown as TrainableTask[]).entries()) {
        if (fusedRisk && t.id === 'risk') continue;
        const b = r.model.blends.get(t.id);
        const se = r.test[t.id]!.bySeries.SYN!;
        const out = (se as unknown as { outputs: Float32Array }).outputs;
        const rawOut = (raw[t.id]!.bySeries.SYN as unknown as { outputs: Float32Array }).outputs;
        if (!b) {
          expect(Array.from(out)).toEqual(Array.from(rawOut));
          continue;
        }
        const base = se.baselines.find((x) => x.name === b.baseline)!;
        const want = applyBlend(b, t.kind === 'classification' ? 'classes' : 'point', rawOut, base.outputs!, r.dataset.test.n, t.outputDim);
        expect(Array.from(out)).toEqual(Array.from(want));
        expect(r.test[t.id]!.metrics).toEqual(t.metrics(out, r.dataset.test.targets[i]!, r.dataset.test.n));
        if (b.method === 'baseline') expect(se.metrics).toEqual(base.metrics);
      }

      // every form applied (whatever validation chose): a convex volatility blend, a stacked regime blend, the risk baseline alone
      r.model.setBlends({
        volatility: { baseline: 'garch+bias', method: 'convex', modelWeight: 0.3, baselineWeight: 0.7, offsets: [] },
        regime: { baseline: 'persistence', method: 'stack', modelWeight: 0.5, baselineWeight: 2, offsets: [0, 0.1, 0.2, -0.1, 0] },
        risk: { baseline: 'persistence', method: 'baseline', modelWeight: 0, baselineWeight: 1, offsets: [] },
      });
      const forced = evaluateTest(parts, r.dataset, 256, forecastCalibration(r.model), r.model.blends);
      for (const [i, t] of (r.model.tasks as unknown as TrainableTask[]).entries()) {
        const b = r.model.blends.get(t.id);
        const se = forced[t.id]!.bySeries.SYN!;
        const rawOut = (raw[t.id]!.bySeries.SYN as unknown as { outputs: Float32Array }).outputs;
        const want = b ? applyBlend(b, t.kind === 'classification' ? 'classes' : 'point', rawOut, se.baselines.find((x) => x.name === b.baseline)!.outputs!, r.dataset.test.n, t.outputDim) : rawOut;
        expect(Array.from((se as unknown as { outputs: Float32Array }).outputs), t.id).toEqual(Array.from(want));
        expect(forced[t.id]!.metrics).toEqual(t.metrics(want, r.dataset.test.targets[i]!, r.dataset.test.n));
      }
      expect(forced.volatility!.metrics.mse).not.toBe(raw.volatility!.metrics.mse);
      expect(forced.risk!.bySeries.SYN!.metrics).toEqual(forced.risk!.bySeries.SYN!.baselines.find((x) => x.name === 'persistence')!.metrics);

      // other candles in the test range: the refitted blends do not move
      const ds2 = datasetForModel(r.model, [{ symbol: 'SYN', candles: alterAfter(candles, 2400) }], {}, boundaries);
      calibrateModel(r.model, ds2);
      expect(JSON.stringify(Object.fromEntries(r.model.blends))).toBe(fitted);
      // blend: false leaves the heads alone
      expect(calibrateModel(r.model, ds2, { blend: false }).blends).toBeUndefined();
      expect(r.model.blends.size).toBe(0);
    } finally {
      r.model.dispose();
    }
  }, 180_000);
});
