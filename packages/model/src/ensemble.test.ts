import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactError, ConfigError, candleAt, generateSyntheticMarket } from '@task-agnostic/core';
import { initBackend, tf } from '@task-agnostic/tf';
import { ARTIFACT_FORMAT_VERSION, ENSEMBLE_FORMAT_VERSION, type ModelJson } from './artifact-schema.js';
import { loadModel, saveModel } from './artifact.js';
import type { Encoder } from './contracts.js';
import { combineMemberOutputs, ensembleEncoder, ensembleRule, type EnsembleRule } from './ensemble.js';
import { manifestChecksum } from './manifest-checksum.js';
import { TaskAgnosticModel } from './model.js';
import { StreamingPredictor } from './streaming.js';
import { FakeNormalizer, fakeComponents, fakeComputeFeatures, fakeMakeWindows } from './test-doubles.js';

const T = 6;
const candles = generateSyntheticMarket({ bars: 160, seed: 4 }).candles;
const matrix = fakeComputeFeatures(candles, undefined);
const normalizer = FakeNormalizer.fit(matrix, matrix.warmup, 100);
const ends = [30, 31, 90, 159];
const w = fakeMakeWindows(normalizer.transform(matrix), ends, T);
const root = mkdtempSync(path.join(tmpdir(), 'tat-model-ensemble-'));
const TASKS = ['direction', 'return', { id: 'x_level', config: { width: 1 } }];

beforeAll(async () => {
  await initBackend({ quiet: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function member(seed: number, over: { dim?: number; normalizer?: FakeNormalizer; scale?: number; windowLength?: number } = {}): TaskAgnosticModel {
  const m = TaskAgnosticModel.create(
    { windowLength: over.windowLength ?? T, encoder: { dim: over.dim ?? 5 }, tasks: TASKS as never, seed },
    { normalizer: over.normalizer ?? normalizer, taskStates: { direction: {}, return: { scale: over.scale ?? 2 }, x_level: {} }, components: fakeComponents },
  );
  // move the weights off their initial values, as training would
  for (const g of m.variableGroups()) for (const v of g.variables) v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', seed))));
  return m;
}

function combine(rule: EnsembleRule, rows: number[][][]): number[][] {
  const ts = rows.map((r) => tf.tensor2d(r));
  const out = combineMemberOutputs(rule, ts);
  const n = rows[0]!.length;
  const d = rows[0]![0]!.length;
  const flat = Array.from(out.dataSync());
  ts.forEach((t) => t.dispose());
  out.dispose();
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function expectRowsClose(actual: number[][], expected: number[][], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((r, i) => r.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, digits)));
}

describe('combineMemberOutputs (hand-computed)', () => {
  it('softmax-mean: the log of the mean member probability', () => {
    // member 1: equal logits -> (1/3, 1/3, 1/3); member 2: logits (ln 2, 0, 0) -> (1/2, 1/4, 1/4); mean (5/12, 7/24, 7/24)
    const [r0, r1] = combine('softmax-mean', [
      [[0, 0, 0], [5, 5, 5]],
      [[Math.log(2), 0, 0], [0, Math.log(3), 0]],
    ]);
    expectRowsClose([r0!], [[Math.log(5 / 12), Math.log(7 / 24), Math.log(7 / 24)]]);
    // row 2: (1/3, 1/3, 1/3) and (1/5, 3/5, 1/5) -> (4/15, 7/15, 4/15)
    expectRowsClose([r1!], [[Math.log(4 / 15), Math.log(7 / 15), Math.log(4 / 15)]]);
  });

  it('sigmoid-mean: the logit of the mean member probability', () => {
    // p = 0.5 and 0.75 -> 0.625 -> logit ln(5/3); p = 0.9 and 0.1 -> 0.5 -> 0
    const out = combine('sigmoid-mean', [[[0], [Math.log(9)]], [[Math.log(3)], [-Math.log(9)]]]);
    expectRowsClose(out, [[Math.log(5 / 3)], [0]]);
  });

  it('gaussian-mixture: mean of means; variance = mean of variances + variance of means', () => {
    // N(1, 1) and N(3, 2^2): mean 2, variance (1 + 4)/2 + ((1-2)^2 + (3-2)^2)/2 = 3.5; three members N(0,1) x3: N(0,1)
    expectRowsClose(combine('gaussian-mixture', [[[1, 0]], [[3, Math.log(2)]]]), [[2, 0.5 * Math.log(3.5)]]);
    expectRowsClose(combine('gaussian-mixture', [[[0, 0]], [[0, 0]], [[0, 0]]]), [[0, 0]]);
  });

  it('mean: the member mean, column by column', () => {
    expectRowsClose(combine('mean', [[[1, 2]], [[3, 6]], [[-1, 1]]]), [[1, 3]]);
  });

  it('picks the rule by task kind and form', () => {
    expect(ensembleRule({ id: 'd', kind: 'classification', outputDim: 3 })).toBe('softmax-mean');
    expect(ensembleRule({ id: 'a', kind: 'classification', outputDim: 1 })).toBe('sigmoid-mean');
    expect(ensembleRule({ id: 'r', kind: 'regression', outputDim: 2, calibrationForm: 'gaussian' })).toBe('gaussian-mixture');
    expect(ensembleRule({ id: 'v', kind: 'regression', outputDim: 1, calibrationForm: 'affine' })).toBe('mean');
    expect(() => ensembleRule({ id: 'g', kind: 'regression', outputDim: 3, calibrationForm: 'gaussian' })).toThrow(/Gaussian head with 3 outputs/);
    expect(() => combineMemberOutputs('mean', [])).toThrow(/at least one member/);
  });
});

describe('ensembleEncoder: what training reads of an encoder', () => {
  it("concatenates the members' trainable variables (their variables where they do not say), takes member 0's last shared weights and sums the auxiliary losses", () => {
    const v = (x: number) => tf.variable(tf.scalar(x));
    const enc = (vars: tf.Variable[], extra: Partial<Encoder>): Encoder => ({
      config: {},
      inputShape: [T, 2],
      outputDim: 1,
      apply: () => tf.zeros([1, 1]),
      variables: vars,
      paramCount: () => vars.length,
      dispose: () => vars.forEach((x) => x.dispose()),
      ...extra,
    });
    const a = [v(1), v(2)];
    const b = [v(3)];
    const moe = ensembleEncoder([
      { seed: 1, encoder: enc(a, { trainableVariables: [a[1]!], lastSharedWeights: a[0]!, auxLoss: () => tf.scalar(0.25) }), heads: new Map() },
      { seed: 2, encoder: enc(b, { auxLoss: () => tf.scalar(0.5) }), heads: new Map() },
    ]);
    expect(moe.trainableVariables).toEqual([a[1], b[0]]);
    expect(moe.lastSharedWeights).toBe(a[0]);
    const loss = moe.auxLoss!()!;
    expect(loss.dataSync()[0]).toBeCloseTo(0.75, 6);
    loss.dispose();
    const plain = ensembleEncoder([
      { seed: 1, encoder: enc(b, {}), heads: new Map() },
      { seed: 2, encoder: enc(a, { auxLoss: () => null }), heads: new Map() },
    ]);
    expect(plain.trainableVariables).toEqual([b[0], a[0], a[1]]);
    expect(plain.lastSharedWeights).toBeUndefined();
    expect(plain.auxLoss!()).toBeNull();
    moe.dispose();
  });
});

describe('TaskAgnosticModel.ensemble', () => {
  it("predictRaw combines each member's own raw outputs by its task's rule", () => {
    const seeds = [3, 5, 8];
    const members = seeds.map((s) => member(s));
    const alone = members.map((m) => m.predictRaw(w, ends.length));
    const embed0 = members[0]!.embed(w, ends.length);
    const ens = TaskAgnosticModel.ensemble(members);
    try {
      expect(ens.isEnsemble).toBe(true);
      expect(ens.members.map((m) => m.seed)).toEqual(seeds);
      expect(members.every((m) => m.isDisposed)).toBe(true);
      const raw = ens.predictRaw(w, ends.length);
      const n = ends.length;
      for (let i = 0; i < n; i++) {
        // direction: mean probability, computed here in float64
        const probs = alone.map((a) => {
          const z = Array.from(a.get('direction')!.subarray(i * 3, i * 3 + 3));
          const e = z.map(Math.exp);
          const s = e.reduce((x, y) => x + y, 0);
          return e.map((v) => v / s);
        });
        const mean = [0, 1, 2].map((j) => probs.reduce((acc, p) => acc + p[j]!, 0) / seeds.length);
        for (let j = 0; j < 3; j++) expect(raw.get('direction')![i * 3 + j]!).toBeCloseTo(Math.log(mean[j]!), 5);
        // the decoded probabilities are the mean probabilities
        expect(ens.predict(w, n)[i]!.direction!.up).toBeCloseTo(mean[0]!, 5);
        // return: Gaussian mixture
        const mus = alone.map((a) => a.get('return')![i * 2]!);
        const vars = alone.map((a) => Math.exp(2 * a.get('return')![i * 2 + 1]!));
        const mu = mus.reduce((x, y) => x + y, 0) / seeds.length;
        const v = vars.reduce((x, y) => x + y, 0) / seeds.length + mus.reduce((x, y) => x + (y - mu) ** 2, 0) / seeds.length;
        expect(raw.get('return')![i * 2]!).toBeCloseTo(mu, 5);
        expect(raw.get('return')![i * 2 + 1]!).toBeCloseTo(0.5 * Math.log(v), 5);
        // x_level: plain mean
        expect(raw.get('x_level')![i]!).toBeCloseTo(alone.reduce((x, a) => x + a.get('x_level')![i]!, 0) / seeds.length, 5);
      }
      // embed: member 0's embedding; the encoder outputs all members' side by side
      expect(ens.embeddingDim).toBe(5);
      expect(ens.encoder.outputDim).toBe(15);
      expect(bits(ens.embed(w, n))).toEqual(bits(embed0));
      expect(ens.variableGroups().map((g) => g.group)).toEqual([
        'encoder', 'head:direction', 'head:return', 'head:x_level',
        'member1/encoder', 'member1/head:direction', 'member1/head:return', 'member1/head:x_level',
        'member2/encoder', 'member2/head:direction', 'member2/head:return', 'member2/head:x_level',
      ]);
    } finally {
      ens.dispose();
    }
  });

  it('a one-member ensemble is the model itself, bit for bit', () => {
    const m = member(3);
    const before = m.predictRaw(w, ends.length);
    const groups = m.variableGroups().map((g) => g.group);
    expect(m.isEnsemble).toBe(false);
    expect(groups).toEqual(['encoder', 'head:direction', 'head:return', 'head:x_level']);
    const encoder = m.encoder;
    const one = TaskAgnosticModel.ensemble([m]);
    try {
      expect(one.isEnsemble).toBe(false);
      expect(one.encoder).toBe(encoder);
      const after = one.predictRaw(w, ends.length);
      for (const [id, a] of before) expect(bits(after.get(id)!)).toEqual(bits(a));
      expect(one.variableGroups().map((g) => g.group)).toEqual(groups);
    } finally {
      one.dispose();
    }
  });

  it('rejects an empty list, mismatched members (naming what differs), repeated seeds and disposed models', () => {
    const err = (models: TaskAgnosticModel[]): string => {
      try {
        TaskAgnosticModel.ensemble(models).dispose();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        for (const m of models) m.dispose();
        return (e as Error).message;
      }
      throw new Error('expected ensemble() to fail');
    };
    expect(err([])).toMatch(/needs at least one member model, got none/);
    expect(err([member(1), member(2, { dim: 4 })])).toMatch(/member 1 differs from member 0 in its config \(apart from the seed\): encoder\.dim: 5 vs 4/);
    expect(err([member(1), member(2, { windowLength: T + 1 })])).toMatch(/config \(apart from the seed\): windowLength: 6 vs 7/);
    const other = FakeNormalizer.fit(matrix, matrix.warmup, 60);
    expect(err([member(1), member(2), member(3, { normalizer: other })])).toMatch(/member 2 differs from member 0 in its normaliser: /);
    expect(err([member(1), member(2, { scale: 3 })])).toMatch(/in its task states: return\.scale: 2 vs 3/);
    expect(err([member(1), member(1)])).toMatch(/members 0 and 1 both have seed 1/);
    const gone = member(2);
    gone.dispose();
    expect(err([member(1), gone])).toMatch(/member model 1 has been disposed/);
  });

  it('streams exactly as it predicts in batch', () => {
    const ens = TaskAgnosticModel.ensemble([member(3), member(5)]);
    try {
      const sp = new StreamingPredictor(ens);
      expect(sp.headsPath).toBe('per-head');
      const got: { i: number; out: NonNullable<ReturnType<StreamingPredictor['onCandle']>> }[] = [];
      for (let i = 0; i < candles.length; i++) {
        const r = sp.onCandle(candleAt(candles, i));
        if (r) got.push({ i, out: r });
      }
      expect(got.length).toBeGreaterThan(100);
      const batch = ens.predictCandles(candles, got.map((g) => g.i));
      got.forEach((g, k) => {
        for (const key of ['up', 'down', 'sideways'] as const) expect(g.out.outputs.direction![key]).toBeCloseTo(batch[k]!.direction![key], 5);
        expect(g.out.outputs.return!.expected).toBeCloseTo(batch[k]!.return!.expected, 5);
        expect(g.out.outputs.return!.std).toBeCloseTo(batch[k]!.return!.std, 5);
      });
      sp.dispose();
    } finally {
      ens.dispose();
    }
  });
});

describe('ensemble artifacts', () => {
  it('save and load all members: outputs equal bit for bit; format 4 with the member seeds', async () => {
    const ens = TaskAgnosticModel.ensemble([member(3), member(5), member(8)]);
    ens.setCalibration({ direction: { method: 'temperature', scale: [0.5, 0.5, 0.5], shift: [0, 0, 0] } });
    const dir = path.join(root, 'ens');
    try {
      const json = await saveModel(ens, dir);
      expect(json.formatVersion).toBe(ENSEMBLE_FORMAT_VERSION);
      expect(json.members).toEqual([{ seed: 3 }, { seed: 5 }, { seed: 8 }]);
      expect(json.encoder.outputDim).toBe(5);
      const loaded = await loadModel(dir, { components: fakeComponents });
      try {
        expect(loaded.members.map((m) => m.seed)).toEqual([3, 5, 8]);
        const a = ens.predictRaw(w, ends.length);
        const b = loaded.predictRaw(w, ends.length);
        for (const [id, x] of a) expect(bits(b.get(id)!)).toEqual(bits(x));
        expect(loaded.predict(w, ends.length)).toEqual(ens.predict(w, ends.length));
        expect(bits(loaded.embed(w, ends.length))).toEqual(bits(ens.embed(w, ends.length)));
      } finally {
        loaded.dispose();
      }
    } finally {
      ens.dispose();
    }
    // a one-member model is still written as format 3 without members
    const one = member(3);
    const j1 = await saveModel(one, path.join(root, 'one'));
    one.dispose();
    expect(j1.formatVersion).toBe(ARTIFACT_FORMAT_VERSION);
    expect(j1.members).toBeUndefined();

    const edited = (name: string, edit: (j: ModelJson & Record<string, unknown>) => void): string => {
      const d = path.join(root, name);
      rmSync(d, { recursive: true, force: true });
      const j = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as ModelJson & Record<string, unknown>;
      edit(j);
      j.manifestSha256 = manifestChecksum(j);
      mkdirSync(d);
      writeFileSync(path.join(d, 'model.json'), JSON.stringify(j));
      writeFileSync(path.join(d, 'weights.bin'), readFileSync(path.join(dir, 'weights.bin')));
      return d;
    };
    const loadErr = async (d: string): Promise<string> => {
      try {
        (await loadModel(d, { components: fakeComponents })).dispose();
      } catch (e) {
        expect(e).toBeInstanceOf(ArtifactError);
        return (e as Error).message;
      }
      throw new Error('expected loadModel to fail');
    };
    expect(await loadErr(edited('no-members', (j) => delete j.members))).toMatch(/format version 4 needs a members list/);
    expect(await loadErr(edited('v3-members', (j) => (j.formatVersion = 3)))).toMatch(/format version 3 has a members list/);
    expect(await loadErr(edited('seed0', (j) => (j.members = [{ seed: 4 }, { seed: 5 }, { seed: 8 }])))).toMatch(/member 0 has seed 4 but config\.seed is 3/);
    expect(await loadErr(edited('dup', (j) => (j.members = [{ seed: 3 }, { seed: 3 }, { seed: 8 }])))).toMatch(/members 0 and 1 both have seed 3/);
    expect(await loadErr(edited('two', (j) => (j.members = [{ seed: 3 }, { seed: 5 }])))).toMatch(/weights for 'member2\/encoder', which this model does not have/);
  });
});
