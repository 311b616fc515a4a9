/**
 * Inference fast path for the heads: when every head is the source design's "tiny MLP"
 * (D -> H ReLU -> O, variables [W1, b1, W2, b2]), all heads together are two fused matMuls:
 * relu(z @ [W1a|W1b|..] + [b1a|b1b|..]) @ blockdiag(W2a, W2b, ..) + [b2a|b2b|..].
 * That is 2 kernel calls instead of 5 per head plus a concat, which matters at batch 1 on wasm
 * where each op costs tens of microseconds. The fused weights are snapshots: build them after
 * training. `tryFuseHeads` proves the fusion on a probe batch against the heads' own apply and
 * returns null (use the heads as they are) when a head is not of that form.
 */
import { Rng } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';
import type { Head, Task } from './contracts.js';

export interface FusedHeads {
  /** [N, D] -> [N, sum of outputDim], tasks in order. The result belongs to the caller. */
  apply(z: tf.Tensor2D): tf.Tensor2D;
  /** The largest absolute difference from the heads' own outputs on the probe batch. */
  readonly probeMaxAbsDiff: number;
  dispose(): void;
}

function mlpShapes(head: Head, inputDim: number, outputDim: number): number | null {
  const v = head.variables;
  if (v.length !== 4) return null;
  const [w1, b1, w2, b2] = v.map((x) => x.shape);
  const H = w1![1]!;
  const ok =
    w1!.length === 2 && w1![0] === inputDim &&
    b1!.length === 1 && b1![0] === H &&
    w2!.length === 2 && w2![0] === H && w2![1] === outputDim &&
    b2!.length === 1 && b2![0] === outputDim;
  return ok ? H : null;
}

/** Fused heads for `tasks` (in order), or null when a head is not a 2-layer ReLU MLP or the probe disagrees. */
export function tryFuseHeads(
  tasks: readonly Task[],
  heads: ReadonlyMap<string, Head>,
  inputDim: number,
  tolerance = 1e-4,
): FusedHeads | null {
  const hidden: number[] = [];
  for (const t of tasks) {
    const H = mlpShapes(heads.get(t.id)!, inputDim, t.outputDim);
    if (H === null) return null;
    hidden.push(H);
  }
  const sumH = hidden.reduce((a, b) => a + b, 0);
  const sumO = tasks.reduce((a, t) => a + t.outputDim, 0);
  const [w1, b1, w2, b2] = tf.tidy(() => {
    const vars = tasks.map((t) => heads.get(t.id)!.variables);
    const W1 = tf.concat(vars.map((v) => v[0]!), 1) as tf.Tensor2D;
    const B1 = tf.concat(vars.map((v) => v[1]!), 0) as tf.Tensor1D;
    const B2 = tf.concat(vars.map((v) => v[3]!), 0) as tf.Tensor1D;
    // Block-diagonal second layer: head k's W2 at rows of its hidden units, columns of its outputs.
    const blocks: tf.Tensor2D[] = [];
    let col = 0;
    for (const [k, t] of tasks.entries()) {
      blocks.push(tf.pad(vars[k]![2]! as tf.Tensor2D, [[0, 0], [col, sumO - col - t.outputDim]]));
      col += t.outputDim;
    }
    const W2 = tf.concat(blocks, 0) as tf.Tensor2D;
    return [W1, B1, W2, B2].map((x) => tf.keep(x));
  }) as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
  if (w1.shape[1] !== sumH || w2.shape[0] !== sumH) throw new Error('fused head shapes are inconsistent');

  const apply = (z: tf.Tensor2D): tf.Tensor2D =>
    tf.tidy(() => {
      const h = tf.fused.matMul({ a: z, b: w1, bias: b1, activation: 'relu' });
      return tf.fused.matMul({ a: h, b: w2, bias: b2 }) as tf.Tensor2D;
    });

  // Prove the fusion on a probe batch of embeddings.
  const rng = new Rng('fused-heads-probe');
  const probe = Float32Array.from({ length: 4 * inputDim }, () => rng.normal());
  const [fused, ref] = tf.tidy(() => {
    const z = tf.tensor2d(probe, [4, inputDim]);
    const r = tf.concat(tasks.map((t) => heads.get(t.id)!.apply(z)), 1);
    return [apply(z).dataSync() as Float32Array, r.dataSync() as Float32Array];
  });
  let maxDiff = 0;
  let scale = 1;
  for (let i = 0; i < ref.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(fused[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  const disposeAll = () => [w1, b1, w2, b2].forEach((x) => x.dispose());
  if (fused.length !== ref.length || !(maxDiff <= tolerance * scale)) {
    disposeAll();
    return null;
  }
  let disposed = false;
  return {
    apply,
    probeMaxAbsDiff: maxDiff,
    dispose(): void {
      if (disposed) return;
      disposed = true;
      disposeAll();
    },
  };
}
