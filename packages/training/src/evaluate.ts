/**
 * Forward-only evaluation of every task head on a split: each task's loss over the whole split
 * (its loss function applied once to every window's output, so a class-weighted cross-entropy is
 * normalised by the split's weight sum, not each batch's: the value does not depend on the batch
 * size) and each task's own metrics over the whole split. The batch size only bounds the encoder's
 * memory per pass.
 */
import { tf } from '@task-agnostic/tf';
import { taskLoss, type MultiTaskParts } from './step.js';
import type { MultiTaskSplit } from './split.js';
import { sliceBatch } from './split.js';

export interface Evaluation {
  readonly losses: number[];
  readonly metrics: Record<string, number>[];
  /** Raw head outputs per task, [n, outputDim]. */
  readonly outputs: Float32Array[];
}

export function evaluateSplit(parts: MultiTaskParts, split: MultiTaskSplit, batchSize: number): Evaluation {
  const outputs = parts.tasks.map((t) => new Float32Array(split.n * t.outputDim));
  const [W, F] = parts.encoder.inputShape;
  for (let start = 0; start < split.n; start += batchSize) {
    const b = sliceBatch(split, start, Math.min(split.n, start + batchSize));
    tf.tidy(() => {
      const z = parts.encoder.apply(tf.tensor3d(b.x, [b.n, W, F]), { training: false });
      parts.tasks.forEach((task, i) => {
        const out = parts.heads[i]!.apply(z, { training: false });
        outputs[i]!.set(out.dataSync(), start * task.outputDim);
      });
    });
  }
  const losses = parts.tasks.map((task, i) =>
    split.n > 0 ? tf.tidy(() => taskLoss(parts, i, tf.tensor2d(outputs[i]!, [split.n, task.outputDim]), tf.tensor2d(split.targets[i]!, [split.n, split.targetDims[i]!])).dataSync()[0]!) : Number.NaN,
  );
  const metrics = parts.tasks.map((task, i) => (split.n > 0 ? task.metrics(outputs[i]!, split.targets[i]!, split.n) : {}));
  return { losses, metrics, outputs };
}
