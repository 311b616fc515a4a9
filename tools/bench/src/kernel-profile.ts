// Which kernels a training step of an encoder spends its time in (tf.profile: every kernel the
// engine runs, with its wall time), grouped by kernel name and by kernel + shapes.
//   node --import tsx tools/bench/src/kernel-profile.ts [--patch P] [--type transformer|cnn]
import { initBackend, tf, dense } from '@task-agnostic/tf';
import { buildEncoder, encoderPreset, parseEncoderConfig } from '@task-agnostic/encoders';

const B = 64, T = 96, F = 32;
const arg = (k: string, d: string) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1]! : d);
await initBackend({ quiet: true });
const type = arg('--type', 'transformer');
const cfg = type === 'cnn'
  ? parseEncoderConfig({ type: 'cnn', channels: 64, dilations: [1, 2, 4], dModel: 64, numHeads: 0, dropout: 0, outputDim: 64 })
  : parseEncoderConfig({ ...encoderPreset('default', 'transformer'), dropout: 0, patchLen: Number(arg('--patch', '8')) });
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
  const { value, grads } = tf.variableGrads(() => {
    const z = enc.apply(x, { training: true });
    let loss = tf.scalar(0);
    heads.forEach((h, i) => {
      const out = dense(dense(z, h.w1, h.b1, 'relu'), h.w2, h.b2);
      loss = tf.add(loss, i === 0 || i === 2 ? tf.losses.softmaxCrossEntropy(ys[i]!, out) : tf.losses.meanSquaredError(ys[i]!, out));
    });
    return loss as tf.Scalar;
  }, vars);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
for (let i = 0; i < 3; i++) step();
const reps = Number(arg('--reps', '5'));
const t0 = performance.now();
for (let i = 0; i < reps; i++) step();
const stepMs = (performance.now() - t0) / reps;
const prof = await tf.profile(() => step());
const byName = new Map<string, { ms: number; n: number }>();
const byShape = new Map<string, { ms: number; n: number }>();
let total = 0;
for (const k of prof.kernels) {
  const ms = (await k.kernelTimeMs) as number;
  total += ms;
  const a = byName.get(k.name) ?? { ms: 0, n: 0 };
  a.ms += ms; a.n++; byName.set(k.name, a);
  const key = `${k.name} ${JSON.stringify(k.inputShapes)} ${JSON.stringify((k as unknown as { extraInfo?: string }).extraInfo ?? '')}`;
  const b = byShape.get(key) ?? { ms: 0, n: 0 };
  b.ms += ms; b.n++; byShape.set(key, b);
}
console.log(`${type} patch ${arg('--patch', '8')}: step ${stepMs.toFixed(1)} ms (untimed by profile), kernels ${prof.kernels.length}, sum of kernel times ${total.toFixed(1)} ms`);
for (const [k, v] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) console.log(`${v.ms.toFixed(2).padStart(8)} ms ${String(v.n).padStart(5)}x ${k}`);
console.log('--- by shape');
for (const [k, v] of [...byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) console.log(`${v.ms.toFixed(2).padStart(8)} ms ${String(v.n).padStart(5)}x ${k}`);
