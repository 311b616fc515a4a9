/**
 * Assembles one TaskOutputs record from the decoded output of each task: built-in task ids go to
 * their typed key, any other task under `custom[id]`.
 */
import { BUILTIN_TASK_IDS, type TaskOutputs } from '@task-agnostic/core';

const BUILTIN = new Set<string>(BUILTIN_TASK_IDS);

export function isBuiltinTask(id: string): boolean {
  return BUILTIN.has(id);
}

/** Decoded outputs in task order -> one TaskOutputs. */
export function assembleTaskOutputs(entries: readonly (readonly [string, unknown])[]): TaskOutputs {
  const out: Record<string, unknown> = {};
  let custom: Record<string, unknown> | undefined;
  for (const [id, value] of entries) {
    if (BUILTIN.has(id)) out[id] = value;
    else (custom ??= {})[id] = value;
  }
  if (custom) out.custom = custom;
  return out as TaskOutputs;
}
