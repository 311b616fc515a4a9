/**
 * PCGrad (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning", Algorithm 1).
 * For each task i: g_i^PC starts as g_i; for every other task j, in a random order, if
 * g_i^PC . g_j < 0 then g_i^PC -= (g_i^PC . g_j / ||g_j||^2) g_j, where g_j is task j's ORIGINAL
 * gradient. The update is sum_i g_i^PC. Works on flat 1-D tensors (per-task gradients of all
 * shared parameters concatenated, or per-task gradients w.r.t. the shared embedding).
 */
import type { Rng } from '@task-agnostic/core';
import { DataError } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';

/** For every task i, the other tasks in a random order (Fisher-Yates from `rng`). */
export function pcgradOrders(tasks: number, rng: Rng): number[][] {
  const orders: number[][] = [];
  for (let i = 0; i < tasks; i++) {
    const others: number[] = [];
    for (let j = 0; j < tasks; j++) if (j !== i) others.push(j);
    rng.shuffle(others);
    orders.push(others);
  }
  return orders;
}

/**
 * The PCGrad combination of flat per-task gradients. `orders[i]` lists the tasks that task i is
 * projected against, in that order. Returns a new tensor (the caller disposes it).
 */
export function pcgradCombine(grads: readonly tf.Tensor1D[], orders: readonly (readonly number[])[]): tf.Tensor1D {
  const T = grads.length;
  if (T === 0) throw new DataError('pcgradCombine: no task gradients');
  if (orders.length !== T) throw new DataError(`pcgradCombine: ${orders.length} orders for ${T} tasks`);
  const n = grads[0]!.size;
  for (const g of grads) if (g.size !== n) throw new DataError(`pcgradCombine: gradient sizes differ (${g.size} vs ${n})`);
  return tf.tidy(() => {
    const sq = grads.map((g) => tf.sum(tf.square(g)));
    let total: tf.Tensor1D | null = null;
    for (let i = 0; i < T; i++) {
      let gi: tf.Tensor1D = grads[i]!;
      for (const j of orders[i]!) {
        if (j === i || j < 0 || j >= T) throw new DataError(`pcgradCombine: order of task ${i} holds invalid task ${j}`);
        const dot = tf.sum(tf.mul(gi, grads[j]!));
        // conflict only when dot < 0; a zero-norm g_j has dot = 0 and is skipped.
        const coef = tf.where(tf.less(dot, 0), tf.div(dot, tf.maximum(sq[j]!, 1e-30)), tf.zerosLike(dot));
        gi = tf.sub(gi, tf.mul(coef, grads[j]!)) as tf.Tensor1D;
      }
      total = total ? (tf.add(total, gi) as tf.Tensor1D) : gi;
    }
    return total!;
  });
}

/** The same algorithm over plain float64 arrays (a readable reference, used to cross-check). */
export function pcgradCombineArrays(grads: readonly ArrayLike<number>[], orders: readonly (readonly number[])[]): Float64Array {
  const T = grads.length;
  const n = grads[0]?.length ?? 0;
  const out = new Float64Array(n);
  for (let i = 0; i < T; i++) {
    const gi = Float64Array.from(grads[i]!);
    for (const j of orders[i]!) {
      const gj = grads[j]!;
      let dot = 0;
      let sq = 0;
      for (let k = 0; k < n; k++) {
        dot += gi[k]! * gj[k]!;
        sq += gj[k]! * gj[k]!;
      }
      if (dot < 0 && sq > 0) for (let k = 0; k < n; k++) gi[k]! -= (dot / sq) * gj[k]!;
    }
    for (let k = 0; k < n; k++) out[k]! += gi[k]!;
  }
  return out;
}
