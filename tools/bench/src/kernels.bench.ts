// Issue 19, kernels: training samples per CPU-second of each encoder with @task-agnostic/tf's wasm
// kernels on and off, in the same process, rounds interleaved (every configuration once per round,
// in turn), so both sides of each ratio see the same machine. CPU time (process.cpuUsage: all
// threads of this process, V8's GC helpers included) is what the load of other jobs hardly moves;
// wall-clock ratios on a loaded machine are not valid. Same step as encoders.bench.ts: batch 64,
// T 96, F 32, four heads (3-class CE, MSE, 4-class CE, MSE; hidden 32), tf.train.adam, dropout 0.
//   node --import tsx tools/bench/src/kernels.bench.ts [--rounds N] [--steps N] [--only TEXT] [--levers]
// Configurations: "off" (the three levers off: XNNPACK and tfjs's batched loop for every product,
// attention and layer norm as tf ops) and "on" (all three, the default); --levers adds each lever
// alone.
import { dense, initBackend, setFusedAttentionEnabled, setFusedLayerNormEnabled, setSimdMatMulEnabled, tf } from '@task-agnostic/tf';
import { buildEncoder, encoderPreset, parseEncoderConfig, type EncoderConfig } from '@task-agnostic/encoders';
import { loadavg } from 'node:os';
import { printTable } from './data-dir.js';
import { BENCH_B as B, BENCH_F as F, BENCH_HEAD_OUTPUTS, BENCH_T as T, plainMatMulPeak, trainFlops } from './train-flops.js';

const arg = (k: string, d: string) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1]! : d);
const ROUNDS = Number(arg('--rounds', '5'));
const STEPS = Number(arg('--steps', '6'));
const only = process.argv.includes('--only') ? arg('--only', '') : null;
const levers = process.argv.includes('--levers');

interface Levers {
  simd: boolean;
  attention: boolean;
  layerNorm: boolean;
}
const CONFIGS: [string, Levers][] = [
  ['off', { simd: false, attention: false, layerNorm: false }],
  ['SIMD matMul only', { simd: true, attention: false, layerNorm: false }],
  ['fused attention only', { simd: false, attention: true, layerNorm: false }],
  ['fused layer norm only', { simd: false, attention: false, layerNorm: true }],
  ['on (default)', { simd: true, attention: true, layerNorm: true }],
];
function setLevers(l: Levers): void {
  setSimdMatMulEnabled(l.simd);
  setFusedAttentionEnabled(l.attention);
  setFusedLayerNormEnabled(l.layerNorm);
}

/** A training step of `cfg` with the bench's heads and Adam; returns step() and dispose(). */
function trainer(cfg: EncoderConfig): { step(): void; dispose(): void } {
  const enc = buildEncoder(cfg, [T, F], 0);
  const heads = BENCH_HEAD_OUTPUTS.map((o, i) => ({
    w1: tf.variable(tf.randomNormal([enc.outputDim, 32], 0, 0.1, 'float32', 10 + i)) as tf.Variable<tf.Rank.R2>,
    b1: tf.variable(tf.zeros([32])) as tf.Variable<tf.Rank.R1>,
    w2: tf.variable(tf.randomNormal([32, o], 0, 0.1, 'float32', 20 + i)) as tf.Variable<tf.Rank.R2>,
    b2: tf.variable(tf.zeros([o])) as tf.Variable<tf.Rank.R1>,
  }));
  const x = tf.randomNormal([B, T, F], 0, 1, 'float32', 1) as tf.Tensor3D;
  const ys = BENCH_HEAD_OUTPUTS.map((o, i) => (o > 1 ? tf.oneHot(tf.randomUniform([B], 0, o, 'int32', 30 + i) as tf.Tensor1D, o) : tf.randomNormal([B, 1], 0, 1, 'float32', 40 + i)));
  const vars = [...enc.trainableVariables, ...heads.flatMap((h) => [h.w1, h.b1, h.w2, h.b2])] as tf.Variable[];
  const opt = tf.train.adam(1e-3);
  return {
    step() {
      const cost = opt.minimize(
        () => {
          const z = enc.apply(x, { training: true });
          let loss = tf.scalar(0);
          heads.forEach((h, i) => {
            const out = dense(dense(z, h.w1, h.b1, 'relu'), h.w2, h.b2);
            loss = tf.add(loss, BENCH_HEAD_OUTPUTS[i]! > 1 ? tf.losses.softmaxCrossEntropy(ys[i]!, out) : tf.losses.meanSquaredError(ys[i]!, out));
          });
          return loss as tf.Scalar;
        },
        true,
        vars,
      );
      cost!.dataSync();
      cost!.dispose();
    },
    dispose() {
      opt.dispose();
      tf.dispose([x, ...ys, ...heads.flatMap((h) => [h.w1, h.b1, h.w2, h.b2])]);
      enc.dispose();
    },
  };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const info = await initBackend({ quiet: true });
const load = () => loadavg().map((v) => v.toFixed(1)).join(' ');
console.log(`backend ${info.name}; batch ${B}, T ${T}, F ${F}, 4 heads, Adam; ${ROUNDS} rounds x ${STEPS} steps per configuration, interleaved; load average ${load()}`);
// --no-peak skips the plain-matMul peak (under heavy load it measured 0.3 GFLOP/s: not a usable limit)
const peak = process.argv.includes('--no-peak') ? Number.NaN : plainMatMulPeak();
console.log(`plain 2-D matMul [4096,256]x[256,256]: ${peak.toFixed(1)} GFLOP/s of CPU time (this engine's limit on one core)`);

const defaultTransformer = parseEncoderConfig({ ...encoderPreset('default', 'transformer'), dropout: 0 });
const models: [string, EncoderConfig][] = [
  ['default transformer (patch 8: 12 tokens)', defaultTransformer],
  ['unpatched reference transformer (96 tokens)', parseEncoderConfig({ ...defaultTransformer, patchLen: 1 })],
  ['cnn reference (no attention)', parseEncoderConfig({ type: 'cnn', channels: 64, dilations: [1, 2, 4], dModel: 64, numHeads: 0, dropout: 0, outputDim: 64 })],
  ['default cnn preset (4-head attention over 24 pooled steps)', parseEncoderConfig({ ...encoderPreset('default', 'cnn'), dropout: 0 })],
];

const table: (string | number)[][] = [['encoder', 'configuration', 'CPU ms / step (median)', 'min-max over rounds', 'samples per CPU-second', 'vs off (median of per-round ratios)', 'min-max', 'GFLOP/s of CPU time', 'of the plain-matMul peak']];
for (const [label, cfg] of models) {
  if (only !== null && !label.includes(only)) continue;
  const runs = CONFIGS.filter(([name]) => levers || name === 'off' || name.startsWith('on')).map(([name, levers]) => {
    setLevers(levers);
    return { name, levers, t: trainer(cfg), ms: [] as number[] };
  });
  // warm-up: two steps per configuration (JIT, kernel setup, XNNPACK operator caches)
  for (const r of runs) {
    setLevers(r.levers);
    r.t.step();
    r.t.step();
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of runs) {
      setLevers(r.levers);
      const c0 = cpuMs();
      for (let s = 0; s < STEPS; s++) r.t.step();
      r.ms.push((cpuMs() - c0) / STEPS);
    }
  }
  const off = runs[0]!;
  const flops = trainFlops(cfg);
  for (const r of runs) {
    const ratios = r.ms.map((m, i) => off.ms[i]! / m);
    const med = median(r.ms);
    const gflops = flops ? flops / (med / 1000) / 1e9 : null;
    table.push([label, r.name, med, `${Math.min(...r.ms).toFixed(1)}-${Math.max(...r.ms).toFixed(1)}`, B / (med / 1000), median(ratios), `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`, gflops ? gflops.toFixed(1) : '-', gflops && Number.isFinite(peak) ? `${((100 * gflops) / peak).toFixed(0)}%` : '-']);
    r.t.dispose();
  }
  setLevers(CONFIGS[CONFIGS.length - 1]![1]);
  console.error(`  done: ${label} (load ${load()})`);
}
printTable(table);
console.log(`n = ${ROUNDS} rounds of ${STEPS} steps per configuration; ratios are per round (off and the configuration in the same round); load average at the end ${load()}`);
