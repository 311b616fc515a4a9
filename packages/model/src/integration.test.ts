// The model with the REAL features, encoders and heads packages: artifact round trip for every
// encoder type, streaming == batch (features to 1e-6, outputs to ~1e-5), the brief's feature
// mismatch message, and no tensor leaks.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candleAt, generateSyntheticMarket, readCandlesCsvSync, sliceColumns, type CandleColumns } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { DEFAULT_FEATURE_SET, Normalizer, StreamingFeatures, computeFeatures, makeWindows, withOptionalGroups } from '@task-agnostic/features';
import { applyBlend, baselineForecasts, fusedHeadLogits, fusedRiskLogits, getTask, headFusionFeatureNames, RISK_FUSION_FEATURES } from '@task-agnostic/heads';
import { candleFile } from '@task-agnostic/test-utils';
import { initBackend, tf } from '@task-agnostic/tf';
import { loadModel, readModelJson, saveModel } from './artifact.js';
import { manifestChecksum } from './manifest-checksum.js';
import { DEFAULT_TASK_IDS } from './config.js';
import { TaskAgnosticModel } from './model.js';
import { StreamingPredictor } from './streaming.js';

const T = 24;
const root = mkdtempSync(path.join(tmpdir(), 'tat-model-int-'));
const candles = generateSyntheticMarket({ bars: 700, seed: 5 }).candles;
const trainEnd = 500;
let normalizer: Normalizer;
let taskStates: Record<string, Readonly<Record<string, unknown>>>;

beforeAll(async () => {
  await initBackend({ quiet: true });
  const m = computeFeatures(sliceColumns(candles, 0, trainEnd), DEFAULT_FEATURE_SET);
  normalizer = Normalizer.fit(m, m.warmup, trainEnd);
  taskStates = Object.fromEntries(DEFAULT_TASK_IDS.map((id) => [id, getTask(id).fit(candles, trainEnd)]));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function build(type: 'transformer' | 'cnn' | 'moe' | 'mlp', seed = 3): TaskAgnosticModel {
  return TaskAgnosticModel.create({ windowLength: T, encoder: encoderPreset('tiny', type), tasks: [...DEFAULT_TASK_IDS], seed }, { normalizer, taskStates });
}

/** Moves every weight away from its initial value, as training would. */
function perturb(model: TaskAgnosticModel, seed: number): void {
  for (const g of model.variableGroups()) {
    for (const [i, v] of g.variables.entries()) {
      const t = tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', seed + i)));
      v.assign(t);
      t.dispose();
    }
  }
}

function windowsAt(ends: number[]): Float32Array {
  return makeWindows(normalizer.transform(computeFeatures(candles, DEFAULT_FEATURE_SET)), ends, T);
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Structural equality with numbers to a relative/absolute tolerance. */
function expectClose(a: unknown, b: unknown, tol: number, where = 'outputs'): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (!(Math.abs(a - b) <= tol * Math.max(1, Math.abs(a)))) throw new Error(`${where}: ${a} vs ${b}`);
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    expect(Object.keys(a).sort(), where).toEqual(Object.keys(b).sort());
    for (const k of Object.keys(a)) expectClose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tol, `${where}.${k}`);
    return;
  }
  expect(a, where).toEqual(b);
}

describe('TaskAgnosticModel with the real packages', () => {
  it.each(['transformer', 'cnn', 'moe', 'mlp'] as const)('%s: save -> load gives bitwise-identical outputs and embeddings', async (type) => {
    const model = build(type);
    perturb(model, 100);
    const ends = [200, 201, 350, 699];
    const w = windowsAt(ends);
    const dir = path.join(root, type);
    const written = await saveModel(model, dir, { training: { symbols: ['SYNTHUSDT'], interval: '1h', startMs: candles.tsMs[0]!, endMs: candles.tsMs[trainEnd - 1]! } });
    expect(written.weights.entries.filter((e) => e.group === 'encoder').map((e) => e.name)).toEqual(model.encoder.variableNames);
    const loaded = await loadModel(dir);
    for (const [id, raw] of model.predictRaw(w, ends.length)) expect(bits(loaded.predictRaw(w, ends.length).get(id)!), `${type} ${id}`).toEqual(bits(raw));
    expect(bits(loaded.embed(w, ends.length))).toEqual(bits(model.embed(w, ends.length)));
    const outs = loaded.predict(w, ends.length);
    expect(outs).toEqual(model.predict(w, ends.length));
    expect(Object.keys(outs[0]!).sort()).toEqual(['direction', 'regime', 'risk', 'volatility']);
    const dir0 = outs[0]!.direction!;
    expect(dir0.up + dir0.down + dir0.sideways).toBeCloseTo(1, 5);
    model.dispose();
    loaded.dispose();
  });

  it("names the feature that changed: 'rsi_14' in the artifact but 'rsi_21' in this feature set", async () => {
    const model = build('transformer');
    const dir = path.join(root, 'rsi');
    await saveModel(model, dir);
    model.dispose();
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { config: { features: { features: { kind: string; period?: number }[] } } };
    json.config.features.features.find((f) => f.kind === 'rsi')!.period = 21;
    // re-sealed, as a consistent writer of such an artifact would (a hand edit fails its checksum first)
    (json as { manifestSha256?: string }).manifestSha256 = manifestChecksum(json);
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    await expect(loadModel(dir)).rejects.toThrow("feature mismatch: feature 2 is 'rsi_14' in the artifact but 'rsi_21' in this feature set");
    expect((await readModelJson(dir)).features.names[2]).toBe('rsi_14');
  });

  it('fails cleanly on a corrupted normaliser state or a task this process does not know', async () => {
    const model = build('mlp');
    const dir = path.join(root, 'bad-parts');
    await saveModel(model, dir);
    model.dispose();
    const text = readFileSync(path.join(dir, 'model.json'), 'utf8');
    type Editable = { normalizer: Record<string, unknown>; config: { tasks: { id: string }[] }; tasks: { id: string }[] };
    const edit = (f: (j: Editable) => void) => {
      const j = JSON.parse(text) as Editable;
      f(j);
      (j as { manifestSha256?: string }).manifestSha256 = manifestChecksum(j); // re-sealed: the checks behind the checksum
      writeFileSync(path.join(dir, 'model.json'), JSON.stringify(j));
    };
    edit((j) => (j.normalizer = { ...j.normalizer, names: 'oops' }));
    await expect(loadModel(dir)).rejects.toThrow(/^the artifact normaliser state is invalid: /);
    edit((j) => {
      const [configTask] = j.config.tasks;
      const [task] = j.tasks;
      if (!configTask || !task) throw new Error('the saved model lists no task to rename');
      configTask.id = 'my_task';
      task.id = 'my_task';
    });
    await expect(loadModel(dir)).rejects.toThrow(/^the model cannot be rebuilt from model\.json: .*unknown task 'my_task'/);
  });
});

/**
 * A head fusion applied by hand to the model's raw heads on `ends` (the fused and direction heads raw,
 * the volatility head calibrated, the baselines from the candles): what predictCandles must give.
 */
function fusedByHand(model: TaskAgnosticModel, f: Parameters<TaskAgnosticModel['setFusion']>[0], ends: number[]): Float32Array {
  const raw = model.predictRaw(windowsAt(ends), ends.length);
  const ft = getTask(f.task);
  const pers = baselineForecasts(ft, candles, taskStates[f.task]!, ends).get('persistence')!;
  const trailing = baselineForecasts(getTask('volatility'), candles, taskStates.volatility!, ends).get('persistence')!;
  const volCal = model.calibrateRaw(raw, ends.length).get('volatility')!;
  const dir = f.directionTask ? { directionLogits: raw.get(f.directionTask)! } : {};
  return fusedHeadLogits(f, ft.classes!, f.directionTask ? getTask(f.directionTask).classes! : undefined, { headLogits: raw.get(f.task)!, volForecast: volCal, persistence: pers, trailingVol: trailing, ...dir, close: candles.close, rows: ends }, taskStates[f.task]!, taskStates.volatility!, ends.length);
}

function streamVsBatch(cs: CandleColumns, model: TaskAgnosticModel, from: number): number {
  // 1. streaming feature rows equal the batch matrix to 1e-6 after float32
  const batch = computeFeatures(cs, DEFAULT_FEATURE_SET);
  const sf = new StreamingFeatures(DEFAULT_FEATURE_SET);
  let rowsChecked = 0;
  for (let i = 0; i < cs.length; i++) {
    const row = sf.update(candleAt(cs, i));
    if (i < batch.warmup) {
      expect(row).toBeNull();
      continue;
    }
    for (let j = 0; j < batch.cols; j++) {
      const a = Math.fround(row![j]!);
      const b = batch.data[i * batch.cols + j]!;
      if (!(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)))) throw new Error(`feature ${batch.names[j]} at row ${i}: ${a} vs ${b}`);
    }
    rowsChecked++;
  }
  expect(rowsChecked).toBe(cs.length - batch.warmup);

  // 2. StreamingPredictor outputs equal batch prediction on the same candles
  const sp = new StreamingPredictor(model);
  expect(sp.headsPath).toBe('fused');
  const firstValid = batch.warmup + T - 1;
  const ends: number[] = [];
  const streamed = [];
  for (let i = 0; i < cs.length; i++) {
    const r = sp.onCandle(candleAt(cs, i));
    if (i < firstValid) expect(r).toBeNull();
    else expect(r).not.toBeNull();
    if (r && i >= from) {
      ends.push(i);
      streamed.push(r.outputs);
    }
  }
  const ref = model.predictCandles(cs, ends);
  for (let k = 0; k < ends.length; k++) expectClose(streamed[k], ref[k], 1e-5, `row ${ends[k]}`);
  sp.dispose();
  return ends.length;
}

describe('StreamingPredictor with the real feature engine', () => {
  it('equals batch prediction on the same synthetic candles, with fused heads', () => {
    const model = build('transformer', 8);
    perturb(model, 7);
    expect(streamVsBatch(candles, model, 0)).toBe(700 - (99 + T - 1));
    model.dispose();
  });

  const btc = candleFile('bybit_BTCUSDT_1h.csv');
  it.skipIf(!btc)('equals batch prediction on real BTCUSDT 1h candles', () => {
    const all = readCandlesCsvSync(btc!, { interval: '1h' }).candles;
    const cs = sliceColumns(all, all.length - 500, all.length);
    const m = computeFeatures(cs, DEFAULT_FEATURE_SET);
    const model = TaskAgnosticModel.create(
      { windowLength: T, encoder: encoderPreset('tiny', 'cnn'), tasks: ['direction', 'return'], seed: 4 },
      {
        normalizer: Normalizer.fit(m, m.warmup, 400),
        taskStates: { direction: getTask('direction').fit(cs, 400), return: getTask('return').fit(cs, 400) },
      },
    );
    perturb(model, 9);
    expect(streamVsBatch(cs, model, 0)).toBeGreaterThan(300);
    model.dispose();
  });

  it('a model with baseline blends: batch = the head blended by hand with its baseline, and streaming = batch', () => {
    const model = build('mlp', 12);
    perturb(model, 13);
    model.setBlends({
      direction: { baseline: 'momentum', method: 'stack', modelWeight: 0.7, baselineWeight: 0.4, offsets: [0, 0.1, -0.2] },
      volatility: { baseline: 'garch+bias', method: 'convex', modelWeight: 0.6, baselineWeight: 0.4, offsets: [] },
      regime: { baseline: 'persistence', method: 'baseline', modelWeight: 0, baselineWeight: 1, offsets: [] },
      risk: { baseline: 'persistence', method: 'model', modelWeight: 1, baselineWeight: 0, offsets: [] },
    });
    // the last rows too: their labels are not formed yet, the baselines' forecasts are
    const ends = [300, 450, 600, 699];
    const got = model.predictCandles(candles, ends);
    const raw = model.predictRaw(windowsAt(ends), ends.length);
    const dir = getTask('direction');
    const mom = baselineForecasts(dir, candles, taskStates.direction!, ends).get('momentum')!;
    const dirOut = applyBlend(model.blends.get('direction')!, 'classes', raw.get('direction')!, mom, ends.length, 3);
    const vol = getTask('volatility');
    const garch = baselineForecasts(vol, candles, taskStates.volatility!, ends).get('garch+bias')!;
    const volOut = applyBlend(model.blends.get('volatility')!, 'point', raw.get('volatility')!, garch, ends.length, 1);
    const pers = baselineForecasts(getTask('regime'), candles, taskStates.regime!, ends).get('persistence')!;
    ends.forEach((_, k) => {
      expectClose(got[k]!.direction, dir.decode(dirOut.subarray(3 * k, 3 * k + 3), taskStates.direction!), 1e-6, `direction ${k}`);
      expectClose(got[k]!.volatility, vol.decode(volOut.subarray(k, k + 1), taskStates.volatility!), 1e-6, `volatility ${k}`);
      // 'baseline': the persistence regime itself
      expect(got[k]!.regime!.label).toBe((getTask('regime').decode(pers.subarray(5 * k, 5 * k + 5), taskStates.regime!) as { label: string }).label);
    });
    // 'model' and no context: the heads alone
    expectClose(got.map((g) => g.risk), model.predict(windowsAt(ends), ends.length).map((p) => p.risk), 1e-6, 'risk');
    expect(streamVsBatch(candles, model, 300)).toBe(400);
    model.dispose();
  });

  it('a model with risk and regime fusions: batch = each fusion by hand, streaming = batch, and both survive the artifact', async () => {
    const model = build('mlp', 16);
    perturb(model, 17);
    const regimeSpec = { task: 'regime', classes: getTask('regime').classes!, directionClasses: getTask('direction').classes!, trailingBars: 24 };
    const names = headFusionFeatureNames(regimeSpec);
    const rw = Array.from({ length: (names.length + 1) * 5 }, (_, j) => (j % 5 === 0 ? 0 : Math.sin(0.7 * j) * 0.6));
    const regime = { task: 'regime', volatilityTask: 'volatility', directionTask: 'direction', trailingBars: 24, features: names, weights: rw, offsets: [0, 0.2, -0.1, 0.3, 0.1] };
    const F = RISK_FUSION_FEATURES.length;
    const risk = { task: 'risk', volatilityTask: 'volatility', features: [...RISK_FUSION_FEATURES], weights: Array.from({ length: (F + 1) * 3 }, (_, j) => (j % 3 === 0 ? 0 : Math.cos(j) * 0.5)), offsets: [0, 0.1, 0.2] };
    model.setFusion(regime);
    model.setRiskFusion(risk);
    // the regime head with a blend too: the fusion replaces its answer, reading the head raw
    model.setBlends({ regime: { baseline: 'persistence', method: 'stack', modelWeight: 0.5, baselineWeight: 0.2, offsets: [0, 0, 0, 0, 0] } });
    const ends = [300, 450, 600, 699];
    const got = model.predictCandles(candles, ends);
    const rt = getTask('regime');
    const byHand = fusedByHand(model, regime, ends);
    ends.forEach((_, k) => expectClose(got[k]!.regime, rt.decode(byHand.subarray(5 * k, 5 * k + 5), taskStates.regime!), 1e-6, `regime ${k}`));
    const alone = model.predict(windowsAt(ends), ends.length).map((p) => p.regime!.probs.bull);
    expect(got.map((g) => g.regime!.probs.bull)).not.toEqual(alone);
    expect(streamVsBatch(candles, model, 300)).toBe(400);
    const dir = path.join(root, 'fused2');
    await saveModel(model, dir);
    const json = await readModelJson(dir);
    expect(json.riskFusion).toEqual(risk);
    expect(json.fusions).toEqual([regime]);
    const back = await loadModel(dir);
    expect([...back.fusions.keys()].sort()).toEqual(['regime', 'risk']);
    expectClose(back.predictCandles(candles, ends).map((g) => g.regime), got.map((g) => g.regime), 1e-6, 'regime after load');
    expectClose(back.predictCandles(candles, ends).map((g) => g.risk), got.map((g) => g.risk), 1e-6, 'risk after load');
    back.dispose();
    // refused with its reason: a direction task that is no classifier, a trailing window its features do not name
    expect(() => model.setFusion({ ...regime, directionTask: 'volatility' })).toThrow(/reads a direction head 'volatility'/);
    expect(() => model.setFusion({ ...regime, trailingBars: 12 })).toThrow(/regime fusion's features .* are not the ones/);
    model.clearFusion('regime');
    expect([...model.fusions.keys()]).toEqual(['risk']);
    model.dispose();
  });

  it('a risk fusion that reads the direction head: batch = the fusion by hand, streaming = batch, and it survives the artifact', async () => {
    const model = build('mlp', 16);
    perturb(model, 19);
    const spec = { task: 'risk', classes: getTask('risk').classes!, directionClasses: getTask('direction').classes! };
    const names = headFusionFeatureNames(spec);
    expect(names.length).toBeGreaterThan(RISK_FUSION_FEATURES.length);
    const risk = { task: 'risk', volatilityTask: 'volatility', directionTask: 'direction', features: names, weights: Array.from({ length: (names.length + 1) * 3 }, (_, j) => (j % 3 === 0 ? 0 : Math.sin(1.3 * j) * 0.5)), offsets: [0, 0.1, 0.2] };
    model.setRiskFusion(risk);
    const ends = [300, 450, 600, 699];
    const got = model.predictCandles(candles, ends);
    const rt = getTask('risk');
    const byHand = fusedByHand(model, risk, ends);
    ends.forEach((_, k) => expectClose(got[k]!.risk, rt.decode(byHand.subarray(3 * k, 3 * k + 3), taskStates.risk!), 1e-6, `risk ${k}`));
    expect(streamVsBatch(candles, model, 300)).toBe(400);
    const dir = path.join(root, 'fused-risk-direction');
    await saveModel(model, dir);
    expect((await readModelJson(dir)).riskFusion).toEqual(risk);
    const back = await loadModel(dir);
    expectClose(back.predictCandles(candles, ends).map((g) => g.risk), got.map((g) => g.risk), 1e-6, 'risk after load');
    back.dispose();
    model.dispose();
  });

  it('a model with a risk fusion: batch = the fusion by hand, streaming = batch, and it survives the artifact', async () => {
    const model = build('mlp', 14);
    perturb(model, 15);
    const F = RISK_FUSION_FEATURES.length;
    const weights = Array.from({ length: (F + 1) * 3 }, (_, j) => (j % 3 === 0 ? 0 : Math.sin(j) * 0.8));
    const fusion = { task: 'risk', volatilityTask: 'volatility', features: [...RISK_FUSION_FEATURES], weights, offsets: [0, 0.3, 0.6] };
    model.setRiskFusion(fusion);
    // the volatility head with a blend too: the fusion reads its forecast before the blend
    model.setBlends({ volatility: { baseline: 'garch+bias', method: 'convex', modelWeight: 0.6, baselineWeight: 0.4, offsets: [] } });
    const ends = [300, 450, 600, 699];
    const got = model.predictCandles(candles, ends);
    const raw = model.predictRaw(windowsAt(ends), ends.length);
    const risk = getTask('risk');
    const vol = getTask('volatility');
    const pers = baselineForecasts(risk, candles, taskStates.risk!, ends).get('persistence')!;
    const trailing = baselineForecasts(vol, candles, taskStates.volatility!, ends).get('persistence')!;
    const volCal = model.calibrateRaw(raw, ends.length).get('volatility')!;
    const byHand = fusedRiskLogits(fusion, raw.get('risk')!, volCal, pers, trailing, taskStates.risk!, taskStates.volatility!, ends.length);
    ends.forEach((_, k) => expectClose(got[k]!.risk, risk.decode(byHand.subarray(3 * k, 3 * k + 3), taskStates.risk!), 1e-6, `risk ${k}`));
    // the fusion changes the answer (it is not the head alone)
    const alone = model.predict(windowsAt(ends), ends.length).map((p) => p.risk!.probs.high);
    expect(got.map((g) => g.risk!.probs.high)).not.toEqual(alone);
    expect(streamVsBatch(candles, model, 300)).toBe(400);
    // the fusion alone (no blend) still makes the streaming predictor keep the candles it reads
    model.setBlends({});
    expect(streamVsBatch(candles, model, 300)).toBe(400);
    const dir = path.join(root, 'fused');
    await saveModel(model, dir);
    // a risk-only model writes the risk fusion in the field it always had, and nothing else: old readers load it unchanged
    expect((await readModelJson(dir)).riskFusion).toEqual(fusion);
    expect('fusions' in (await readModelJson(dir))).toBe(false);
    const back = await loadModel(dir);
    expect(back.riskFusion).toEqual(fusion);
    expectClose(back.predictCandles(candles, ends).map((g) => g.risk), got.map((g) => g.risk), 1e-6, 'risk after load');
    back.dispose();
    // an artifact without the field (every artifact before it) loads with none
    const plain = path.join(root, 'unfused');
    model.setRiskFusion(null);
    await saveModel(model, plain);
    expect('riskFusion' in (await readModelJson(plain))).toBe(false);
    const old = await loadModel(plain);
    expect(old.riskFusion).toBeNull();
    old.dispose();
    // a fusion that does not fit the model is refused with its reason
    expect(() => model.setRiskFusion({ ...fusion, volatilityTask: 'direction' })).toThrow(/reads a volatility head 'direction'/);
    expect(() => model.setRiskFusion({ ...fusion, features: ['a'], weights: [0, 0, 0, 0, 0, 0] })).toThrow(/features \(a\) are not the ones/);
    model.dispose();
  });

  it('passes extras through: a feature set with the funding group streams equal to batch', () => {
    const fs = { ...withOptionalGroups(['funding']), intervalMs: 3_600_000 };
    const funding = [];
    for (let i = 0; i < candles.length; i += 8) funding.push({ tsMs: candles.tsMs[i]! + 1_800_000, value: 1e-4 * Math.sin(i / 40) });
    const m = computeFeatures(sliceColumns(candles, 0, trainEnd), fs, { funding: funding.filter((f) => f.tsMs < candles.tsMs[trainEnd]!) });
    expect(m.names).toContain('funding_rate');
    const model = TaskAgnosticModel.create(
      { windowLength: T, encoder: encoderPreset('tiny', 'mlp'), tasks: ['direction'], features: fs, seed: 2 },
      { normalizer: Normalizer.fit(m, m.warmup, trainEnd), taskStates: { direction: taskStates.direction! } },
    );
    perturb(model, 3);
    const sp = new StreamingPredictor(model);
    const ends: number[] = [];
    const streamed = [];
    for (let i = 0; i < candles.length; i++) {
      const r = sp.onCandle(candleAt(candles, i), i % 8 === 0 ? { funding: funding[i / 8]! } : undefined);
      if (r) {
        ends.push(i);
        streamed.push(r.outputs);
      }
    }
    expect(ends.length).toBeGreaterThan(400);
    const ref = model.predictCandles(candles, ends, { extras: { funding } });
    for (let k = 0; k < ends.length; k++) expectClose(streamed[k], ref[k], 1e-5, `row ${ends[k]}`);
    // Other funding values give other outputs: the extras really reach the features.
    const other = model.predictCandles(candles, ends.slice(-5), { extras: { funding: funding.map((f) => ({ ...f, value: -f.value * 50 })) } });
    expect(other.map((o) => o.direction)).not.toEqual(ref.slice(-5).map((o) => o.direction));
    sp.dispose();
    model.dispose();
  });

  it('leaks no tensors over 100 batch predictions and 100 streamed decisions', () => {
    const model = build('transformer');
    const w = windowsAt([300, 301, 302]);
    const sp = new StreamingPredictor(model);
    for (let i = 0; i < 200; i++) sp.onCandle(candleAt(candles, i));
    model.predict(w, 3);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      model.predict(w, 3);
      expect(sp.onCandle(candleAt(candles, 200 + i))).not.toBeNull();
    }
    expect(tf.memory().numTensors).toBe(before);
    sp.dispose();
    model.dispose();
  });
});

describe('seed ensembles with the real packages', () => {
  it('round-trip bit for bit and stream as they predict in batch (fused and per-head paths); return mixes as a Gaussian', async () => {
    const states = { ...taskStates, return: getTask('return').fit(candles, trainEnd) };
    const make = (seed: number): TaskAgnosticModel => {
      const m = TaskAgnosticModel.create({ windowLength: T, encoder: encoderPreset('tiny', 'transformer'), tasks: [...DEFAULT_TASK_IDS, 'return'], seed }, { normalizer, taskStates: states });
      perturb(m, 10 * seed);
      return m;
    };
    const ends = [200, 201, 350, 699];
    const w = windowsAt(ends);
    const members = [make(1), make(2)];
    const alone = members.map((m) => m.predictRaw(w, ends.length).get('return')!);
    const ens = TaskAgnosticModel.ensemble(members);
    try {
      const ret = ens.predictRaw(w, ends.length).get('return')!;
      for (let i = 0; i < ends.length; i++) {
        const [m0, m1] = [alone[0]![2 * i]!, alone[1]![2 * i]!];
        const mu = (m0 + m1) / 2;
        const v = (Math.exp(2 * alone[0]![2 * i + 1]!) + Math.exp(2 * alone[1]![2 * i + 1]!)) / 2 + ((m0 - mu) ** 2 + (m1 - mu) ** 2) / 2;
        expect(ret[2 * i]!).toBeCloseTo(mu, 5);
        expect(ret[2 * i + 1]!).toBeCloseTo(0.5 * Math.log(v), 4);
      }
      const dir = path.join(root, 'ensemble');
      await saveModel(ens, dir);
      const loaded = await loadModel(dir);
      try {
        for (const [id, raw] of ens.predictRaw(w, ends.length)) expect(bits(loaded.predictRaw(w, ends.length).get(id)!), id).toEqual(bits(raw));
      } finally {
        loaded.dispose();
      }
      // the members' heads fused (tryFuseEnsembleHeads) by default, the ensemble's heads one by one without
      for (const fuseHeads of [true, false]) {
        const sp = new StreamingPredictor(ens, { fuseHeads });
        expect(sp.headsPath).toBe(fuseHeads ? 'fused' : 'per-head');
        const got: number[] = [];
        const streamed = [];
        for (let i = 0; i < candles.length; i++) {
          const r = sp.onCandle(candleAt(candles, i));
          if (r && i >= 600) {
            got.push(i);
            streamed.push(r.outputs);
          }
        }
        const ref = ens.predictCandles(candles, got);
        for (let k = 0; k < got.length; k++) expectClose(streamed[k], ref[k], 1e-5, `row ${got[k]}`);
        expect(got.length).toBe(100);
        sp.dispose();
      }
    } finally {
      ens.dispose();
    }
  });
});
