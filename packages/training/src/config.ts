/**
 * Training configuration: data validated at the edge with zod, every default in this one place.
 * Numbers from the source design (chapter 87) are cited where they come from it.
 */
import { ConfigError, configErrorFromZod } from '@task-agnostic/core';
import { z } from 'zod/v3';
import { HARMONISER_NAMES } from './harmoniser.js';

export const HarmoniserConfigSchema = z
  .object({
    name: z.enum(HARMONISER_NAMES).default('loss-ratio'), // the source design's "gradient balancing"
    alpha: z.number().min(0).max(10).default(1.5), // GradNorm asymmetry, Chen et al. 2018
    learningRate: z.number().positive().max(10).default(0.025),
    sMin: z.number().default(-6),
    sMax: z.number().default(6),
  })
  .strict();

export const ScheduleConfigSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('cosine'),
      /** Linear warm-up over this many optimiser steps, then cosine decay to minLrRatio * lr. */
      warmupSteps: z.number().int().min(0).default(50),
      minLrRatio: z.number().min(0).max(1).default(0.05),
    })
    .strict(),
  z
    .object({
      type: z.literal('plateau'),
      warmupSteps: z.number().int().min(0).default(0),
      factor: z.number().gt(0).lt(1).default(0.5),
      patience: z.number().int().min(0).default(2),
      minLr: z.number().min(0).default(1e-6),
    })
    .strict(),
  z.object({ type: z.literal('constant'), warmupSteps: z.number().int().min(0).default(0) }).strict(),
]);

export const TrainingConfigSchema = z
  .object({
    seed: z.number().int().default(42),
    epochs: z.number().int().positive().max(100_000).default(50),
    batchSize: z.number().int().positive().max(65_536).default(64),
    /**
     * Optimiser steps per "epoch" (between validations, checkpoints and early-stopping checks): that many
     * full batches drawn from one continuing stream of seeded shuffles of the training windows (pass after
     * pass, each window once per pass) instead of one pass per epoch. A large training set (a fine stride)
     * is then validated as often as a small one. Default: one pass (ceil(windows / batchSize) steps).
     */
    stepsPerEpoch: z.number().int().positive().max(10_000_000).optional(),
    learningRate: z.number().positive().max(1).default(1e-3),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    schedule: ScheduleConfigSchema.default({ type: 'cosine' }),
    /** Decoupled weight decay (AdamW) on weight matrices; 0 = plain Adam. */
    weightDecay: z.number().min(0).max(1).default(0),
    /**
     * Augmentation: std of Gaussian noise added to the (normalised) training windows each step,
     * deterministic in the seed and step; 0 = none. Validation and test windows are never noised.
     */
    inputNoise: z.number().min(0).max(5).default(0),
    /**
     * Exponential moving average of the weights (Polyak averaging), decay per optimiser step (e.g. 0.998:
     * a time constant of ~500 steps, once the warm-up min(decay, (1 + t) / (10 + t)) reaches it, after
     * (10 decay - 1) / (1 - decay) steps: ~4,490 for 0.998); unset = off. The validation loss, early stopping, the best-epoch
     * weights and the final model are those of the average (weight-average.ts); training steps on the raw weights.
     */
    emaDecay: z.number().gt(0).lt(1).optional(),
    /** Global-norm gradient clipping; 0 turns it off. */
    clipNorm: z.number().min(0).default(1),
    earlyStopping: z
      .object({
        patience: z.number().int().min(0).default(5),
        minDelta: z.number().min(0).default(0),
        /** Put back the weights of the best validation epoch at the end. */
        restoreBest: z.boolean().default(true),
      })
      .strict()
      .default({}),
    harmoniser: HarmoniserConfigSchema.default({}),
    gradientMode: z.enum(['parameter', 'representation']).default('parameter'),
    /** Fixed per-task multipliers on the harmoniser's weights, by task id (curriculum phase weights). */
    taskWeights: z.record(z.string(), z.number().min(0)).optional(),
    /** Folder for the per-epoch checkpoint; none = no checkpoints. */
    checkpointDir: z.string().min(1).optional(),
    /** JSONL file that gets one line per epoch (metrics, task weights). */
    logPath: z.string().min(1).optional(),
    progress: z.boolean().default(true),
    /**
     * Data-parallel ranks (the main thread + worker threads, each training on a slice of the
     * batch): 'auto' = the core count, 1 = one thread; more than the cores is clamped. Used where
     * the caller says how workers rebuild the model (trainModel does); see data-parallel.ts.
     */
    workers: z.union([z.literal('auto'), z.number().int().min(1)]).default('auto'),
  })
  .strict();

export type TrainingConfig = z.infer<typeof TrainingConfigSchema>;
export type TrainingConfigInput = z.input<typeof TrainingConfigSchema>;
export type ScheduleConfig = z.infer<typeof ScheduleConfigSchema>;
export type HarmoniserConfig = z.infer<typeof HarmoniserConfigSchema>;

/** Turns a zod failure into a ConfigError naming the field under `prefix` (core's configErrorFromZod). */
export function zodToConfigError(err: z.ZodError, prefix: string): ConfigError {
  return configErrorFromZod(err, { prefix });
}

export function parseTrainingConfig(json: unknown): TrainingConfig {
  const r = TrainingConfigSchema.safeParse(json ?? {});
  if (!r.success) throw zodToConfigError(r.error, 'training');
  const c = r.data;
  if (c.harmoniser.sMin >= c.harmoniser.sMax) throw new ConfigError(`sMin (${c.harmoniser.sMin}) must be below sMax (${c.harmoniser.sMax})`, 'training.harmoniser.sMin');
  return c;
}

/** Optimiser steps in one epoch over `trainWindows` windows: `stepsPerEpoch`, else one pass (ceil(windows / batchSize)). */
export function epochStepCount(trainWindows: number, config: { readonly batchSize: number; readonly stepsPerEpoch?: number | undefined }): number {
  return config.stepsPerEpoch ?? Math.ceil(trainWindows / config.batchSize);
}
