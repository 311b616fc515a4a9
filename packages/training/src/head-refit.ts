/**
 * Head refit: after multi-task training, each named task's head trains again, alone, on the frozen
 * encoder's embeddings (the encoder runs once per training and validation window, as trainNewHead's
 * cached path), starting from its trained weights and early-stopped on its own validation loss. A
 * head whose refit does not lower that loss keeps its trained weights, bit for bit. The encoder and
 * the other heads are not touched.
 *
 * Why: the multi-task run picks one epoch (and, with training.emaDecay, one average) for the whole
 * model by the summed validation loss, which a head with a small loss (volatility's MSE beside the
 * classifiers' cross-entropies) barely moves; its refit on the chosen representation lets it reach
 * its own optimum. It is the decoupled classifier re-training of Kang et al. 2020 ("cRT"), for any
 * head. Only training rows train it and only validation rows stop it.
 */
import { z } from 'zod/v3';
import { ConfigError, parseWithSchema } from '@task-agnostic/core';
import type { TaskStateLike, TrainableHead, TrainableTask } from './contracts.js';
import { evaluateSplit } from './evaluate.js';
import { selectTasks, type MultiTaskSplit } from './split.js';
import type { MultiTaskParts } from './step.js';
import { cachedEmbeddingEncoder, embedSplit } from './transfer.js';
import { restore, snapshot, trainMultiTask, type TrainingData } from './trainer.js';

export const HeadRefitConfigSchema = z
  .object({
    /** Task ids whose heads are refitted, in this order. */
    tasks: z.array(z.string().min(1)).min(1, 'name at least one task'),
    /** At most this many epochs (passes over the cached training embeddings) per head. */
    epochs: z.number().int().positive().max(1000).default(10),
    learningRate: z.number().positive().max(1).default(1e-3),
    batchSize: z.number().int().positive().max(65_536).default(256),
    /** Early stopping on the head's validation loss. */
    patience: z.number().int().min(0).default(2),
  })
  .strict();
export type HeadRefitConfig = z.infer<typeof HeadRefitConfigSchema>;
export type HeadRefitConfigInput = z.input<typeof HeadRefitConfigSchema>;

/** Validates a refit config; a bad value is a ConfigError naming its field (`refitHeads.epochs`). */
export function parseHeadRefitConfig(json: unknown): HeadRefitConfig {
  return parseWithSchema(HeadRefitConfigSchema, json, 'head refit config', { prefix: 'refitHeads' });
}

export interface HeadRefitReport {
  readonly task: string;
  /** The head's validation loss as trained, and after the refit's best epoch (null: the refit was stopped by the signal). */
  readonly before: number;
  readonly refit: number | null;
  /** Refit epochs run (early stopping included) and the best one (0-based). */
  readonly epochs: number;
  readonly bestEpoch: number;
  /** 'refit' when the refit lowered the validation loss and its weights were kept, else 'trained'. */
  readonly kept: 'refit' | 'trained';
}

export interface HeadRefitOptions {
  readonly seed?: number;
  readonly signal?: AbortSignal;
  /** Windows per encoder pass while caching the embeddings (default 256). */
  readonly encodeBatch?: number;
}

function validationLoss(head: TrainableHead, task: TrainableTask, state: TaskStateLike | undefined, encoder: MultiTaskParts['encoder'], val: MultiTaskSplit, batch: number): number {
  const parts: MultiTaskParts = { encoder, tasks: [task], heads: [head], ...(state ? { taskStates: [state] } : {}) };
  return evaluateSplit(parts, val, batch).losses[0]!;
}

/** Checks a refit's task list against the model's task ids: each known and named once (ConfigError naming `refitHeads.tasks.<k>`). */
export function checkHeadRefitTasks(tasks: readonly string[], modelTaskIds: readonly string[]): void {
  tasks.forEach((id, k) => {
    if (!modelTaskIds.includes(id)) throw new ConfigError(`refitHeads.tasks: the model has no task '${id}' (it has ${modelTaskIds.join(', ')})`, `refitHeads.tasks.${k}`);
    if (tasks.indexOf(id) !== k) throw new ConfigError(`refitHeads.tasks: lists '${id}' twice`, `refitHeads.tasks.${k}`);
  });
}

/** Refits the heads of `config.tasks` in place on `parts.encoder`'s frozen embeddings of `data`; returns one report per task. */
export async function refitHeads(parts: MultiTaskParts, data: TrainingData, config: HeadRefitConfigInput, options: HeadRefitOptions = {}): Promise<HeadRefitReport[]> {
  const c = parseHeadRefitConfig(config);
  const ids = parts.tasks.map((t) => t.id);
  checkHeadRefitTasks(c.tasks, ids);
  const train = embedSplit(parts.encoder, data.train, options.encodeBatch);
  const val = embedSplit(parts.encoder, data.val, options.encodeBatch);
  const encoder = cachedEmbeddingEncoder(parts.encoder);
  const reports: HeadRefitReport[] = [];
  for (const id of c.tasks) {
    const i = ids.indexOf(id);
    const task = parts.tasks[i]!;
    const head = parts.heads[i]!;
    const state = parts.taskStates?.[i];
    const one = { train: selectTasks(train, [i]), val: selectTasks(val, [i]) };
    const before = validationLoss(head, task, state, encoder, one.val, c.batchSize);
    const trained = snapshot(head.variables);
    const r = await trainMultiTask(
      { encoder, tasks: [task], heads: [head], freezeEncoder: true, ...(state ? { taskStates: [state] } : {}) },
      one,
      {
        epochs: c.epochs,
        batchSize: c.batchSize,
        learningRate: c.learningRate,
        seed: options.seed ?? 42,
        earlyStopping: { patience: c.patience, restoreBest: true },
        harmoniser: { name: 'equal' },
        gradientMode: 'representation',
        inputNoise: 0,
        workers: 1,
        progress: false,
      },
      { ...(options.signal ? { signal: options.signal } : {}) },
    );
    const refit = r.aborted ? null : validationLoss(head, task, state, encoder, one.val, c.batchSize);
    const better = refit !== null && refit < before;
    if (!better) restore(head.variables, trained, `the ${id} head as trained`);
    reports.push({ task: id, before, refit, epochs: r.history.length, bestEpoch: r.bestEpoch, kept: better ? 'refit' : 'trained' });
    if (r.aborted) break; // stopped: this head keeps its trained weights, the rest are not refitted
  }
  return reports;
}
