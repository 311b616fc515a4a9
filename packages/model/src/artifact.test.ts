import { mkdirSync, mkdtempSync, readFileSync, readdirSync, truncateSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactError, generateSyntheticMarket } from '@task-agnostic/core';
import { initBackend, tf } from '@task-agnostic/tf';
import { ARTIFACT_FORMAT_VERSION, type ModelJson } from './artifact-schema.js';
import { loadModel, readModelJson, saveModel } from './artifact.js';
import { featureFingerprint } from './feature-diff.js';
import { TaskAgnosticModel } from './model.js';
import { FakeNormalizer, fakeComponents, fakeComputeFeatures, fakeMakeWindows } from './test-doubles.js';
import { PACKAGE_VERSIONS } from './versions.js';
import { sha256Hex } from './weights.js';
import { manifestChecksum } from './manifest-checksum.js';

const T = 8;
const candles = generateSyntheticMarket({ bars: 300, seed: 9 }).candles;
const matrix = fakeComputeFeatures(candles, undefined);
const normalizer = FakeNormalizer.fit(matrix, matrix.warmup, 200);
const w = fakeMakeWindows(normalizer.transform(matrix), [40, 41, 200, 299], T);
const root = mkdtempSync(path.join(tmpdir(), 'tat-model-artifact-'));
let model: TaskAgnosticModel;
let saved: string;

beforeAll(async () => {
  await initBackend({ quiet: true });
  model = TaskAgnosticModel.create(
    { windowLength: T, encoder: { dim: 6 }, tasks: ['direction', { id: 'return', config: { width: 2 } }], seed: 11 },
    { normalizer, taskStates: { direction: { thresholds: [-0.01, 0.01] }, return: { scale: 3 } }, components: fakeComponents },
  );
  // Perturb the weights away from their seeded initial values, as training would.
  for (const g of model.variableGroups()) for (const v of g.variables) v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', 5))));
  saved = path.join(root, 'm1');
  await saveModel(model, saved, {
    training: { symbols: ['BTCUSDT'], interval: '1h', startMs: 1, endMs: 2, trainRows: 200 },
    metrics: { direction: { accuracy: 0.41 } },
    createdAt: new Date('2026-01-02T03:04:05Z'),
  });
});

afterAll(() => {
  model.dispose();
  rmSync(root, { recursive: true, force: true });
});

function partsOf(m: TaskAgnosticModel) {
  const { config, featureConfig, featureNames, encoder, tasks, heads, normalizer, taskStates, components } = m;
  return { config, featureConfig, featureNames, encoder, tasks, heads, normalizer, taskStates, components };
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/**
 * A copy of the saved artifact with model.json edited by `edit` (and/or weights by `editWeights`).
 * The edit is re-sealed with a fresh manifestSha256 (as a writer of such an artifact would), so the
 * checks behind the checksum are reached; `tamper` leaves the old checksum, as a hand edit would.
 */
function variant(name: string, edit?: (j: ModelJson) => void, editWeights?: (file: string) => void, tamper = false): string {
  const dir = path.join(root, name);
  rmSync(dir, { recursive: true, force: true });
  const json = JSON.parse(readFileSync(path.join(saved, 'model.json'), 'utf8')) as ModelJson;
  edit?.(json);
  if (!tamper && json.manifestSha256 !== undefined) json.manifestSha256 = manifestChecksum(json);
  writeFileSync(path.join(root, `${name}.json`), JSON.stringify(json));
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  writeFileSync(path.join(dir, 'weights.bin'), readFileSync(path.join(saved, 'weights.bin')));
  editWeights?.(path.join(dir, 'weights.bin'));
  return dir;
}

async function loadError(dir: string, options: Partial<Parameters<typeof loadModel>[1]> = {}): Promise<string> {
  try {
    const m = await loadModel(dir, { components: fakeComponents, ...options });
    m.dispose();
  } catch (e) {
    expect(e).toBeInstanceOf(ArtifactError);
    return (e as Error).message;
  }
  throw new Error('expected loadModel to fail');
}

describe('calibration and decision policy in the artifact', () => {
  const policy = {
    version: 1 as const,
    fittedOn: { split: 'validation' as const, symbols: ['BTCUSDT'], fromMs: 1, toMs: 2 },
    objective: 'net Sharpe',
    fusions: {
      consistency: { thresholds: { minConfidence: 0.4, minAgreement: 0.5 }, seed: { minConfidence: 0.5, minAgreement: 0.6 }, options: { lean: 'up-vs-down' }, gate: { minConfidence: 0.4, minAgreement: 0.5 }, requiredHeads: ['direction'] },
    },
  };

  it('round-trips both; predictions are calibrated after loading as before saving', async () => {
    const m = await loadModel(saved, { components: fakeComponents });
    const plain = m.predict(w, 4);
    m.setCalibration({ direction: { method: 'temperature', scale: [0.5, 0.5, 0.5], shift: [0, 0, 0] }, return: { method: 'gaussian-spread', scale: [1, 1], shift: [0, Math.log(2)] } });
    m.setDecisionPolicy(policy);
    const cal = m.predict(w, 4);
    // Temperature 2 flattens the direction probabilities; the return std doubles, its mean stays.
    for (const [i, p] of plain.entries()) {
      const c = cal[i]!;
      expect(Math.max(c.direction!.up, c.direction!.down, c.direction!.sideways)).toBeLessThanOrEqual(Math.max(p.direction!.up, p.direction!.down, p.direction!.sideways) + 1e-7);
      expect(c.return!.std).toBeCloseTo(2 * p.return!.std, 5);
      expect(c.return!.expected).toBeCloseTo(p.return!.expected, 6);
    }
    // raw outputs stay raw
    for (const [id, a] of m.predictRaw(w, 4)) expect(bits(a)).toEqual(bits(model.predictRaw(w, 4).get(id)!));
    const dir = path.join(root, 'calibrated');
    await saveModel(m, dir);
    const j = await readModelJson(dir);
    expect(j.calibration!.direction!.scale).toEqual([0.5, 0.5, 0.5]);
    expect(j.decisionPolicy).toEqual(policy);
    const back = await loadModel(dir, { components: fakeComponents });
    expect(back.predict(w, 4)).toEqual(cal);
    expect(back.decisionPolicy).toEqual(policy);
    expect(back.predictTask('return', w, 4)).toEqual(cal.map((c) => c.return));
    back.dispose();
    m.dispose();
  });

  it('loads a format-1 artifact (no calibration, no policy) as identity calibration and seed thresholds', async () => {
    const dir = variant('v1', (j) => {
      (j as { formatVersion: number }).formatVersion = 1;
      delete (j as { calibration?: unknown }).calibration;
      delete (j as { decisionPolicy?: unknown }).decisionPolicy;
      delete (j as { manifestSha256?: unknown }).manifestSha256;
    });
    const warnings: string[] = [];
    const m = await loadModel(dir, { components: fakeComponents, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([expect.stringMatching(/is format 1, without a checksum of model\.json: edits to its numbers cannot be detected/)]);
    expect(m.calibration.size).toBe(0);
    expect(m.decisionPolicy).toBeNull();
    expect(m.predict(w, 4)).toEqual(model.predict(w, 4));
    m.dispose();
  });

  it('rejects a calibration that does not fit the head, naming it', async () => {
    const dir = variant('badcal', (j) => ((j as { calibration?: unknown }).calibration = { direction: { method: 'temperature', scale: [1, 1], shift: [0, 0] } }));
    expect(await loadError(dir)).toBe("the artifact calibration does not fit the model: calibration.direction: calibration of 'direction' has 2 columns but the head outputs 3");
    const nan = variant('nonfinite-cal', (j) => ((j as { calibration?: unknown }).calibration = { direction: { method: 'temperature', scale: [null, 1, 1], shift: [0, 0, 0] } }));
    expect(await loadError(nan)).toMatch(/calibration\.direction\.scale\.0/);
  });
});

describe('baseline blends in the artifact', () => {
  it('round-trip; an artifact without them loads with none', async () => {
    const m = await loadModel(saved, { components: fakeComponents });
    expect(m.blends.size).toBe(0);
    const blends = {
      direction: { baseline: 'momentum', method: 'stack' as const, modelWeight: 0.8, baselineWeight: 1.3, offsets: [0, 0.2, -0.1] },
      return: { baseline: 'zero', method: 'convex' as const, modelWeight: 0.25, baselineWeight: 0.75, offsets: [] },
    };
    m.setBlends(blends);
    const dir = path.join(root, 'blended');
    await saveModel(m, dir);
    expect((await readModelJson(dir)).blends).toEqual(blends);
    const back = await loadModel(dir, { components: fakeComponents });
    expect(Object.fromEntries(back.blends)).toEqual(blends);
    back.dispose();
    m.dispose();
  });

  it('rejects a blend that does not fit its head, naming it', async () => {
    const offsets = variant('badblend', (j) => ((j as { blends?: unknown }).blends = { direction: { baseline: 'momentum', method: 'stack', modelWeight: 1, baselineWeight: 1, offsets: [0, 1] } }));
    expect(await loadError(offsets)).toBe("the artifact baseline blends do not fit the model: blends.direction: the stacked blend of 'direction' has 2 offsets but the head outputs 3 classes");
    const convex = variant('badblend2', (j) => ((j as { blends?: unknown }).blends = { direction: { baseline: 'momentum', method: 'convex', modelWeight: 1, baselineWeight: 0, offsets: [] } }));
    expect(await loadError(convex)).toMatch(/a convex blend needs a regression head; 'direction' is a classification head/);
    const negative = variant('badblend3', (j) => ((j as { blends?: unknown }).blends = { return: { baseline: 'zero', method: 'convex', modelWeight: -1, baselineWeight: 2, offsets: [] } }));
    expect(await loadError(negative)).toMatch(/blends\.return\.modelWeight/);
  });
});

describe('model.json checksum (issue 24, item 5)', () => {
  const edited = /model\.json has been edited or is corrupted: its contents' sha256 is [0-9a-f]{64} but its manifestSha256 says "[0-9a-f]{64}"; .*retrain, recalibrate or restore/;
  type Mutable = { [k: string]: unknown };

  it('seals model.json: its manifestSha256 is the checksum of everything else', async () => {
    const j = await readModelJson(saved);
    expect(j.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    const raw = JSON.parse(readFileSync(path.join(saved, 'model.json'), 'utf8')) as ModelJson;
    expect(manifestChecksum(raw)).toBe(raw.manifestSha256);
  });

  it('detects an edit of any number: normaliser scale x1000, task thresholds, windowLength, metrics, calibration, policy', async () => {
    const edits: [string, (j: ModelJson) => void][] = [
      ['std1000', (j) => ((j.normalizer as { std: number[] }).std = (j.normalizer as { std: number[] }).std.map((x) => x * 1000))],
      ['thresholds', (j) => ((j.tasks[0]!.state as { thresholds: number[] }).thresholds = [-0.5, 0.5])],
      ['window', (j) => (j.config.windowLength = j.config.windowLength + 1)],
      ['metrics', (j) => ((j.metrics as Mutable)['direction'] = { accuracy: 0.99 })],
      ['addcal', (j) => ((j as Mutable)['calibration'] = { direction: { method: 'temperature', scale: [2, 2, 2], shift: [0, 0, 0] } })],
      ['droppolicy', (j) => void delete (j as Mutable)['decisionPolicy']],
      ['downgrade', (j) => ((j as { formatVersion: number }).formatVersion = 2)],
      ['weightsha', (j) => (j.weights.sha256 = '0'.repeat(64))],
    ];
    for (const [name, edit] of edits) expect([name, await loadError(variant(`tamper-${name}`, edit, undefined, true))]).toEqual([name, expect.stringMatching(edited)]);
  });

  it('still loads when the file is only reformatted (indentation, key order)', async () => {
    const dir = variant('reformatted', (j) => {
      const entries = Object.entries(j).reverse();
      for (const k of Object.keys(j)) delete (j as Mutable)[k];
      Object.assign(j, Object.fromEntries(entries));
    }, undefined, true);
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')), null, 7));
    const m = await loadModel(dir, { components: fakeComponents });
    expect(m.predict(w, 4)).toEqual(model.predict(w, 4));
    m.dispose();
  });

  it('refuses a format-3 model.json without its checksum; loads a format-2 one with a warning', async () => {
    const strip = (j: ModelJson): void => void delete (j as Mutable)['manifestSha256'];
    expect(await loadError(variant('nosum3', strip))).toMatch(/model\.json is corrupted: format version 3 requires manifestSha256, and it has none/);
    const warnings: string[] = [];
    const m = await loadModel(variant('nosum2', (j) => (strip(j), ((j as { formatVersion: number }).formatVersion = 2))), { components: fakeComponents, onWarning: (x) => warnings.push(x) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/is format 2, without a checksum of model\.json/);
    m.dispose();
  });
});

describe('saveModel / loadModel', () => {
  it('round-trips to bitwise-identical predictions and embeddings', async () => {
    const loaded = await loadModel(saved, { components: fakeComponents });
    for (const [id, a] of model.predictRaw(w, 4)) expect(bits(loaded.predictRaw(w, 4).get(id)!)).toEqual(bits(a));
    expect(bits(loaded.embed(w, 4))).toEqual(bits(model.embed(w, 4)));
    expect(loaded.predict(w, 4)).toEqual(model.predict(w, 4));
    expect(loaded.config).toEqual(model.config);
    expect(loaded.taskStates.get('return')).toEqual({ scale: 3 });
    // A model built from the same config but not loaded differs (the load really assigned weights).
    const fresh = TaskAgnosticModel.create(model.config, { normalizer, taskStates: { direction: {}, return: { scale: 3 } }, components: fakeComponents });
    expect(bits(fresh.embed(w, 4))).not.toEqual(bits(model.embed(w, 4)));
    fresh.dispose();
    loaded.dispose();
  });

  it('writes model.json with versions, features, normaliser, tasks, training range, metrics and a weights checksum', async () => {
    const j = await readModelJson(saved);
    expect(j.format).toBe('task-agnostic-model');
    expect(j.formatVersion).toBe(ARTIFACT_FORMAT_VERSION);
    expect(j.createdAt).toBe('2026-01-02T03:04:05.000Z');
    expect(j.seed).toBe(11);
    expect(j.backend).toBe(tf.getBackend());
    expect(j.packages).toEqual(PACKAGE_VERSIONS);
    expect(j.features.names).toEqual(['ret_1', 'range_hl', 'vol_ratio', 'ret_3']);
    expect(j.features.fingerprint).toBe(featureFingerprint(j.features.names));
    expect(j.normalizer).toEqual(normalizer.toJSON());
    expect(j.tasks.map((t) => [t.id, t.outputDim, t.state, t.config])).toEqual([
      ['direction', 3, { thresholds: [-0.01, 0.01] }, undefined],
      ['return', 2, { scale: 3 }, { width: 2 }],
    ]);
    expect(j.training).toEqual({ symbols: ['BTCUSDT'], interval: '1h', startMs: 1, endMs: 2, trainRows: 200 });
    expect(j.metrics).toEqual({ direction: { accuracy: 0.41 } });
    const bytes = readFileSync(path.join(saved, 'weights.bin'));
    expect(j.weights.sha256).toBe(sha256Hex(bytes));
    expect(j.weights.byteLength).toBe(model.paramCount() * 4);
    expect(j.weights.entries.map((e) => `${e.group}[${e.index}]`)).toEqual([
      'encoder[0]', 'encoder[1]', 'encoder[2]', 'head:direction[0]', 'head:direction[1]', 'head:return[0]', 'head:return[1]',
    ]);
  });

  it('replaces an existing artifact atomically and leaves no temp folders', async () => {
    const dir = path.join(root, 'overwrite');
    await saveModel(model, dir, { metrics: { v: 1 } });
    await saveModel(model, dir, { metrics: { v: 2 } });
    expect((await readModelJson(dir)).metrics).toEqual({ v: 2 });
    expect(readdirSync(root).filter((f) => f.startsWith('overwrite'))).toEqual(['overwrite']);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
  });

  it('refuses to save state that JSON would not round-trip, naming it', async () => {
    const bad = new TaskAgnosticModel({ ...partsOf(model), taskStates: new Map([['direction', {}], ['return', { scale: NaN }]]) });
    await expect(saveModel(bad, path.join(root, 'nan'))).rejects.toThrow('model.json.tasks[1].state.scale is NaN, which JSON cannot store faithfully');
    expect(readdirSync(root).some((f) => f.startsWith('nan'))).toBe(false);
  });

  it('rejects another format version, saying which and what to do', async () => {
    expect(await loadError(variant('v5', (j) => ((j as { formatVersion: number }).formatVersion = 5)))).toBe(
      'artifact format version 5 is not supported (this reader supports 1, 2, 3 and 4): it was written by a newer @task-agnostic/model: upgrade this one',
    );
    expect(await loadError(variant('fmt', (j) => ((j as { format: string }).format = 'keras')))).toMatch(/is not a task-agnostic model artifact: format is "keras"/);
  });

  it('rejects incompatible package versions unless allowed', async () => {
    const dir = variant('pkgs', (j) => (j.packages['@task-agnostic/encoders'] = '7.0.0'));
    expect(await loadError(dir)).toBe(
      `incompatible package versions: @task-agnostic/encoders 7.0.0 in the artifact but ${PACKAGE_VERSIONS['@task-agnostic/encoders']} here (pass allowVersionMismatch to load anyway)`,
    );
    const m = await loadModel(dir, { components: fakeComponents, allowVersionMismatch: true });
    m.dispose();
  });

  it('names the feature that differs from the current feature set', async () => {
    const renamed = { ...fakeComponents, featureNames: () => ['ret_1', 'range_hl', 'vol_ratio_20', 'ret_3'] };
    expect(await loadError(saved, { components: renamed })).toBe(
      "feature mismatch: feature 2 is 'vol_ratio' in the artifact but 'vol_ratio_20' in this feature set",
    );
    expect(await loadError(saved, { expectedFeatureNames: ['ret_1', 'range_hl'] })).toBe(
      "feature mismatch: the artifact has 4 features but the expected features has 2; only in the artifact: 'vol_ratio', 'ret_3'",
    );
    // Names edited in model.json without their fingerprint: corruption
    expect(await loadError(variant('fp', (j) => (j.features.names[0] = 'x')))).toMatch(/corrupted: the feature names do not match their fingerprint/);
  });

  it('fails cleanly on a truncated, altered or missing weights file', async () => {
    expect(await loadError(variant('trunc', undefined, (f) => truncateSync(f, 100)))).toMatch(
      /weights\.bin is 100 bytes but model\.json says \d+ \(truncated\?\)/,
    );
    const flip = (f: string) => {
      const b = readFileSync(f);
      b[b.length - 3]! ^= 0x40;
      writeFileSync(f, b);
    };
    expect(await loadError(variant('flip', undefined, flip))).toMatch(/weights\.bin is corrupted: its sha256 is [0-9a-f]{64} but model\.json says [0-9a-f]{64}/);
    expect(await loadError(variant('noweights', undefined, (f) => rmSync(f)))).toMatch(/cannot read the weights file .*weights\.bin: ENOENT/);
  });

  it('fails cleanly on corrupted, missing or invalid model.json', async () => {
    const dir = variant('badjson');
    const text = readFileSync(path.join(dir, 'model.json'), 'utf8');
    writeFileSync(path.join(dir, 'model.json'), text.slice(0, text.length / 2));
    expect(await loadError(dir)).toMatch(/model\.json is not valid JSON \(corrupted or truncated\?\)/);
    expect(await loadError(path.join(root, 'nothing-here'))).toMatch(/is not a model artifact: it has no model\.json/);
    expect(await loadError(variant('badsha', (j) => (j.weights.sha256 = 'xyz')))).toMatch(/model\.json is invalid: weights\.sha256: 64 lowercase hex digits/);
    expect(await loadError(variant('notasks', (j) => (j.tasks = [])))).toMatch(/model\.json is invalid: tasks: /);
    expect(await loadError(variant('taskorder', (j) => j.tasks.reverse()))).toBe(
      'model.json is inconsistent: config.tasks is [direction, return] but tasks is [return, direction]',
    );
  });

  it('fails cleanly on wrong shapes, naming the variable and both shapes', async () => {
    const swapped = variant('shape', (j) => (j.weights.entries[0]!.shape = [6, 4]));
    expect(await loadError(swapped)).toMatch(/^encoder weight 0 \('fake_enc\/w1_\d+'\) has shape \[6,4\] in the artifact but \[4,6\] in the model built from its config$/);
    const smaller = variant('dim', (j) => ((j.config.encoder as { dim: number }).dim = 5));
    expect(await loadError(smaller)).toBe('the encoder outputs 6 values in the artifact but 5 when built here');
    const widerHead = variant('width', (j) => (j.config.tasks[1]!.config = { width: 4 }));
    expect(await loadError(widerHead)).toBe("task 'return' has 2 outputs in the artifact but 4 in this heads package");
    const badEncoder = variant('badenc', (j) => ((j.config.encoder as { dim: number }).dim = -1));
    expect(await loadError(badEncoder)).toBe('the model cannot be rebuilt from model.json: encoder.dim: must be a positive integer');
  });

  it('leaks no tensors over failed and successful loads', async () => {
    const trunc = variant('leak', (j) => (j.weights.entries[0]!.shape = [6, 4]));
    await loadError(trunc); // warm-up
    const before = tf.memory().numTensors;
    await loadError(trunc);
    const m = await loadModel(saved, { components: fakeComponents });
    m.predict(w, 4);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
