// Which kernels a training step of an encoder spends its CPU time in, forward and backward, ranked.
// Every kernel registered for the backend is wrapped with process.cpuUsage() (the outermost
// kernel only: a kernel called from another, e.g. the fast-matMul wrapper's Transpose, counts in
// its caller), so the figures are CPU time, which the machine's load hardly moves (tf.profile
// reports wall time per kernel: under load mostly time descheduled inside whichever kernel ran).
// What no kernel accounts for is the engine's own JS (tensor bookkeeping, tape, gradient
// closures) and the loss/heads glue: printed as "outside kernels".
//   node --import tsx tools/bench/src/kernel-profile.ts [--type transformer|cnn] [--patch P]
//     [--steps N] [--off simd,attention] [--top N]
// --off simd turns off the SIMD matMul, --off attention the fused attention kernels
// (@task-agnostic/tf), for an A/B of the same step in the same process.
import { initBackend, tf, dense, setFusedAttentionEnabled, setSimdMatMulEnabled } from '@task-agnostic/tf';
import { buildEncoder, encoderPreset, parseEncoderConfig } from '@task-agnostic/encoders';

const B = 64, T = 96, F = 32;
const arg = (k: string, d: string) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1]! : d);
const info = await initBackend({ quiet: true });
const type = arg('--type', 'transformer');
const off = arg('--off', '').split(',').filter(Boolean);
if (off.includes('simd')) setSimdMatMulEnabled(false);
if (off.includes('attention')) setFusedAttentionEnabled(false);
const cfg = type === 'cnn'
  ? parseEncoderConfig({ type: 'cnn', channels: 64, dilations: [1, 2, 4], dModel: 64, numHeads: Number(arg('--heads', '0')), attentionPool: Number(arg('--pool', '1')), dropout: 0, outputDim: 64 })
  : parseEncoderConfig({ ...encoderPreset('default', 'transformer'), dropout: 0, patchLen: Number(arg('--patch', '8')) });

// ---- CPU time per kernel -------------------------------------------------------------------------
type Phase = 'forward' | 'backward';
let phase: Phase = 'forward';
let depth = 0;
const byKey = new Map<string, { us: number; n: number }>();
let recording = false;
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
for (const k of tf.getKernelsForBackend(info.name)) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, k.backendName);
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      if (!recording || depth > 0) return inner(args);
      depth++;
      const t0 = cpuUs();
      try {
        return inner(args);
      } finally {
        const us = cpuUs() - t0;
        depth--;
        const shapes = Object.values(args.inputs as Record<string, { shape?: number[] } | undefined>).map((t) => JSON.stringify(t?.shape ?? null)).join(' ');
        for (const key of [`${phase}|${k.kernelName}|`, `${phase}|${k.kernelName}|${shapes}`]) {
          const e = byKey.get(key) ?? { us: 0, n: 0 };
          e.us += us;
          e.n++;
          byKey.set(key, e);
        }
      }
    },
  });
}

const enc = buildEncoder(cfg, [T, F], 0);
const heads = [3, 1, 4, 1].map((o, i) => ({
  w1: tf.variable(tf.randomNormal([enc.outputDim, 32], 0, 0.1, 'float32', 10 + i)) as tf.Variable<tf.Rank.R2>,
  b1: tf.variable(tf.zeros([32])) as tf.Variable<tf.Rank.R1>,
  w2: tf.variable(tf.randomNormal([32, o], 0, 0.1, 'float32', 20 + i)) as tf.Variable<tf.Rank.R2>,
  b2: tf.variable(tf.zeros([o])) as tf.Variable<tf.Rank.R1>,
}));
const x = tf.randomNormal([B, T, F], 0, 1, 'float32', 1) as tf.Tensor3D;
const ys = [3, 1, 4, 1].map((o, i) => (o > 1 ? tf.oneHot(tf.randomUniform([B], 0, o, 'int32', 30 + i) as tf.Tensor1D, o) : tf.randomNormal([B, 1], 0, 1, 'float32', 40 + i)));
const vars = [...enc.trainableVariables, ...heads.flatMap((h) => [h.w1, h.b1, h.w2, h.b2])] as tf.Variable[];
const step = () => {
  phase = 'forward';
  const { value, grads } = tf.variableGrads(() => {
    const z = enc.apply(x, { training: true });
    let loss = tf.scalar(0);
    heads.forEach((h, i) => {
      const out = dense(dense(z, h.w1, h.b1, 'relu'), h.w2, h.b2);
      loss = tf.add(loss, i === 0 || i === 2 ? tf.losses.softmaxCrossEntropy(ys[i]!, out) : tf.losses.meanSquaredError(ys[i]!, out));
    });
    phase = 'backward';
    return loss as tf.Scalar;
  }, vars);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
for (let i = 0; i < 3; i++) step();
const steps = Number(arg('--steps', '10'));
recording = true;
const c0 = cpuUs();
const w0 = performance.now();
for (let i = 0; i < steps; i++) step();
const stepCpuMs = (cpuUs() - c0) / 1000 / steps;
const stepWallMs = (performance.now() - w0) / steps;
recording = false;

const label = type === 'cnn' ? `cnn (heads ${arg('--heads', '0')}, pool ${arg('--pool', '1')})` : `transformer patch ${arg('--patch', '8')}`;
const perStep = (us: number) => us / 1000 / steps;
let kernelsMs = 0;
for (const [k, v] of byKey) if (k.endsWith('|')) kernelsMs += perStep(v.us);
console.log(`${label}, batch ${B}, ${info.name}${off.length ? `, off: ${off.join(',')}` : ''}: ${stepCpuMs.toFixed(1)} ms CPU per step (${stepWallMs.toFixed(1)} ms wall), ` +
  `${(B / (stepCpuMs / 1000)).toFixed(0)} samples per CPU-second; kernels ${kernelsMs.toFixed(1)} ms, outside kernels ${(stepCpuMs - kernelsMs).toFixed(1)} ms`);
const top = Number(arg('--top', '20'));
for (const p of ['forward', 'backward'] as Phase[]) {
  const rows = [...byKey].filter(([k]) => k.startsWith(p + '|') && k.endsWith('|'));
  const total = rows.reduce((s, [, v]) => s + perStep(v.us), 0);
  const count = rows.reduce((s, [, v]) => s + v.n / steps, 0);
  console.log(`--- ${p}: ${total.toFixed(1)} ms in ${count.toFixed(0)} kernels per step, by kernel`);
  for (const [k, v] of rows.sort((a, b) => b[1].us - a[1].us).slice(0, top)) {
    console.log(`${perStep(v.us).toFixed(2).padStart(8)} ms ${(v.n / steps).toFixed(0).padStart(5)}x ${k.split('|')[1]}`);
  }
}
console.log('--- by kernel and input shapes (forward and backward)');
const shaped = [...byKey].filter(([k]) => !k.endsWith('|')).sort((a, b) => b[1].us - a[1].us).slice(0, top);
for (const [k, v] of shaped) console.log(`${perStep(v.us).toFixed(2).padStart(8)} ms ${(v.n / steps).toFixed(0).padStart(5)}x ${k.replaceAll('|', ' ')}`);
