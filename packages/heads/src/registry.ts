/**
 * The task registry: the trainer and the model list, choose and configure tasks by name. The seven
 * built-in tasks are registered here; tasks defined elsewhere join with registerTask (README recipe).
 */
import { BUILTIN_TASK_IDS, ConfigError, type TaskOutputs } from '@task-agnostic/core';
import { parseTaskConfig } from './config.js';
import type { Task, TaskFactory } from './task.js';
import { anomalyTaskFactory } from './tasks/anomaly.js';
import { directionTaskFactory } from './tasks/direction.js';
import { regimeTaskFactory } from './tasks/regime.js';
import { returnTaskFactory } from './tasks/return.js';
import { riskTaskFactory } from './tasks/risk.js';
import { timingTaskFactory } from './tasks/timing.js';
import { volatilityTaskFactory } from './tasks/volatility.js';

const TASK_ID = /^[a-z][a-z0-9_-]{0,63}$/;

const registry = new Map<string, TaskFactory<unknown>>();
for (const f of [directionTaskFactory, volatilityTaskFactory, regimeTaskFactory, returnTaskFactory, riskTaskFactory, anomalyTaskFactory, timingTaskFactory]) {
  registry.set(f.id, f as TaskFactory<unknown>);
}

/**
 * Registers a task factory. Ids are lower-case ([a-z][a-z0-9_-]*). Re-registering an id throws
 * unless `replace` is set; built-in ids can never be replaced.
 */
export function registerTask<C>(factory: TaskFactory<C>, options: { replace?: boolean } = {}): void {
  if (!factory || typeof factory.create !== 'function' || !factory.configSchema) {
    throw new ConfigError('registerTask needs a factory with id, description, configSchema and create()', 'factory');
  }
  if (!TASK_ID.test(factory.id)) throw new ConfigError(`'${factory.id}' must match ${TASK_ID}`, 'factory.id');
  if ((BUILTIN_TASK_IDS as readonly string[]).includes(factory.id)) throw new ConfigError(`'${factory.id}' is a built-in task and cannot be replaced`, 'factory.id');
  if (registry.has(factory.id) && !options.replace) throw new ConfigError(`a task '${factory.id}' is already registered (pass { replace: true } to replace it)`, 'factory.id');
  registry.set(factory.id, factory as TaskFactory<unknown>);
}

/** Removes a registered custom task (tests, plugins being unloaded). Built-ins cannot be removed. */
export function unregisterTask(id: string): boolean {
  if ((BUILTIN_TASK_IDS as readonly string[]).includes(id)) throw new ConfigError(`'${id}' is a built-in task and cannot be removed`, 'id');
  return registry.delete(id);
}

/** The registered task ids: the built-ins in TaskOutputs order, then custom tasks in registration order. */
export function listTasks(): string[] {
  return [...registry.keys()];
}

/** A registered factory (for its schema and description). */
export function getTaskFactory(id: string): TaskFactory<unknown> {
  const f = registry.get(id);
  if (!f) throw new ConfigError(`unknown task '${id}': registered tasks are ${listTasks().join(', ')}`, 'task');
  return f;
}

/** A task by id, its config validated by the task's zod schema (defaults filled in; errors name `<id>.<field>`). */
export function getTask(id: string, config?: unknown): Task {
  const f = getTaskFactory(id);
  const task = f.create(parseTaskConfig(f.configSchema, config, id));
  if (task.id !== id) throw new ConfigError(`factory '${id}' created a task with id '${task.id}'`, 'factory.id');
  return task;
}

/** Puts decoded task outputs where TaskOutputs expects them: built-in ids by name, others under `custom`. */
export function assembleTaskOutputs(entries: Iterable<readonly [string, unknown]>): TaskOutputs {
  const out: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  let hasCustom = false;
  for (const [id, value] of entries) {
    if ((BUILTIN_TASK_IDS as readonly string[]).includes(id)) out[id] = value;
    else {
      custom[id] = value;
      hasCustom = true;
    }
  }
  if (hasCustom) out.custom = custom;
  return out as TaskOutputs;
}
