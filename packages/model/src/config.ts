/**
 * ModelConfig: what a model is made of, as plain JSON (it goes into model.json). The encoder and
 * feature-set configs are validated by their own packages (see ModelComponents); this schema
 * checks the model's own fields and names the field on error.
 */
import { z } from 'zod/v3';
import { configErrorFromZod } from '@task-agnostic/core';

/** Source design, EncoderConfig::default(): seq_length 96 (chapter 87, "multi_task_inference"). */
export const DEFAULT_WINDOW_LENGTH = 96;
/** Tasks of the source design's 4-task variant (trend, volatility, regime, risk). */
export const DEFAULT_TASK_IDS = ['direction', 'volatility', 'regime', 'risk'] as const;

const taskSpecSchema = z
  .object({
    id: z.string().min(1, 'task id must not be empty'),
    /** Task options passed to getTask(id, config); omitted = the task's defaults. */
    config: z.unknown().optional(),
  })
  .strict();

export const modelConfigSchema = z
  .object({
    /** T: candles per window. */
    windowLength: z.number().int().min(1).max(4096).default(DEFAULT_WINDOW_LENGTH),
    /** The encoder config (validated by the encoders package). */
    encoder: z.unknown().refine((v) => v !== undefined && v !== null, 'is required'),
    /** The tasks with heads, in output order. */
    tasks: z
      .array(z.union([z.string().min(1).transform((id) => ({ id })), taskSpecSchema]))
      .min(1, 'a model needs at least one task')
      .default([...DEFAULT_TASK_IDS])
      .superRefine((tasks, ctx) => {
        const seen = new Set<string>();
        for (const [i, t] of tasks.entries()) {
          if (seen.has(t.id)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'id'], message: `duplicate task id '${t.id}'` });
          seen.add(t.id);
        }
      }),
    /** The feature-set config (validated by the features package); omitted = its default set. */
    features: z.unknown().optional(),
    /** Seed of every initialiser (encoder and heads get independent child streams of it). */
    seed: z.number().int().min(0).default(0),
  })
  .strict();

export interface TaskSpec {
  readonly id: string;
  readonly config?: unknown;
}

export interface ModelConfig {
  readonly windowLength: number;
  readonly encoder: unknown;
  readonly tasks: readonly TaskSpec[];
  readonly features?: unknown;
  readonly seed: number;
}

export type ModelConfigInput = z.input<typeof modelConfigSchema>;

/** Validates a model config; a ConfigError names the first bad field (e.g. "tasks.1.id: duplicate task id 'risk'"). */
export function parseModelConfig(json: unknown): ModelConfig {
  const r = modelConfigSchema.safeParse(json);
  if (!r.success) throw configErrorFromZod(r.error, { rootField: 'model config' });
  const tasks = r.data.tasks.map((t) => ('config' in t && t.config !== undefined ? { id: t.id, config: t.config } : { id: t.id }));
  return { ...r.data, tasks };
}
