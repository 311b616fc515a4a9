/** Config parsing shared by the tasks: zod at the edge, errors name the field. */
import { configErrorFromZod } from '@task-agnostic/core';
import { z } from 'zod/v3';

/** Parses `config` (undefined means all defaults) with `schema`; ConfigError naming `<taskId>.<field>` on failure. */
export function parseTaskConfig<C>(schema: z.ZodType<C, z.ZodTypeDef, unknown>, config: unknown, taskId: string): C {
  const r = schema.safeParse(config ?? {});
  if (!r.success) throw configErrorFromZod(r.error, { prefix: taskId });
  return r.data;
}

/** A forecast horizon in bars. */
export const horizonSchema = (defaultBars: number) => z.number().int().min(1).max(10_000).default(defaultBars);

/** Class weighting of the cross-entropy: 'balanced' uses n / (k count_c) fitted on the training labels. */
export const classWeightingSchema = z.enum(['none', 'balanced']).default('none');

/** Rows of a label array gathered into [rows.length, targetDim]. */
export function gatherTargets(targets: ArrayLike<number>, targetDim: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * targetDim);
  for (let i = 0; i < rows.length; i++) {
    const t = rows[i]!;
    for (let d = 0; d < targetDim; d++) out[i * targetDim + d] = targets[t * targetDim + d]!;
  }
  return out;
}

/** The same output row repeated n times (constant baselines). */
export function repeatRow(row: readonly number[], n: number): Float32Array {
  const out = new Float32Array(n * row.length);
  for (let i = 0; i < n; i++) out.set(row, i * row.length);
  return out;
}
