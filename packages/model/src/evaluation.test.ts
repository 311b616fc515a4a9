import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactError, generateSyntheticMarket } from '@task-agnostic/core';
import { initBackend } from '@task-agnostic/tf';
import type { DeploymentEvaluation } from './artifact-schema.js';
import { loadModel, readModelJson, saveModel, writeModelEvaluation } from './artifact.js';
import { TaskAgnosticModel } from './model.js';
import { MANIFEST_CHECKSUM_FIELD, manifestChecksum } from './manifest-checksum.js';
import { FakeNormalizer, fakeComponents, fakeComputeFeatures } from './test-doubles.js';

const candles = generateSyntheticMarket({ bars: 300, seed: 9 }).candles;
const matrix = fakeComputeFeatures(candles, undefined);
const root = mkdtempSync(path.join(tmpdir(), 'tat-model-eval-'));
let model: TaskAgnosticModel;

const ci = (estimate: number, lo: number, hi: number) => ({ estimate, lo, hi });
const EVAL: DeploymentEvaluation = {
  version: 1,
  split: 'validation',
  fusion: 'consistency',
  level: 0.9,
  method: 'stationary bootstrap',
  symbols: [
    {
      symbol: 'BTCUSDT', fromMs: 1, toMs: 2, bars: 2000,
      strategies: [{ name: 'model', sharpe: ci(1.2, -0.5, 2.9), totalReturn: 0.05, maxDrawdown: 0.1, trades: 40 }],
      vsBuyAndHold: ci(0.3, -1.1, 1.7),
      vsBestNaive: { name: 'time-series momentum', ...ci(-0.2, -1.9, 1.4) },
      passed: false,
      reason: 'the interval of the difference with buy-and-hold includes 0',
    },
  ],
  passed: false,
  summary: 'not proven on 1 of 1 symbols',
};

beforeAll(async () => {
  await initBackend({ quiet: true });
  model = TaskAgnosticModel.create(
    { windowLength: 8, encoder: { dim: 6 }, tasks: ['direction'], seed: 11 },
    { normalizer: FakeNormalizer.fit(matrix, matrix.warmup, 200), taskStates: { direction: { thresholds: [-0.01, 0.01] } }, components: fakeComponents },
  );
});
afterAll(() => {
  model.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('the deployment evaluation in model.json (additive, versioned)', () => {
  it('is optional: an artifact without it saves, loads and reads as before', async () => {
    const dir = path.join(root, 'plain');
    await saveModel(model, dir);
    expect((await readModelJson(dir)).evaluation).toBeUndefined();
    (await loadModel(dir, { components: fakeComponents })).dispose();
  });
  it('round-trips through saveModel and is replaced by writeModelEvaluation without touching the weights', async () => {
    const dir = path.join(root, 'with');
    await saveModel(model, dir, { evaluation: EVAL });
    expect((await readModelJson(dir)).evaluation).toEqual(EVAL);
    const weights = readFileSync(path.join(dir, 'weights.bin'));
    const passed = { ...EVAL, passed: true, summary: 'beat both on 1 of 1 symbols' };
    await writeModelEvaluation(dir, passed);
    expect((await readModelJson(dir)).evaluation).toEqual(passed);
    expect(readFileSync(path.join(dir, 'weights.bin')).equals(weights)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    (await loadModel(dir, { components: fakeComponents })).dispose();
  });
  it('rejects a malformed evaluation, naming the field', async () => {
    const dir = path.join(root, 'bad');
    await saveModel(model, dir);
    await expect(writeModelEvaluation(dir, { ...EVAL, level: 2 })).rejects.toThrow(/evaluation\.level/);
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
    const bad = { ...json, evaluation: { ...EVAL, version: 7 } };
    // resealed, so the schema check (not the checksum) is what refuses it
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ ...bad, [MANIFEST_CHECKSUM_FIELD]: manifestChecksum(bad) }));
    await expect(readModelJson(dir)).rejects.toThrow(ArtifactError);
    await expect(readModelJson(dir)).rejects.toThrow(/evaluation\.version/);
  });
});
