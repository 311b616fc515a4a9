import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { weightedMacroF1 } from '@task-agnostic/heads';
import { initBackend } from '@task-agnostic/tf';
import { alterAfter } from '@task-agnostic/test-utils';
import { calibrateModel } from './calibrate.js';
import { classMixChoices, classMixDistance, classWeightsByTask, describeClassMixChoices } from './class-mix.js';
import { datasetForModel, modelParts } from './model-evaluation.js';
import { evaluateSplit } from './evaluate.js';
import { trainModel } from './train-model.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

const split = (labels: number[][]) => ({ n: labels[0]!.length, targets: labels.map((l) => Float32Array.from(l)) });
const tasks = [
  { id: 'regime', kind: 'classification', outputDim: 3 },
  { id: 'volatility', kind: 'regression', outputDim: 1 },
  { id: 'risk', kind: 'classification', outputDim: 3 },
];

describe('classMixChoices', () => {
  // regime: training 2 / 1 / 1 of 4, validation 1 / 1 / 2 of 4 (TV 0.25); risk: the same mix in both (TV 0)
  const train = split([[0, 0, 1, 2], [0, 0, 0, 0], [0, 1, 2, 2]]);
  const val = split([[0, 1, 2, 2], [0, 0, 0, 0], [2, 2, 1, 0]]);

  it("'training': weights p_train / p_val by hand; equal mixes give no weights (the unweighted fit)", () => {
    const c = classMixChoices(tasks, train, val, 'training');
    expect(c.map((x) => x.task)).toEqual(['regime', 'risk']);
    expect(c[0]!.weights).toEqual([0.5 / 0.25, 0.25 / 0.25, 0.25 / 0.5]);
    expect(c[0]!.tv).toBeCloseTo(0.25, 15);
    expect(c[0]!.mix).toBe('training');
    expect(c[1]!.tv).toBe(0);
    expect(c[1]!.weights).toBeNull();
    expect(classWeightsByTask(c)).toEqual({ regime: [2, 1, 0.5] });
    expect(describeClassMixChoices(c)[0]).toBe(
      "class mix regime: fitted for the training mix (classMix 'training'); train 50.0% / 25.0% / 25.0%, validation 25.0% / 25.0% / 50.0%; validation row weights p_train/p_val 2.000 / 1.000 / 0.500",
    );
  });

  it("'auto' reweights only above the threshold; 'validation' never", () => {
    expect(classMixChoices(tasks, train, val, 'auto').map((x) => x.mix)).toEqual(['training', 'validation']);
    expect(classMixChoices(tasks, train, val, 'auto', 0.25).map((x) => x.mix)).toEqual(['validation', 'validation']);
    expect(classMixChoices(tasks, train, val, 'auto', 0.25)[0]!.reason).toBe('auto: TV 0.250 <= 0.25');
    expect(classMixChoices(tasks, train, val, 'validation').every((x) => x.weights === null && x.mix === 'validation')).toBe(true);
    // without training rows there is no mix to reweight to
    const none = classMixChoices(tasks, { n: 0, targets: [] }, val, 'training');
    expect(none[0]!.weights).toBeNull();
    expect(none[0]!.reason).toMatch(/no training rows/);
    expect(() => classMixChoices(tasks, train, val, 'auto', 2)).toThrow(/not a distance in \[0, 1\]/);
    expect(classMixDistance([0.5, 0.5], [1, 0])).toBe(0.5);
  });
});

describe('calibrateModel with classMix', () => {
  it('weighs every classification layer; equal mixes are the unweighted fit bit for bit; the test rows move nothing', async () => {
    const candles = generateSyntheticMarket({ bars: 3000, seed: 9 }).candles;
    const boundaries = [{ trainEnd: 1700, valEnd: 2400 }];
    const r = await trainModel(
      {
        model: { windowLength: 16, encoder: encoderPreset('tiny', 'mlp'), tasks: ['direction', 'volatility', { id: 'regime', config: { horizon: 32 } }, 'risk'], seed: 6 },
        boundaries,
        training: { epochs: 1, batchSize: 64, progress: false },
        calibrate: false,
      },
      [{ symbol: 'SYN', candles }],
    );
    const layers = () => JSON.stringify([Object.fromEntries(r.model.calibration), Object.fromEntries(r.model.blends), Object.fromEntries(r.model.fusions)]);
    try {
      const ds = r.dataset;
      const plain = calibrateModel(r.model, ds, { softmax: 'crossfit', classMix: 'validation' });
      const plainLayers = layers();
      const rep = calibrateModel(r.model, ds, { softmax: 'crossfit', classMix: 'training' });
      const weighted = layers();
      const mix = rep.classMix!;
      expect(mix.map((m) => m.task)).toEqual(['direction', 'regime', 'risk']);
      // the synthetic validation range's mixes differ from training's: every task is reweighted
      for (const m of mix) expect(m.weights).not.toBeNull();
      expect(weighted).not.toBe(plainLayers);

      // the calibration's NLL and the blends' out-of-fold scores are the weighted ones
      const ti = r.model.tasks.findIndex((t) => t.id === 'regime');
      const cw = mix.find((m) => m.task === 'regime')!.weights!;
      const K = r.model.tasks[ti]!.outputDim;
      expect(cw).toHaveLength(K);
      const out = evaluateSplit(modelParts(r.model), ds.val, 256).outputs[ti]!;
      const y = ds.val.targets[ti]!;
      let nll = 0;
      let wsum = 0;
      for (let i = 0; i < ds.val.n; i++) {
        const z = Array.from(out.subarray(K * i, K * (i + 1)));
        const m = Math.max(...z);
        const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
        nll += cw[y[i]!]! * (lse - z[y[i]!]!);
        wsum += cw[y[i]!]!;
      }
      expect(rep.heads[ti]!.validation.before).toBeCloseTo(nll / wsum, 6);
      const blend = rep.blends!.heads.find((h) => h.task === 'regime')!;
      expect(blend.selection.heldOut.model).toBe(weightedMacroF1(out, y, ds.val.n, K, cw));
      expect(rep.fusions!.regime!.heldOut.model).toBe(weightedMacroF1(out, y, ds.val.n, K, cw));

      // training rows with validation's own mix (the training split replaced by the validation split): the unweighted fit, bit for bit
      const same = calibrateModel(r.model, { ...ds, train: ds.val }, { softmax: 'crossfit', classMix: 'training' });
      expect(same.classMix!.every((m) => m.weights === null && m.mix === 'training')).toBe(true);
      expect(layers()).toBe(plainLayers);
      expect(JSON.stringify(same.blends)).toBe(JSON.stringify(plain.blends));
      expect(JSON.stringify(same.fusions)).toBe(JSON.stringify(plain.fusions));

      // other candles in the test range: every reweighted layer and its weights stay
      const ds2 = datasetForModel(r.model, [{ symbol: 'SYN', candles: alterAfter(candles, 2400) }], {}, boundaries);
      const rep2 = calibrateModel(r.model, ds2, { softmax: 'crossfit', classMix: 'training' });
      expect(layers()).toBe(weighted);
      expect(rep2.classMix).toEqual(rep.classMix);
      expect(JSON.stringify(rep2.blends)).toBe(JSON.stringify(rep.blends));
    } finally {
      r.model.dispose();
    }
  }, 240_000);
});
