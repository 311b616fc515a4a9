/**
 * Forward-only evaluation of every task head on a split: mean loss per task (batch losses
 * weighted by batch size) and each task's own metrics over the whole split.
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
  const T = parts.tasks.length;
  const sums = new Float64Array(T);
  const outputs = parts.tasks.map((t) => new Float32Array(split.n * t.outputDim));
  const [W, F] = parts.encoder.inputShape;
  for (let start = 0; start < split.n; start += batchSize) {
    const b = sliceBatch(split, start, Math.min(split.n, start + batchSize));
    tf.tidy(() => {
      const z = parts.encoder.apply(tf.tensor3d(b.x, [b.n, W, F]), { training: false });
      parts.tasks.forEach((task, i) => {
        const out = parts.heads[i]!.apply(z, { training: false });
        const loss = taskLoss(parts, i, out, tf.tensor2d(b.targets[i]!, [b.n, b.targetDims[i]!]));
        sums[i]! += loss.dataSync()[0]! * b.n;
        outputs[i]!.set(out.dataSync(), start * task.outputDim);
      });
    });
  }
  const losses = Array.from(sums, (s) => (split.n > 0 ? s / split.n : Number.NaN));
  const metrics = parts.tasks.map((task, i) => (split.n > 0 ? task.metrics(outputs[i]!, split.targets[i]!, split.n) : {}));
  return { losses, metrics, outputs };
}
