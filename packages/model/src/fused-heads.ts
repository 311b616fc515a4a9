/**
 * Inference fast path for the heads: when every head is the source design's "tiny MLP"
 * (D -> H ReLU -> O, variables [W1, b1, W2, b2]), all heads together are two fused matMuls:
 * relu(z @ [W1a|W1b|..] + [b1a|b1b|..]) @ blockdiag(W2a, W2b, ..) + [b2a|b2b|..].
 * That is 2 kernel calls instead of 5 per head plus a concat, which matters at batch 1 on wasm
 * where each op costs tens of microseconds. The fused weights are snapshots: build them after
 * training. `tryFuseHeads` proves the fusion on a probe batch against the heads' own apply and
 * returns null (use the heads as they are) when a head is not of that form. A seed ensemble's heads
 * are not of that form (each combines its members'); `tryFuseEnsembleHeads` fuses every member's
 * heads the same way and combines their outputs as the ensemble's heads do.
 */
import { Rng } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';
import type { Head, Task } from './contracts.js';
import { combineMemberOutputs, ensembleRule, memberColumns, type ModelMember } from './ensemble.js';

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

/** One 2-layer MLP to fuse: its variables [W1, b1, W2, b2], reading columns [rowOffset, rowOffset + W1 rows) of the input. */
interface MlpBlock {
  readonly vars: readonly tf.Variable[];
  readonly rowOffset: number;
  readonly outputDim: number;
}

/**
 * The fused weights of `blocks` over an input of `inputDim` columns: W1 [inputDim, sum H] (block k's
 * W1 at its input rows, zeros elsewhere; a plain concatenation when every block reads all of the
 * input), b1, block-diagonal W2 [sum H, sum O] and b2: outputs in block order.
 */
function fuseBlocks(blocks: readonly MlpBlock[], inputDim: number): [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D] {
  const sumO = blocks.reduce((a, b) => a + b.outputDim, 0);
  return tf.tidy(() => {
    const W1 = tf.concat(
      blocks.map((b) => {
        const w = b.vars[0]! as tf.Tensor2D;
        const rows = w.shape[0];
        return rows === inputDim ? w : tf.pad(w, [[b.rowOffset, inputDim - b.rowOffset - rows], [0, 0]]);
      }),
      1,
    ) as tf.Tensor2D;
    const B1 = tf.concat(blocks.map((b) => b.vars[1]!), 0) as tf.Tensor1D;
    const B2 = tf.concat(blocks.map((b) => b.vars[3]!), 0) as tf.Tensor1D;
    // Block-diagonal second layer: block k's W2 at rows of its hidden units, columns of its outputs.
    const parts: tf.Tensor2D[] = [];
    let col = 0;
    for (const b of blocks) {
      parts.push(tf.pad(b.vars[2]! as tf.Tensor2D, [[0, 0], [col, sumO - col - b.outputDim]]));
      col += b.outputDim;
    }
    const W2 = tf.concat(parts, 0) as tf.Tensor2D;
    return [W1, B1, W2, B2].map((x) => tf.keep(x));
  }) as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
}

/**
 * `apply` proven on a probe batch of embeddings against the heads' own outputs (`reference`, tasks in
 * order, concatenated): the FusedHeads, or null (weights disposed) when they disagree.
 */
function proven(apply: (z: tf.Tensor2D) => tf.Tensor2D, reference: (z: tf.Tensor2D) => tf.Tensor2D, weights: readonly tf.Tensor[], inputDim: number, tolerance: number): FusedHeads | null {
  const rng = new Rng('fused-heads-probe');
  const probe = Float32Array.from({ length: 4 * inputDim }, () => rng.normal());
  const [fused, ref] = tf.tidy(() => {
    const z = tf.tensor2d(probe, [4, inputDim]);
    return [apply(z).dataSync() as Float32Array, reference(z).dataSync() as Float32Array];
  });
  let maxDiff = 0;
  let scale = 1;
  for (let i = 0; i < ref.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(fused[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  const disposeAll = () => weights.forEach((x) => x.dispose());
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

/** Fused heads for `tasks` (in order), or null when a head is not a 2-layer ReLU MLP or the probe disagrees. */
export function tryFuseHeads(
  tasks: readonly Task[],
  heads: ReadonlyMap<string, Head>,
  inputDim: number,
  tolerance = 1e-4,
): FusedHeads | null {
  for (const t of tasks) if (mlpShapes(heads.get(t.id)!, inputDim, t.outputDim) === null) return null;
  const [w1, b1, w2, b2] = fuseBlocks(tasks.map((t) => ({ vars: heads.get(t.id)!.variables, rowOffset: 0, outputDim: t.outputDim })), inputDim);
  const apply = (z: tf.Tensor2D): tf.Tensor2D =>
    tf.tidy(() => {
      const h = tf.fused.matMul({ a: z, b: w1, bias: b1, activation: 'relu' });
      return tf.fused.matMul({ a: h, b: w2, bias: b2 }) as tf.Tensor2D;
    });
  return proven(apply, (z) => tf.concat(tasks.map((t) => heads.get(t.id)!.apply(z)), 1), [w1, b1, w2, b2], inputDim, tolerance);
}

/**
 * Fused heads of a seed ensemble: every member's heads fused into the same two matMuls (member m's
 * first layer reads its own embedding's columns of the ensemble's [N, M x D] embedding), then each
 * task's M outputs combined by its ensemble rule (combineMemberOutputs), as the ensemble's heads
 * (`heads`, ensembleHead) do; proven on a probe batch against those heads. Null when a member's head
 * is not a 2-layer ReLU MLP or the probe disagrees.
 */
export function tryFuseEnsembleHeads(
  tasks: readonly Task[],
  members: readonly ModelMember[],
  heads: ReadonlyMap<string, Head>,
  tolerance = 1e-4,
): FusedHeads | null {
  const { dims, offsets, width: inputDim } = memberColumns(members);
  const blocks: MlpBlock[] = [];
  for (const [m, member] of members.entries()) {
    for (const t of tasks) {
      const head = member.heads.get(t.id);
      if (!head || mlpShapes(head, dims[m]!, t.outputDim) === null) return null;
      blocks.push({ vars: head.variables, rowOffset: offsets[m]!, outputDim: t.outputDim });
    }
  }
  const rules = tasks.map((t) => ensembleRule(t));
  const sumO = tasks.reduce((a, t) => a + t.outputDim, 0);
  const cols = tasks.map((_, i) => tasks.slice(0, i).reduce((a, t) => a + t.outputDim, 0));
  const [w1, b1, w2, b2] = fuseBlocks(blocks, inputDim);
  const apply = (z: tf.Tensor2D): tf.Tensor2D =>
    tf.tidy(() => {
      const h = tf.fused.matMul({ a: z, b: w1, bias: b1, activation: 'relu' });
      // [N, M x sum O]: member-major, each member's tasks in order
      const y = tf.fused.matMul({ a: h, b: w2, bias: b2 }) as tf.Tensor2D;
      const outs = tasks.map((t, i) => combineMemberOutputs(rules[i]!, members.map((_, m) => tf.slice(y, [0, m * sumO + cols[i]!], [-1, t.outputDim]))));
      return tf.concat(outs, 1);
    });
  return proven(apply, (z) => tf.concat(tasks.map((t) => heads.get(t.id)!.apply(z)), 1), [w1, b1, w2, b2], inputDim, tolerance);
}
