// Matrix-product FLOPs of one training step of the encoders benches (a step ~ 3x the forward
// products: input projection, QKV, QK^T, AV, output, feed-forward, output projection, four heads;
// for the CNN the three convs, mix, output, heads), and the engine's plain 2-D matMul rate: what
// "GFLOP/s achieved beside the peak" is computed from.
import { tf } from '@task-agnostic/tf';
import type { EncoderConfig } from '@task-agnostic/encoders';

export const BENCH_B = 64;
export const BENCH_T = 96;
export const BENCH_F = 32;
/** The four heads' output sizes (direction 3, volatility 1, regime 4, return 1), hidden 32. */
export const BENCH_HEAD_OUTPUTS = [3, 1, 4, 1] as const;

const HEAD_FLOPS = BENCH_HEAD_OUTPUTS.reduce((a, o) => a + 2 * BENCH_B * 64 * 32 + 2 * BENCH_B * 32 * o, 0);

/** FLOPs of one training step at batch 64, T 96, F 32, or null for an architecture not counted. */
export function trainFlops(cfg: EncoderConfig): number | null {
  const B = BENCH_B, T = BENCH_T, F = BENCH_F;
  const c = cfg as unknown as Record<string, number>;
  if (cfg.type === 'transformer') {
    const D = c.dModel!, P = c.patchLen!, N = Math.ceil(T / P), FF = c.ffDim!, L = c.numLayers!;
    const layer = 2 * B * N * D * 3 * D + 2 * B * N * D * D + 2 * 2 * B * N * N * D + 2 * 2 * B * N * D * FF;
    return 3 * (2 * B * N * P * F * D + L * layer + 2 * B * D * c.outputDim! + HEAD_FLOPS);
  }
  if (cfg.type === 'cnn' && c.numHeads === 0) {
    const C = c.channels!, k = c.kernelSize ?? 3, nConv = (cfg as { dilations?: number[] }).dilations!.length;
    let conv = 2 * B * T * k * F * C;
    for (let i = 1; i < nConv; i++) conv += 2 * B * T * k * C * C;
    return 3 * (conv + 2 * B * T * nConv * C * c.dModel! + 2 * B * c.dModel! * c.outputDim! + HEAD_FLOPS);
  }
  return null;
}

/**
 * The current backend's plain 2-D matMul rate, [4096,256] x [256,256], GFLOP/s of process CPU time
 * (the best of 5 rounds of 5 products): the engine's limit per core, less exposed to other jobs
 * than wall time; still read it from a quiet run only.
 */
export function plainMatMulPeak(): number {
  const a = tf.randomNormal([4096, 256]);
  const b = tf.randomNormal([256, 256]);
  // the block returns nothing: tidy walks a returned value looking for tensors, and walking the
  // 1M-element Float32Array of dataSync() cost ~1.2 s a call (the "0.29-0.41 GFLOP/s peak" of before)
  const run = () =>
    tf.tidy(() => {
      tf.matMul(a, b).dataSync();
    });
  for (let i = 0; i < 3; i++) run();
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < 5; i++) run();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000 / 5);
  }
  tf.dispose([a, b]);
  return (2 * 4096 * 256 * 256) / (best / 1000) / 1e9;
}
