/**
 * Task transfer: keep a trained encoder frozen and train only a new task's head on its embedding.
 */
import type { TaskStateLike, TrainableEncoder, TrainableHead, TrainableTask } from './contracts.js';
import type { TrainingConfigInput } from './config.js';
import { trainMultiTask, type TrainHooks, type TrainingData, type TrainResult } from './trainer.js';

export interface TransferResult extends TrainResult {
  readonly head: TrainableHead;
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
): Promise<TransferResult> {
  const head = task.buildHead(encoder.outputDim, seed);
  try {
    const r = await trainMultiTask({ encoder, heads: [head], tasks: [task], freezeEncoder: true, ...(taskState ? { taskStates: [taskState] } : {}) }, data, { ...config, harmoniser: { name: 'equal' }, gradientMode: 'representation' }, hooks);
    return { ...r, head };
  } catch (err) {
    head.dispose();
    throw err;
  }
}
