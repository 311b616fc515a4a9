/**
 * Task transfer: keep a trained encoder frozen and train only a new task's head on its embedding.
 *
 * By default the frozen encoder runs ONCE over the training and validation windows (inference
 * mode) and the head trains on those cached embeddings: every epoch then costs a head's forward
 * and backward pass instead of the encoder's forward pass per batch and per validation pass.
 * Input noise (`inputNoise`) is not applied on that path (it would need the encoder again per
 * step); `cacheEmbeddings: false` restores the per-batch encoder pass with noise.
 */
import { tf } from '@task-agnostic/tf';
import type { TaskStateLike, TrainableEncoder, TrainableHead, TrainableTask } from './contracts.js';
import type { TrainingConfigInput } from './config.js';
import type { MultiTaskSplit } from './split.js';
import { trainMultiTask, type TrainHooks, type TrainingData, type TrainResult } from './trainer.js';

export interface TransferResult extends TrainResult {
  readonly head: TrainableHead;
  /** True when the head was trained on cached embeddings (the encoder ran once per window). */
  readonly cachedEmbeddings: boolean;
}

export interface TransferOptions {
  /** Encode the windows once and train the head on the cached embeddings (default true). */
  readonly cacheEmbeddings?: boolean;
  /** Windows per encoder pass when caching (default 256). */
  readonly encodeBatch?: number;
}

/** The frozen encoder's embeddings of every window of `split` (inference mode), as a [n, 1, D] split. */
export function embedSplit(encoder: TrainableEncoder, split: MultiTaskSplit, batch = 256): MultiTaskSplit {
  const D = encoder.outputDim;
  const per = split.windowLength * split.featureCount;
  const out = new Float32Array(split.n * D);
  for (let s = 0; s < split.n; s += batch) {
    const n = Math.min(batch, split.n - s);
    const z = tf.tidy(() => encoder.apply(tf.tensor3d(split.x.subarray(s * per, (s + n) * per), [n, split.windowLength, split.featureCount]), { training: false }));
    out.set(z.dataSync(), s * D);
    z.dispose();
  }
  return { ...split, x: out, windowLength: 1, featureCount: D };
}

/** An encoder with no variables that passes a cached embedding [n, 1, D] through as [n, D]. */
export function cachedEmbeddingEncoder(frozen: TrainableEncoder): TrainableEncoder {
  const D = frozen.outputDim;
  return {
    inputShape: [1, D],
    outputDim: D,
    apply: (x) => tf.reshape(x, [x.shape[0], D]) as tf.Tensor2D,
    variables: [],
    trainableVariables: [],
    lastSharedWeights: frozen.lastSharedWeights,
    auxLoss: () => null,
  };
}

/**
 * Builds `task`'s head (seeded) on the frozen `encoder` and trains only the head. `data` holds the
 * new task's targets as its only task. The encoder's variables are not touched.
 */
export async function trainNewHead(
  encoder: TrainableEncoder,
  task: TrainableTask,
  data: TrainingData,
  config: TrainingConfigInput = {},
  hooks: TrainHooks = {},
  seed = 1,
  taskState?: TaskStateLike,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const head = task.buildHead(encoder.outputDim, seed);
  const cache = options.cacheEmbeddings ?? true;
  const states = taskState ? { taskStates: [taskState] } : {};
  try {
    const fixed = { harmoniser: { name: 'equal' as const }, gradientMode: 'representation' as const };
    const r = cache
      ? await trainMultiTask(
          { encoder: cachedEmbeddingEncoder(encoder), heads: [head], tasks: [task], freezeEncoder: true, ...states },
          { train: embedSplit(encoder, data.train, options.encodeBatch), val: embedSplit(encoder, data.val, options.encodeBatch) },
          // one thread: workers would rebuild the full model, and a head on cached rows is tiny
          { ...config, ...fixed, inputNoise: 0, workers: 1 },
          hooks,
        )
      : await trainMultiTask({ encoder, heads: [head], tasks: [task], freezeEncoder: true, ...states }, data, { ...config, ...fixed }, hooks);
    return { ...r, head, cachedEmbeddings: cache };
  } catch (err) {
    head.dispose();
    throw err;
  }
}
