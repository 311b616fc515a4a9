// Encoder training throughput and batch-1 latency, beside PyTorch on the same machine, like for
// like: every ratio names the same architecture on both sides. Reference size of ../shared/bench
// (batch 64, T 96, F 32, d_model 64, 2 layers, Adam, the same four heads: direction 3-class CE,
// volatility MSE, regime 4-class CE, return MSE; head hidden 32). The PyTorch side is
// tools/bench/pytorch/pytorch_reference.py (the shared script plus `--arch project`, which builds
// the project's architectures: pre-LN PatchTST transformer at any --patch, the CNN with its mix and
// output projections), run here when python3 with torch is available; rows without a measured
// peer of the same architecture get no ratio.
// Issue 19 goals: default transformer (2 ranks, data-parallel) >= 1.0x PyTorch (2 threads)
// samples/s; 2 ranks >= 1.7x 1 rank; unpatched reference >= 0.6x; CNN reference >= 0.5x;
// batch-1 p99 <= PyTorch's; peak training RSS <= 1.5x PyTorch's.
//   node --import tsx tools/bench/src/encoders.bench.ts [--quick] [--only TEXT]
// --only TEXT measures only the rows whose label contains TEXT (e.g. --only 'default preset');
// --peers-only only the rows with a PyTorch peer of the same architecture (and the data-parallel rows).
// Env: TAT_BENCH_TORCH=0 skips PyTorch; TAT_BENCH_AB=0 skips the fast-matMul on/off comparison;
// TAT_BENCH_DP=0 skips the data-parallel rows.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentBackend, initBackend, setFastMatMulEnabled, tf, dense } from '@task-agnostic/tf';
import { Adam, DataParallelPool, Harmoniser, computeStepGradients, type MultiTaskParts } from '@task-agnostic/training';
import { Rng } from '@task-agnostic/core';
import { buildEncoder, encoderPreset, parseEncoderConfig, type Encoder, type EncoderConfig } from '@task-agnostic/encoders';
import v8 from 'node:v8';
import vm from 'node:vm';
import { percentiles, printTable } from './data-dir.js';
import { benchBatch } from './bench-batch.js';
import { plainMatMulPeak, trainFlops } from './train-flops.js';

// The model package (features, heads) only for the batch-1 rows' idleMinorGc, loaded by the parent
// alone: a data-parallel child's peak RSS counts what training loads, not this script's other imports.
let idleMinorGc: () => void = () => {};

// gc() without `node --expose-gc`: for the variant that runs a minor collection between
// predictions, off the timed call (what a live loop can do between candles: model's idleMinorGc).
v8.setFlagsFromString('--expose-gc');
(globalThis as { gc?: unknown }).gc = vm.runInNewContext('gc');

const B = 64;
const T = 96;
const F = 32;
const HEADS: [string, number, 'ce' | 'mse'][] = [
  ['direction', 3, 'ce'],
  ['volatility', 1, 'mse'],
  ['regime', 4, 'ce'],
  ['return', 1, 'mse'],
];
const quick = process.argv.includes('--quick');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] ?? '' : null;
const TRAIN_STEPS = quick ? 4 : 10;
/** In-process rows: untimed warm-up steps (JIT and wasm tier-up), as the data-parallel children's. */
const TRAIN_WARMUP = quick ? 2 : 60;
/** Data-parallel children: warm-up steps (untimed), then timed steps (the median is reported). */
const DP_WARMUP = quick ? 10 : 60;
const DP_STEPS = quick ? 10 : 40;
const INFER_N = quick ? 100 : 500;

interface Figures {
  /** Batch-1 p99 with a minor GC between predictions (outside the timing). */
  inferP99IdleGc: number;
  trainSps: number;
  stepMs: number;
  inferMedian: number;
  inferP99: number;
  params: number;
}

function buildHeads(d: number): { w1: tf.Variable<tf.Rank.R2>; b1: tf.Variable<tf.Rank.R1>; w2: tf.Variable<tf.Rank.R2>; b2: tf.Variable<tf.Rank.R1> }[] {
  return HEADS.map(([, o], i) => ({
    w1: tf.variable(tf.randomNormal([d, 32], 0, 0.1, 'float32', 10 + i)) as tf.Variable<tf.Rank.R2>,
    b1: tf.variable(tf.zeros([32])) as tf.Variable<tf.Rank.R1>,
    w2: tf.variable(tf.randomNormal([32, o], 0, 0.1, 'float32', 20 + i)) as tf.Variable<tf.Rank.R2>,
    b2: tf.variable(tf.zeros([o])) as tf.Variable<tf.Rank.R1>,
  }));
}

function measure(config: EncoderConfig): Figures {
  const enc: Encoder = buildEncoder(config, [T, F], 0);
  const heads = buildHeads(enc.outputDim);
  const x = tf.randomNormal([B, T, F], 0, 1, 'float32', 1) as tf.Tensor3D;
  const ys = HEADS.map(([, o, k], i) =>
    k === 'ce' ? tf.oneHot(tf.randomUniform([B], 0, o, 'int32', 30 + i) as tf.Tensor1D, o) : tf.randomNormal([B, 1], 0, 1, 'float32', 40 + i),
  );
  const vars = [...enc.trainableVariables, ...heads.flatMap((h) => [h.w1, h.b1, h.w2, h.b2])] as tf.Variable[];
  const opt = tf.train.adam(1e-3);
  const step = () => {
    const cost = opt.minimize(
      () => {
        const z = enc.apply(x, { training: true });
        let loss = enc.auxLoss() ?? tf.scalar(0);
        heads.forEach((h, i) => {
          const out = dense(dense(z, h.w1, h.b1, 'relu'), h.w2, h.b2);
          const l = HEADS[i]![2] === 'ce' ? tf.losses.softmaxCrossEntropy(ys[i]!, out) : tf.losses.meanSquaredError(ys[i]!, out);
          loss = tf.add(loss, l);
        });
        return loss as tf.Scalar;
      },
      true,
      vars,
    );
    cost!.dataSync();
    cost!.dispose();
  };
  // warmed up as the data-parallel rows are: V8 and the wasm tier-up need ~50 steps (once per
  // process); the PyTorch peer has no JIT, its steps are timed after 2
  for (let i = 0; i < TRAIN_WARMUP; i++) step();
  const ts: number[] = [];
  for (let i = 0; i < TRAIN_STEPS; i++) {
    const t0 = performance.now();
    step();
    ts.push(performance.now() - t0);
  }
  const stepMs = percentiles(ts).median;
  const x1 = tf.randomNormal([1, T, F], 0, 1, 'float32', 2) as tf.Tensor3D;
  const predict = () =>
    tf.tidy(() => {
      const z = enc.apply(x1);
      const outs = heads.map((h, i) => {
        const o = dense(dense(z, h.w1, h.b1, 'relu'), h.w2, h.b2);
        return HEADS[i]![2] === 'ce' ? tf.softmax(o) : o;
      });
      return tf.concat(outs, 1).dataSync();
    });
  for (let i = 0; i < 50; i++) predict();
  const ti: number[] = [];
  for (let i = 0; i < INFER_N; i++) {
    const t0 = performance.now();
    predict();
    ti.push(performance.now() - t0);
  }
  const p = percentiles(ti);
  const tg: number[] = [];
  for (let i = 0; i < INFER_N; i++) {
    idleMinorGc();
    const t0 = performance.now();
    predict();
    tg.push(performance.now() - t0);
  }
  const pg = percentiles(tg);
  const params = enc.paramCount();
  opt.dispose();
  tf.dispose([x, x1, ...ys, ...heads.flatMap((h) => [h.w1, h.b1, h.w2, h.b2])]);
  enc.dispose();
  return { trainSps: B / (stepMs / 1000), stepMs, inferMedian: p.median, inferP99: p.p99, inferP99IdleGc: pg.p99, params };
}

// ---- analytic FLOPs and the plain-matMul peak: train-flops.ts (shared with kernels.bench.ts) ----

// ---- PyTorch peer of the same architecture --------------------------------------------------------
interface Peer {
  readonly model: 'transformer' | 'cnn';
  readonly patch: number;
}
interface TorchFigures {
  trainSps: number;
  inferMedian: number;
  inferP99: number;
  peakRssMB: number;
}
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const torchCache = new Map<string, TorchFigures | null>();

function torchPeer(peer: Peer): TorchFigures | null {
  const key = `${peer.model}:${peer.patch}`;
  if (torchCache.has(key)) return torchCache.get(key)!;
  let r: TorchFigures | null = null;
  const script = path.join(ROOT, 'tools/bench/pytorch/pytorch_reference.py');
  try {
    if (process.env.TAT_BENCH_TORCH === '0') throw new Error('skipped');
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'tat-torch-')), `${peer.model}.json`);
    execFileSync('/usr/bin/python3', [script, '--model', peer.model, '--patch', String(peer.patch), '--arch', 'project', '--threads', '2', '--out', out, ...(quick ? ['--infer', '200', '--pertask', '1'] : [])], {
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    });
    const j = JSON.parse(readFileSync(out, 'utf8')) as { trainSamplesPerSec: number; infer1: { medianMs: number; p99Ms: number }; peakRssMB: number };
    r = { trainSps: j.trainSamplesPerSec, inferMedian: j.infer1.medianMs, inferP99: j.infer1.p99Ms, peakRssMB: j.peakRssMB };
  } catch {
    r = null;
  }
  torchCache.set(key, r);
  return r;
}
const peerName = (p: Peer) => `PyTorch ${p.model}${p.model === 'transformer' ? `, --patch ${p.patch}` : ''} --arch project`;

// ---- data-parallel training (each run in a child process, so its peak RSS is its own) ------------
const dpRecipe = { module: new URL('./dp-bench-parts.mjs', import.meta.url).href, exportName: 'buildParts' };

/** Child mode: trains `cfg` on `ranks` ranks (1 = no pool) and prints {sps, rssMB}. */
/**
 * The V8 configurations the data-parallel rows run under, 1 and 2 ranks each (V8 flags hold per
 * process; `youngMb`: the worker isolates' young generation). The 2-rank speed-up is taken
 * against the best 1-rank row, whichever configuration gave it (data-parallel.bench.ts --threads
 * chose these; tools/bench/README.md).
 */
const DP_V8_CONFIGS: { name: string; nodeFlags: string[]; youngMb?: number; spinMs?: number }[] = [
  { name: 'node defaults', nodeFlags: [] },
  // waits that sleep at once (the pool before dp19b): a woken rank lands on the other's vCPU
  { name: 'node defaults, waits sleep at once (spinMs 0)', nodeFlags: [], spinMs: 0 },
  { name: 'single-threaded GC', nodeFlags: ['--single-threaded-gc'] },
  { name: 'semi-space 32 MB', nodeFlags: ['--max-semi-space-size=32'], youngMb: 96 },
  { name: 'one V8 platform thread', nodeFlags: ['--v8-pool-size=1'] },
];

async function dataParallelChild(cfgJson: string, ranks: number, youngMb: number, spinMs: number): Promise<void> {
  await initBackend({ quiet: true });
  const { buildParts } = (await import(dpRecipe.module)) as { buildParts(a: unknown): MultiTaskParts & { dispose(): void } };
  const args = { encoder: JSON.parse(cfgJson) as unknown, inputShape: [T, F] };
  const parts = buildParts(args);
  const pool = ranks > 1 ? await DataParallelPool.start(parts, { workers: ranks, recipe: { ...dpRecipe, args }, maxBatch: B, ...(youngMb > 0 ? { youngGenerationMb: youngMb } : {}), ...(spinMs >= 0 ? { spinMs } : {}) }) : null;
  if (ranks > 1 && !pool) throw new Error('workers did not start');
  const vars = [...parts.encoder.trainableVariables, ...parts.heads.flatMap((h) => [...h.variables])];
  const adam = new Adam(vars);
  const batch = benchBatch();
  const harmoniser = new Harmoniser({ name: 'equal' }, parts.tasks.map((t) => t.kind));
  const step = (k: number) => {
    const r = pool ? pool.computeStepGradients(parts, batch, harmoniser, 'parameter', `s${k}`) : computeStepGradients(parts, batch, harmoniser, 'parameter', new Rng(`s${k}`));
    adam.apply(r.grads, 1e-3);
    tf.dispose(r.grads.filter((g): g is tf.Tensor => g !== null));
  };
  // a JIT engine per rank: V8 optimises the JS and tiers the wasm up on helper threads over the first
  // ~50 steps (dp-wall.bench.ts --warm-curve: 32 -> 21 ms a step); 2 warm-up steps timed that phase,
  // in which two ranks' compilations compete with the ranks for the 2 cores
  for (let k = 0; k < DP_WARMUP; k++) step(k);
  const ts: number[] = [];
  for (let k = 0; k < DP_STEPS; k++) {
    const t0 = performance.now();
    step(k + DP_WARMUP);
    ts.push(performance.now() - t0);
  }
  await pool?.close();
  const rssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ sps: B / (percentiles(ts).median / 1000), rssMB, backend: currentBackend() }));
}

function dataParallel(cfg: EncoderConfig, ranks: number, v8: (typeof DP_V8_CONFIGS)[number]): { sps: number; rssMB: number } | null {
  const r = spawnSync(process.execPath, [...v8.nodeFlags, ...process.execArgv, fileURLToPath(import.meta.url), '--dp-child', JSON.stringify(cfg), String(ranks), String(v8.youngMb ?? 0), String(v8.spinMs ?? -1), ...(quick ? ['--quick'] : [])], {
    encoding: 'utf8',
    env: { ...process.env, TAT_QUIET_BACKEND: '1' },
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as { sps: number; rssMB: number };
  } catch {
    console.error(`data-parallel child (${ranks} ranks) failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
}

// ---- run -------------------------------------------------------------------------------------------
const childAt = process.argv.indexOf('--dp-child');
if (childAt >= 0) {
  await dataParallelChild(process.argv[childAt + 1]!, Number(process.argv[childAt + 2]), Number(process.argv[childAt + 3]), Number(process.argv[childAt + 4]));
  process.exit(0);
}
idleMinorGc = (await import('@task-agnostic/model')).idleMinorGc;
const load = () => loadavg().map((v) => v.toFixed(1)).join(' ');
const info = await initBackend({ quiet: true });
console.log(`backend: ${info.name} (${info.note}); batch ${B}, T ${T}, F ${F}, 4 heads; ${TRAIN_STEPS} timed steps after ${TRAIN_WARMUP} warm-up (PyTorch: after 2), ${INFER_N} batch-1 predictions; load average ${load()}`);
const peak = plainMatMulPeak();
console.log(`plain 2-D matMul [4096,256]x[256,256] on ${info.name}: ${peak.toPrecision(2)} GFLOP/s of CPU time (one thread; the machine's limit for this engine, x2 with both cores)`);

const noDrop = (c: EncoderConfig): EncoderConfig => parseEncoderConfig({ ...c, dropout: 0 });
const defaultTransformer = noDrop(encoderPreset('default', 'transformer'));
const rowsSpec: [string, EncoderConfig, Peer | null][] = [
  ['default transformer preset (patch 8: 12 tokens, pre-LN, final norm, output proj.; dropout 0 as the peer)', defaultTransformer, { model: 'transformer', patch: 8 }],
  ['unpatched reference transformer (same, patchLen 1: 96 tokens)', parseEncoderConfig({ ...defaultTransformer, patchLen: 1 }), { model: 'transformer', patch: 1 }],
  ['cnn reference (3 dilated convs, mix, output proj.; no attention)', parseEncoderConfig({ type: 'cnn', channels: 64, dilations: [1, 2, 4], dModel: 64, numHeads: 0, dropout: 0, outputDim: 64 }), { model: 'cnn', patch: 1 }],
  ['default preset: transformer (dropout 0.1)', encoderPreset('default', 'transformer'), null],
  ['default preset: cnn (with 4-head attention, pool 4)', encoderPreset('default', 'cnn'), null],
  ['default preset: moe', encoderPreset('default', 'moe'), null],
  ['default preset: mlp', encoderPreset('default', 'mlp'), null],
];
const peersOnly = process.argv.includes('--peers-only');
const selected = rowsSpec.filter(([label, , peer]) => (only === null || label.includes(only)) && (!peersOnly || peer !== null));

const rows: (string | number)[][] = [
  ['encoder', 'params', 'train samples/s (1 thread)', 'GFLOP/s', 'PyTorch peer (same architecture)', 'PyTorch samples/s (2 threads)', 'ratio', 'batch-1 median ms', 'batch-1 p99 ms', 'p99 idle GC ms', 'PyTorch p99 ms', 'load'],
];
for (const [label, cfg, peer] of selected) {
  const t = peer ? torchPeer(peer) : null;
  const r = measure(cfg);
  const fl = trainFlops(cfg);
  rows.push([
    label, r.params, r.trainSps, fl ? (fl / (r.stepMs / 1000) / 1e9).toFixed(1) : '-',
    peer ? `${peerName(peer)}${t ? '' : ' (not measured: no torch)'}` : 'none of the same architecture',
    t ? t.trainSps : '-', t ? r.trainSps / t.trainSps : '-', r.inferMedian, r.inferP99, r.inferP99IdleGc, t ? t.inferP99 : '-', load(),
  ]);
  console.error(`  done: ${label}`);
}
printTable(rows);
console.log("'p99 idle GC': model's idleMinorGc() between predictions, outside the timed call (what a live loop does between candles)");

if (process.env.TAT_BENCH_DP !== '0' && (only === null || rowsSpec[0]![0].includes(only))) {
  console.log(`\nData-parallel training (main thread + worker threads, each its own engine, gradients reduced through a SharedArrayBuffer), default transformer preset, dropout 0, child processes; median of ${DP_STEPS} steps after ${DP_WARMUP} warm-up steps:`);
  const peer = torchPeer({ model: 'transformer', patch: 8 });
  const fl = trainFlops(defaultTransformer)!;
  const dp: (string | number)[][] = [['V8 configuration', 'ranks', 'train samples/s', 'GFLOP/s', 'vs best 1-rank row', 'vs PyTorch --patch 8 (2 threads)', 'peak RSS MB', 'vs PyTorch peak RSS', 'load']];
  const measured: { v8: string; ranks: number; r: { sps: number; rssMB: number }; load: string }[] = [];
  for (const v8 of DP_V8_CONFIGS) {
    // polling changes nothing on one rank (no pool)
    for (const ranks of v8.spinMs === undefined ? [1, 2] : [2]) {
      const r = dataParallel(defaultTransformer, ranks, v8);
      if (r) measured.push({ v8: `${v8.name}${v8.nodeFlags.length ? ` (${v8.nodeFlags.join(' ')})` : ''}${v8.youngMb ? `, workers' young gen ${v8.youngMb} MB` : ''}`, ranks, r, load: load() });
    }
  }
  // the speed-up against the BEST one-rank configuration, not the same one
  const one = Math.max(0, ...measured.filter((m) => m.ranks === 1).map((m) => m.r.sps));
  for (const { v8, ranks, r, load: l } of measured) {
    dp.push([v8, ranks, r.sps, ((fl * r.sps) / B / 1e9).toFixed(1), one ? r.sps / one : '-', peer ? r.sps / peer.trainSps : '-', r.rssMB, peer ? r.rssMB / peer.peakRssMB : '-', l]);
  }
  printTable(dp);
  if (peer) console.log(`PyTorch --patch 8 --arch project: ${peer.trainSps.toFixed(0)} samples/s, peak RSS ${peer.peakRssMB.toFixed(0)} MB, batch-1 p99 ${peer.inferP99.toFixed(2)} ms`);
}
console.log(`load average at the end: ${load()} (other processes on the 2 cores skew both engines; 2-thread PyTorch and 2-rank training most)`);

if (info.name === 'wasm' && process.env.TAT_BENCH_AB !== '0' && only === null && !peersOnly) {
  console.log('\nThe fast-matMul lever (@task-agnostic/tf installFastMatMul) on vs off, wasm:');
  const ab: (string | number)[][] = [['encoder', 'train samples/s on', 'off', 'speed-up', 'batch-1 p99 ms on', 'off']];
  for (const [label, cfg] of [rowsSpec[1]!, rowsSpec[2]!, rowsSpec[0]!]) {
    const on = measure(cfg);
    setFastMatMulEnabled(false);
    const off = measure(cfg);
    setFastMatMulEnabled(true);
    ab.push([label, on.trainSps, off.trainSps, on.trainSps / off.trainSps, on.inferP99, off.inferP99]);
  }
  printTable(ab);
}
