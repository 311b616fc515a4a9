/**
 * The trainer app's entry point: candles of one or many symbols -> dataset -> a new
 * TaskAgnosticModel (real features, encoder and heads) -> optional self-supervised pre-training ->
 * multi-task training (or a curriculum) -> test-split metrics beside each task's naive baselines.
 */
import { ConfigError } from '@task-agnostic/core';
import type { FeatureSetConfig } from '@task-agnostic/features';
import { TaskAgnosticModel, parseModelConfig, type ModelConfigInput } from '@task-agnostic/model';
import { defaultComponents } from './model-components.js';
import type { TaskStateLike, TrainableEncoder, TrainableHead, TrainableTask } from './contracts.js';
import type { TrainingConfigInput } from './config.js';
import { runCurriculum, standardCurriculum, type CurriculumInput, type PhaseResult } from './curriculum.js';
import { buildDataset, type DatasetConfigInput, type MultiTaskDataset, type SeriesInput, type SplitBoundaries } from './dataset.js';
import { evaluateTest, forecastCalibration } from './model-evaluation.js';
import { calibrateModel, type CalibrateModelOptions, type CalibrationReport } from './calibrate.js';
import type { FitCalibrationOptions } from '@task-agnostic/heads';
import { featurePipeline, unwrapNormalizer } from './features-pipeline.js';
import { fitFeatureParameters } from './fitted-features.js';
import { pretrainEncoder, sslSourcesFromDataset, type PretrainConfigInput, type PretrainResult } from './pretrain.js';
import { trainMultiTask, type TrainHooks, type TrainResult } from './trainer.js';
import { hasCheckpoint } from './checkpoint.js';
import { checkHeadRefitTasks, parseHeadRefitConfig, refitHeads, type HeadRefitConfigInput, type HeadRefitReport } from './head-refit.js';
import type { MultiTaskParts } from './step.js';
import type { PartsRecipe } from './data-parallel.js';
import type { ModelPartsArgs } from './data-parallel-recipe.js';

export interface TrainModelConfig {
  /** windowLength, encoder, tasks, features, seed (validated by @task-agnostic/model). */
  readonly model: ModelConfigInput;
  /** Split fractions and purge gap; the window length comes from the model. */
  readonly dataset?: Omit<DatasetConfigInput, 'windowLength'>;
  /** Split rows per series (e.g. from dates: train up to 2024, test on 2025); overrides the fractions. */
  readonly boundaries?: readonly SplitBoundaries[];
  readonly training?: TrainingConfigInput;
  /** Self-supervised pre-training before the supervised phase (omit to skip). */
  readonly pretrain?: PretrainConfigInput;
  /** A curriculum instead of one supervised run ('standard' = the source design's preset). */
  readonly curriculum?: CurriculumInput | 'standard';
  /**
   * Calibrate every head on the validation split after training (default true; options choose the
   * softmax method; `blend: false` fits no baseline blends). false leaves the heads uncalibrated.
   */
  readonly calibrate?: boolean | (FitCalibrationOptions & Pick<CalibrateModelOptions, 'blend' | 'classMix' | 'classMixThreshold' | 'blendRule'>);
  /**
   * After training, refit these tasks' heads alone on the frozen encoder (head-refit.ts): each from its
   * trained weights, early-stopped on its own validation loss, kept only if that loss fell. Omit to skip.
   */
  readonly refitHeads?: HeadRefitConfigInput;
}

export interface SeriesEvaluation {
  /** The model's metrics on this series' test rows. */
  readonly metrics: Record<string, number>;
  /** The task's naive baselines on the same rows (with their raw `outputs`, not enumerable). */
  readonly baselines: readonly { name: string; description: string; metrics: Record<string, number>; outputs?: Float32Array }[];
  /**
   * The model's raw outputs [n, outputDim], the targets [n, targetDim] and the candle rows of these
   * test windows, for window-by-window comparisons (bootstrap intervals). Not enumerable, so JSON
   * summaries stay small.
   */
  readonly outputs?: Float32Array;
  readonly targets?: Float32Array;
  readonly rows?: readonly number[];
}

export interface TaskEvaluation {
  /** The model's metrics over the pooled test split. */
  readonly metrics: Record<string, number>;
  /** Per symbol: the model beside the naive baselines on the same test rows. */
  readonly bySeries: Record<string, SeriesEvaluation>;
}

export interface TrainModelResult {
  readonly model: TaskAgnosticModel;
  readonly history: TrainResult['history'];
  readonly train?: TrainResult;
  readonly phases?: PhaseResult[];
  readonly pretrain?: PretrainResult;
  readonly dataset: MultiTaskDataset;
  /**
   * Test-split metrics per task id, with the naive baselines on the same rows per series. Regression
   * heads are scored after their calibration (fitted on validation; forecastCalibration), classifiers raw,
   * then each head combined with its naive baseline where validation chose so (model.blends).
   */
  readonly test: Record<string, TaskEvaluation>;
  /** The calibration fitted on validation, with the test split scored before and after (absent when calibrate is false). */
  readonly calibration?: CalibrationReport;
  /** One report per refitted head (config.refitHeads), validation losses before and after. */
  readonly refit?: readonly HeadRefitReport[];
}

/** Checks that the model's encoder exposes what training needs (the encoders contract). */
export function asTrainableEncoder(e: unknown): TrainableEncoder {
  const x = e as Partial<TrainableEncoder>;
  if (!x || !Array.isArray(x.trainableVariables) || !x.lastSharedWeights || typeof x.auxLoss !== 'function' || typeof x.apply !== 'function') {
    throw new ConfigError('the encoder lacks trainableVariables / lastSharedWeights / auxLoss (the encoders contract)', 'model.encoder');
  }
  return x as TrainableEncoder;
}

/** trainModel's hooks: the training loop's, plus one call once the dataset is built (before any training). */
export interface TrainModelHooks extends TrainHooks {
  /**
   * Called with the built dataset and the tasks (in the dataset's target order) before pre-training
   * and training start, e.g. to report the splits' label mix while there is still time to stop.
   */
  onDataset?(dataset: MultiTaskDataset, tasks: readonly TrainableTask[]): void;
}

export async function trainModel(config: TrainModelConfig, series: readonly SeriesInput[], hooks: TrainModelHooks = {}): Promise<TrainModelResult> {
  const components = defaultComponents;
  const parsedConfig = parseModelConfig(config.model);
  const parsedFeatures = components.parseFeatureSetConfig(parsedConfig.features) as FeatureSetConfig;
  // features with parameters fitted on the training range (regime_hmm) are filled in first; the model keeps them
  const featureConfig = fitFeatureParameters(parsedFeatures, series, config.dataset, config.boundaries);
  const modelConfig = featureConfig === parsedFeatures ? parsedConfig : { ...parsedConfig, features: featureConfig };
  const tasks = modelConfig.tasks.map((t) => components.getTask(t.id, t.config) as unknown as TrainableTask);
  // a bad refit config is named before hours of training, not after
  if (config.refitHeads !== undefined) checkHeadRefitTasks(parseHeadRefitConfig(config.refitHeads).tasks, tasks.map((t) => t.id));
  const ds = buildDataset(series, tasks, featurePipeline(featureConfig), { ...config.dataset, windowLength: modelConfig.windowLength }, config.boundaries);
  hooks.onDataset?.(ds, tasks);
  const normalizer = unwrapNormalizer(ds.fittedNormalizer);
  if (!normalizer) throw new ConfigError('the dataset was not built with the features package normaliser', 'dataset');
  const taskStates = Object.fromEntries(tasks.map((t, i) => [t.id, ds.taskStates[i]!]));
  const symbolNormalizers = Object.fromEntries(
    Object.entries(ds.symbolNormalizers).map(([sym, n]) => {
      const inner = unwrapNormalizer(n);
      if (!inner) throw new ConfigError(`the normaliser of ${sym} is not the features package normaliser`, 'dataset');
      return [sym, inner];
    }),
  );
  const symbolTaskStates = Object.fromEntries(Object.entries(ds.symbolTaskStates).map(([sym, st]) => [sym, Object.fromEntries(tasks.map((t, i) => [t.id, st[i]!]))]));
  const model = TaskAgnosticModel.create(modelConfig, { normalizer, taskStates, components, symbolNormalizers, symbolTaskStates });
  try {
    const encoder = asTrainableEncoder(model.encoder);
    const mtasks = model.tasks as unknown as TrainableTask[];
    const heads = mtasks.map((t) => model.heads.get(t.id)! as TrainableHead);
    const states: TaskStateLike[] = mtasks.map((t) => model.taskStates.get(t.id)!);
    const parts: MultiTaskParts = { encoder, tasks: mtasks, heads, taskStates: states };
    const data = { train: ds.train, val: ds.val };
    // worker threads of data-parallel training rebuild encoder and heads from plain data
    const dataParallel: PartsRecipe = { module: 'builtin:model', args: { encoder: modelConfig.encoder, inputShape: encoder.inputShape, tasks: modelConfig.tasks, taskStates: states } satisfies ModelPartsArgs };
    let pretrain: PretrainResult | undefined;
    let train: TrainResult | undefined;
    let phases: PhaseResult[] | undefined;
    if (config.curriculum) {
      const cur = config.curriculum === 'standard' ? standardCurriculum() : config.curriculum;
      const checkpointDir = (config.training as { checkpointDir?: string } | undefined)?.checkpointDir;
      phases = await runCurriculum(
        cur,
        { encoder, tasks: mtasks, heads, taskStates: states, data, ssl: sslSourcesFromDataset(ds), training: config.training, pretrain: config.pretrain, ...(checkpointDir ? { checkpointDir } : {}) },
        { resume: hooks.resume, dataParallel },
      );
    } else {
      // resuming from a supervised checkpoint: it holds the encoder after pre-training, so pre-training is not rerun
      const checkpointDir = (config.training as { checkpointDir?: string } | undefined)?.checkpointDir;
      const resuming = hooks.resume === true && checkpointDir !== undefined && hasCheckpoint(checkpointDir);
      if (config.pretrain && !resuming) pretrain = await pretrainEncoder(encoder, sslSourcesFromDataset(ds), config.pretrain, { signal: hooks.signal });
      train = await trainMultiTask(parts, data, config.training ?? {}, { dataParallel, ...hooks });
    }
    const refit = config.refitHeads === undefined ? undefined : await refitHeads(parts, data, config.refitHeads, { seed: (config.training as { seed?: number } | undefined)?.seed ?? 42, ...(hooks.signal ? { signal: hooks.signal } : {}) });
    const calibration = config.calibrate === false ? undefined : calibrateModel(model, ds, config.calibrate === true || config.calibrate === undefined ? {} : config.calibrate);
    // the test split scored on the model's forecasts: regression heads after their calibration (fitted on validation)
    const test = evaluateTest(parts, ds, 256, forecastCalibration(model), model.blends, model.fusions);
    const history = train?.history ?? (phases ?? []).flatMap((p) => p.history.filter((h): h is TrainResult['history'][number] => 'valLoss' in h));
    return { model, history, ...(train ? { train } : {}), ...(phases ? { phases } : {}), ...(pretrain ? { pretrain } : {}), dataset: ds, test, ...(calibration ? { calibration } : {}), ...(refit ? { refit } : {}) };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

