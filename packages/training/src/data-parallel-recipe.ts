/**
 * The built-in worker recipe ('builtin:model'): a model's encoder and task heads rebuilt from
 * plain data (the encoder config, the window shape, the task ids and configs and their fitted
 * states), the parts a worker thread of data-parallel training needs.
 */
import type { TaskStateLike, TrainableEncoder, TrainableHead, TrainableTask } from './contracts.js';
import type { MultiTaskParts } from './step.js';

export interface ModelPartsArgs {
  readonly encoder: unknown;
  readonly inputShape: readonly [number, number];
  readonly tasks: readonly { readonly id: string; readonly config?: unknown }[];
  readonly taskStates?: readonly TaskStateLike[];
}

/** Async: the model package (features, heads, encoders) is imported only here, when a worker needs it. */
export async function buildModelParts(args: ModelPartsArgs): Promise<MultiTaskParts> {
  const c = (await import('@task-agnostic/model')).defaultComponents;
  const encoder = c.buildEncoder(c.parseEncoderConfig(args.encoder), args.inputShape, 0) as unknown as TrainableEncoder;
  const tasks = args.tasks.map((t) => c.getTask(t.id, t.config) as unknown as TrainableTask);
  const heads = tasks.map((t, i) => t.buildHead(encoder.outputDim, i + 1) as TrainableHead);
  return { encoder, tasks, heads, ...(args.taskStates ? { taskStates: args.taskStates } : {}) };
}
