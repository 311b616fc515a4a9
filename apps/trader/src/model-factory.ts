/**
 * The model side of the trader: the real parts wired into the model package's ModelComponents
 * (features, encoders, heads), loading an artifact, and building a small untrained model (random
 * weights, normaliser and task thresholds fitted on given candles) for parity tests, benchmarks
 * and `trader init-model`.
 */
import { ConfigError, type CandleColumns } from '@task-agnostic/core';
import { encoderPreset, type EncoderConfig } from '@task-agnostic/encoders';
import { DEFAULT_FEATURE_SET, Normalizer, computeFeatures } from '@task-agnostic/features';
import { getTask } from '@task-agnostic/heads';
import { TaskAgnosticModel, defaultComponents, loadModel, saveModel, DEFAULT_TASK_IDS, type ModelComponents } from '@task-agnostic/model';

/** The real parts (features, encoders, heads), as the model package wires them. */
export const traderComponents: ModelComponents = defaultComponents;

/** Loads a model artifact folder (model.json + weights) with the real parts. */
export function loadTraderModel(dir: string): Promise<TaskAgnosticModel> {
  return loadModel(dir, { components: traderComponents });
}

export interface UntrainedModelOptions {
  /** Encoder preset (default 'tiny'). */
  readonly preset?: 'tiny' | 'default' | 'paper';
  readonly encoderType?: EncoderConfig['type'];
  /** Candles per window (default 32 for the tiny preset, else 96). */
  readonly windowLength?: number;
  readonly seed?: number;
  readonly tasks?: readonly string[];
}

/**
 * A model with random (seeded) weights whose normaliser and task states are fitted on `candles`.
 * Its predictions mean nothing; it is for parity, recovery and latency tests, where what matters
 * is that the same candles give the same decisions.
 */
export function createUntrainedModel(candles: CandleColumns, options: UntrainedModelOptions = {}): TaskAgnosticModel {
  const preset = options.preset ?? 'tiny';
  const windowLength = options.windowLength ?? (preset === 'tiny' ? 32 : 96);
  const tasks = options.tasks ?? [...DEFAULT_TASK_IDS];
  const m = computeFeatures(candles, DEFAULT_FEATURE_SET);
  if (m.rows <= m.warmup + windowLength) {
    throw new ConfigError(`need more than ${m.warmup + windowLength} candles to fit a model, got ${m.rows}`, 'candles');
  }
  const normalizer = Normalizer.fit(m, m.warmup, m.rows);
  const taskStates: Record<string, Readonly<Record<string, unknown>>> = {};
  for (const id of tasks) taskStates[id] = getTask(id).fit(candles, candles.length);
  return TaskAgnosticModel.create(
    { windowLength, encoder: encoderPreset(preset, options.encoderType), tasks: [...tasks], seed: options.seed ?? 7 },
    { normalizer, taskStates, components: traderComponents },
  );
}

/** Builds an untrained model (see createUntrainedModel) and saves it as an artifact folder. */
export async function writeUntrainedModel(dir: string, candles: CandleColumns, options: UntrainedModelOptions = {}): Promise<TaskAgnosticModel> {
  const model = createUntrainedModel(candles, options);
  await saveModel(model, dir, { metrics: { note: 'untrained: random weights (trader init-model)', untrained: true } });
  return model;
}
