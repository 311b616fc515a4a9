/** Validation of fitted task states (they come back from model.json, so they are checked). */
import { ArtifactError } from '@task-agnostic/core';
import type { z } from 'zod/v3';
import type { TaskState } from './task.js';

const cache = new WeakMap<object, unknown>();

/** Parses `state` with `schema` (cached per state object); ArtifactError naming the field on failure. */
export function parseState<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, state: TaskState, taskId: string): T {
  if (state === null || typeof state !== 'object') throw new ArtifactError(`${taskId} state: expected an object, got ${state === null ? 'null' : typeof state}`);
  const hit = cache.get(state);
  if (hit !== undefined) return hit as T;
  const r = schema.safeParse(state);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ArtifactError(`${taskId} state.${issue.path.join('.') || '(root)'}: ${issue.message} (was it produced by ${taskId}.fit()?)`);
  }
  cache.set(state, r.data);
  return r.data;
}
