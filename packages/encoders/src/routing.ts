/**
 * Sparse top-k routing for the mixture of experts, written without gather (whose gradient fails
 * on wasm): the top-k set is a 0/1 mask built from comparisons, and gates are the router
 * probabilities renormalised over that set. Gradients flow through the probabilities only.
 */
import { tf } from '@task-agnostic/tf';

/**
 * mask[n, i] = 1 when expert i is among the k largest probabilities of row n. Ties go to the
 * lower index, so exactly k entries per row are 1.
 */
export function topKMask(probs: tf.Tensor2D, k: number): tf.Tensor2D {
  // The mask is piecewise constant in the probabilities: its gradient is zero everywhere it
  // exists, so it is cut here (tfjs has no gradient for the comparison kernels).
  const masked = tf.customGrad(((p: tf.Tensor, save: tf.GradSaveFunc) => {
    save([p]);
    return { value: topKMaskValue(p as tf.Tensor2D, k), gradFunc: (_dy: tf.Tensor, saved: tf.Tensor[]) => tf.zerosLike(saved[0]!) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return masked(probs) as tf.Tensor2D;
}

function topKMaskValue(probs: tf.Tensor2D, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    const e = probs.shape[1];
    const pi = tf.expandDims(probs, 2); // [N, E, 1]: candidate i
    const pj = tf.expandDims(probs, 1); // [N, 1, E]: competitor j
    // j beats i if p_j > p_i, or p_j == p_i and j < i.
    const lowerIdx = tf.tensor2d(
      Array.from({ length: e * e }, (_, q) => (q % e < Math.floor(q / e) ? 1 : 0)),
      [e, e],
    ); // [i, j] = 1 when j < i
    const beats = tf.logicalOr(tf.greater(pj, pi), tf.logicalAnd(tf.equal(pj, pi), tf.cast(lowerIdx, 'bool')));
    const rank = tf.sum(tf.cast(beats, 'float32'), 2); // [N, E]: how many experts beat i
    return tf.cast(tf.less(rank, k), 'float32') as tf.Tensor2D;
  });
}

/** Gates: probabilities on the top-k set renormalised to sum to 1 per row; zero elsewhere. */
export function topKGates(probs: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const kept = tf.mul(probs, mask);
    return tf.div(kept, tf.add(tf.sum(kept, 1, true), 1e-9)) as tf.Tensor2D;
  });
}

/**
 * Switch/GShard load-balancing loss: E * sum_i f_i * P_i, with f_i the fraction of routing
 * assignments that go to expert i (mask / (N k)) and P_i the mean router probability of expert i.
 * Equals 1 when routing is uniform and reaches E when one expert takes everything.
 */
export function loadBalanceLoss(probs: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [n, e] = probs.shape;
    const assignments = tf.sum(mask); // N * k
    const f = tf.div(tf.sum(mask, 0), assignments); // no gradient: comes from comparisons
    const p = tf.div(tf.sum(probs, 0), n);
    return tf.mul(tf.sum(tf.mul(f, p)), e) as tf.Scalar;
  });
}

export interface ExpertUsage {
  /** Fraction of samples routed to each expert (each sample counts once per chosen expert; sums to k). */
  readonly fraction: number[];
  /** Samples routed to each expert. */
  readonly count: number[];
  /** Mean router probability per expert. */
  readonly meanProb: number[];
  /** Mean gate (renormalised weight) per expert; sums to 1. */
  readonly meanGate: number[];
}

/** Usage statistics from the router probabilities, mask and gates of one batch. */
export function expertUsage(probs: ArrayLike<number>, mask: ArrayLike<number>, gates: ArrayLike<number>, n: number, e: number): ExpertUsage {
  const count = new Array<number>(e).fill(0);
  const meanProb = new Array<number>(e).fill(0);
  const meanGate = new Array<number>(e).fill(0);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < e; i++) {
      const q = r * e + i;
      count[i]! += mask[q]! > 0.5 ? 1 : 0;
      meanProb[i]! += probs[q]! / n;
      meanGate[i]! += gates[q]! / n;
    }
  }
  return { fraction: count.map((c) => c / n), count, meanProb, meanGate };
}
