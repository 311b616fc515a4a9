/**
 * TaskAgnosticModel: one encoder, one head per task, the feature normaliser and the config that
 * rebuilds them. predict() runs the encoder once over the batch and every head on the embedding,
 * reads all outputs with one dataSync, and decodes each row into TaskOutputs.
 */
import { ConfigError, DataError, Rng, type CandleColumns, type TaskOutputs } from '@task-agnostic/core';
import type { FeatureExtras } from '@task-agnostic/features';
import { tf } from '@task-agnostic/tf';
import { parseModelConfig, type ModelConfig, type ModelConfigInput } from './config.js';
import { defaultComponents } from './components.js';
import type { Encoder, Head, ModelComponents, Normalizer, Task, TaskState } from './contracts.js';
import { ensembleEncoder, ensembleHead, type ModelMember } from './ensemble.js';
import { describeFeatureDifference } from './feature-diff.js';
import { jsonDifference } from './json-difference.js';
import { assembleTaskOutputs } from './task-outputs.js';
import { applyBlend, baselineForecasts, fusionSpec, taskClasses } from '@task-agnostic/heads';
import { fuseTaskRows } from './fusion-rows.js';
import type { VariableGroup } from './weights.js';
import { calibrateInPlace, fusionField, type DecisionPolicy, type HeadBlend, type HeadCalibration, type HeadFusionData, type RiskFusionData } from './calibration.js';

export interface CreateModelOptions {
  /** The normaliser fitted on the training range; its names must equal the feature set's. */
  readonly normalizer: Normalizer;
  /** Each task's fitted state (Task.fit on the training range), keyed by task id. */
  readonly taskStates: Readonly<Record<string, TaskState>>;
  /** The factories of the parts; the real packages (defaultComponents) by default. */
  readonly components?: ModelComponents;
  /**
   * Per-symbol normalisers (each fitted on that symbol's own training rows), by symbol. The
   * pooled `normalizer` stays the fallback; see normalizerForSeries for symbols with none.
   */
  readonly symbolNormalizers?: Readonly<Record<string, Normalizer>>;
  /** Per-symbol task states (labels fitted on each symbol's own training range), by symbol, then task id. */
  readonly symbolTaskStates?: Readonly<Record<string, Readonly<Record<string, TaskState>>>>;
}

/** What a baseline blend needs beside the head outputs: the candles and the row each window ends at. */
export interface BlendContext {
  readonly candles: CandleColumns;
  readonly endRows: ArrayLike<number>;
}

export interface ModelParts {
  readonly config: ModelConfig;
  readonly featureConfig: unknown;
  readonly featureNames: readonly string[];
  readonly encoder: Encoder;
  readonly tasks: readonly Task[];
  readonly heads: ReadonlyMap<string, Head>;
  readonly normalizer: Normalizer;
  readonly taskStates: ReadonlyMap<string, TaskState>;
  readonly components: ModelComponents;
  readonly symbolNormalizers?: ReadonlyMap<string, Normalizer>;
  readonly symbolTaskStates?: ReadonlyMap<string, ReadonlyMap<string, TaskState>>;
  /**
   * A seed ensemble's members (member 0 first; `encoder` and `heads` must be member 0's). With more
   * than one the model's encoder and heads are the ensemble's (ensemble.ts). Absent: one member.
   */
  readonly members?: readonly ModelMember[];
}

/** The seeds of the encoder and of each head: independent child streams of the model seed. */
export function componentSeeds(seed: number, taskIds: readonly string[]): { encoder: number; heads: Map<string, number> } {
  const root = new Rng(seed);
  const encoder = root.split('encoder').seedInt();
  const heads = new Map(taskIds.map((id) => [id, root.split(`head:${id}`).seedInt()] as const));
  return { encoder, heads };
}

export class TaskAgnosticModel {
  readonly config: ModelConfig;
  /** The parsed feature-set config the model's inputs come from. */
  readonly featureConfig: unknown;
  readonly featureNames: readonly string[];
  readonly encoder: Encoder;
  readonly tasks: readonly Task[];
  readonly heads: ReadonlyMap<string, Head>;
  readonly normalizer: Normalizer;
  readonly taskStates: ReadonlyMap<string, TaskState>;
  readonly components: ModelComponents;
  /** Per-symbol normalisers (empty for a model trained with one pooled normaliser). */
  readonly symbolNormalizers: ReadonlyMap<string, Normalizer>;
  /** Per-symbol task states (empty for a model whose labels were fitted pooled). */
  readonly symbolTaskStates: ReadonlyMap<string, ReadonlyMap<string, TaskState>>;
  /**
   * The members (encoder and heads each), member 0 first: one for a plain model, several for a seed
   * ensemble, whose `encoder` / `heads` combine them (ensemble.ts: the embeddings side by side, each
   * task's outputs combined by its ensembleRule).
   */
  readonly members: readonly ModelMember[];
  private disposed = false;
  private calibrations = new Map<string, HeadCalibration>();
  private policy: DecisionPolicy | null = null;
  private headBlends = new Map<string, HeadBlend>();
  private headFusions = new Map<string, HeadFusionData>();

  /** Builds a new (untrained) model from config: encoder and heads initialised from config.seed. */
  static create(configInput: ModelConfigInput | ModelConfig, options: CreateModelOptions): TaskAgnosticModel {
    const config = parseModelConfig(configInput);
    const c = options.components ?? defaultComponents;
    const featureConfig = c.parseFeatureSetConfig(config.features);
    const featureNames = [...c.featureNames(featureConfig)];
    const diff = describeFeatureDifference(options.normalizer.names, featureNames, 'the normaliser', 'the feature set');
    if (diff) throw new ConfigError(`the normaliser does not fit the feature set: ${diff}`, 'normalizer');
    for (const [sym, n] of Object.entries(options.symbolNormalizers ?? {})) {
      const d = describeFeatureDifference(n.names, featureNames, `the normaliser of ${sym}`, 'the feature set');
      if (d) throw new ConfigError(`the normaliser of ${sym} does not fit the feature set: ${d}`, `symbolNormalizers.${sym}`);
    }
    const encoderConfig = c.parseEncoderConfig(config.encoder);
    const seeds = componentSeeds(config.seed, config.tasks.map((t) => t.id));
    const tasks = config.tasks.map((t) => c.getTask(t.id, t.config));
    const states = new Map<string, TaskState>();
    for (const t of tasks) {
      const s = options.taskStates[t.id];
      if (!s) throw new ConfigError(`no fitted state for task '${t.id}' (run Task.fit on the training range)`, `taskStates.${t.id}`);
      states.set(t.id, s);
    }
    const symbolTaskStates = new Map<string, ReadonlyMap<string, TaskState>>();
    for (const [sym, byTask] of Object.entries(options.symbolTaskStates ?? {})) {
      const m = new Map<string, TaskState>();
      for (const t of tasks) {
        const st = byTask[t.id];
        if (!st) throw new ConfigError(`no fitted state for task '${t.id}' of symbol ${sym}`, `symbolTaskStates.${sym}.${t.id}`);
        m.set(t.id, st);
      }
      symbolTaskStates.set(sym, m);
    }
    const encoder = c.buildEncoder(encoderConfig, [config.windowLength, featureNames.length], seeds.encoder);
    const heads = new Map<string, Head>();
    try {
      for (const t of tasks) heads.set(t.id, t.buildHead(encoder.outputDim, seeds.heads.get(t.id)!));
    } catch (err) {
      encoder.dispose();
      for (const h of heads.values()) h.dispose();
      throw err;
    }
    return new TaskAgnosticModel({
      config: { ...config, encoder: encoderConfig, features: featureConfig },
      featureConfig,
      featureNames,
      encoder,
      tasks,
      heads,
      normalizer: options.normalizer,
      taskStates: states,
      components: c,
      symbolNormalizers: new Map(Object.entries(options.symbolNormalizers ?? {})),
      symbolTaskStates,
    });
  }

  constructor(parts: ModelParts) {
    const [T, F] = parts.encoder.inputShape;
    if (T !== parts.config.windowLength || F !== parts.featureNames.length) {
      throw new ConfigError(
        `encoder input [${T}, ${F}] does not match windowLength ${parts.config.windowLength} x ${parts.featureNames.length} features`,
        'encoder',
      );
    }
    for (const t of parts.tasks) {
      if (!parts.heads.has(t.id)) throw new ConfigError(`task '${t.id}' has no head`, `tasks.${t.id}`);
      if (!parts.taskStates.has(t.id)) throw new ConfigError(`task '${t.id}' has no fitted state`, `taskStates.${t.id}`);
    }
    const members = parts.members ?? [{ seed: parts.config.seed, encoder: parts.encoder, heads: parts.heads }];
    if (members.length === 0) throw new ConfigError('an ensemble needs at least one member', 'members');
    if (members[0]!.encoder !== parts.encoder || members[0]!.heads !== parts.heads) throw new ConfigError("the model's encoder and heads must be member 0's", 'members');
    for (const [k, m] of members.entries()) {
      const [Tm, Fm] = m.encoder.inputShape;
      if (Tm !== T || Fm !== F) throw new ConfigError(`member ${k}'s encoder input [${Tm}, ${Fm}] differs from member 0's [${T}, ${F}]`, 'members');
      for (const t of parts.tasks) if (!m.heads.has(t.id)) throw new ConfigError(`member ${k} has no head for task '${t.id}'`, 'members');
    }
    this.members = members;
    this.config = parts.config;
    this.featureConfig = parts.featureConfig;
    this.featureNames = parts.featureNames;
    this.encoder = members.length === 1 ? parts.encoder : ensembleEncoder(members);
    this.tasks = parts.tasks;
    this.heads = members.length === 1 ? parts.heads : new Map(parts.tasks.map((t) => [t.id, ensembleHead(t, members)] as const));
    this.normalizer = parts.normalizer;
    this.taskStates = parts.taskStates;
    this.components = parts.components;
    this.symbolNormalizers = parts.symbolNormalizers ?? new Map();
    this.symbolTaskStates = parts.symbolTaskStates ?? new Map();
  }

  /**
   * A seed ensemble of `models` (same config apart from the seed, same features, normalisers and
   * task states; else a ConfigError naming what differs). The members' encoders and heads MOVE into
   * the ensemble (the given models read as disposed afterwards; dispose the ensemble). An ensemble
   * given as a member contributes all its members. Calibration, blends, fusions and the decision
   * policy start empty: they were fitted on one member's outputs (refit them on the ensemble's,
   * e.g. `trainer ensemble`).
   */
  static ensemble(models: readonly TaskAgnosticModel[]): TaskAgnosticModel {
    if (models.length === 0) throw new ConfigError('an ensemble needs at least one member model, got none', 'members');
    const first = models[0]!;
    const sansSeed = (m: TaskAgnosticModel) => ({ ...m.config, seed: undefined });
    const stateJson = (m: ReadonlyMap<string, TaskState>) => Object.fromEntries(m);
    const symbolStates = (m: TaskAgnosticModel) => Object.fromEntries([...m.symbolTaskStates].map(([sym, st]) => [sym, stateJson(st)]));
    const symbolNorms = (m: TaskAgnosticModel) => Object.fromEntries([...m.symbolNormalizers].map(([sym, n]) => [sym, n.toJSON()]));
    for (const [k, m] of models.entries()) {
      if (m.isDisposed) throw new ConfigError(`member model ${k} has been disposed (or already moved into an ensemble)`, `members.${k}`);
      if (k === 0) continue;
      const checks: [string, unknown, unknown][] = [
        ['config (apart from the seed)', sansSeed(first), sansSeed(m)],
        ['feature names', first.featureNames, m.featureNames],
        ['normaliser', first.normalizer.toJSON(), m.normalizer.toJSON()],
        ['task states', stateJson(first.taskStates), stateJson(m.taskStates)],
        ['per-symbol normalisers', symbolNorms(first), symbolNorms(m)],
        ['per-symbol task states', symbolStates(first), symbolStates(m)],
      ];
      for (const [what, a, b] of checks) {
        const d = jsonDifference(a, b);
        if (d) throw new ConfigError(`member ${k} differs from member 0 in its ${what}: ${d}`, `members.${k}`);
      }
    }
    const members = models.flatMap((m) => m.members);
    const seen = new Map<number, number>();
    for (const [k, m] of members.entries()) {
      const j = seen.get(m.seed);
      if (j !== undefined) throw new ConfigError(`members ${j} and ${k} both have seed ${m.seed}: an ensemble's members need different seeds`, `members.${k}`);
      seen.set(m.seed, k);
    }
    for (const m of models) m.disposed = true;
    return new TaskAgnosticModel({
      config: first.config,
      featureConfig: first.featureConfig,
      featureNames: first.featureNames,
      encoder: members[0]!.encoder,
      tasks: first.tasks,
      heads: members[0]!.heads,
      normalizer: first.normalizer,
      taskStates: first.taskStates,
      components: first.components,
      symbolNormalizers: first.symbolNormalizers,
      symbolTaskStates: first.symbolTaskStates,
      members,
    });
  }

  /** True for a seed ensemble (more than one member). */
  get isEnsemble(): boolean {
    return this.members.length > 1;
  }

  /** The task states outputs of `symbol` decode with: its own when the model has them, else the pooled ones. */
  taskStatesFor(symbol?: string): ReadonlyMap<string, TaskState> {
    return (symbol !== undefined ? this.symbolTaskStates.get(symbol) : undefined) ?? this.taskStates;
  }

  /**
   * The normaliser the model was trained with for `symbol`: its own when the model has one, else
   * the pooled one (also for a model trained with pooled normalisation). For a symbol the model
   * never saw, prefer normalizerForSeries (statistics of the symbol's own history).
   */
  normalizerFor(symbol?: string): Normalizer {
    return (symbol !== undefined ? this.symbolNormalizers.get(symbol) : undefined) ?? this.normalizer;
  }

  /** Each head's calibration (fitted on validation); a head without one decodes its raw outputs as they are. */
  get calibration(): ReadonlyMap<string, HeadCalibration> {
    return this.calibrations;
  }

  /** Sets (replaces) the head calibrations; each must match its head's output width. */
  setCalibration(calibration: Readonly<Record<string, HeadCalibration>> | ReadonlyMap<string, HeadCalibration>): void {
    const entries = calibration instanceof Map ? [...calibration.entries()] : Object.entries(calibration);
    const next = new Map<string, HeadCalibration>();
    for (const [id, c] of entries) {
      const t = this.tasks.find((x) => x.id === id);
      if (!t) throw new ConfigError(`calibration for unknown task '${id}': this model has ${this.tasks.map((x) => x.id).join(', ')}`, `calibration.${id}`);
      if (c.scale.length !== t.outputDim || c.shift.length !== t.outputDim) {
        throw new ConfigError(`calibration of '${id}' has ${c.scale.length} columns but the head outputs ${t.outputDim}`, `calibration.${id}`);
      }
      if (![...c.scale, ...c.shift].every(Number.isFinite)) throw new ConfigError(`calibration of '${id}' has a non-finite value`, `calibration.${id}`);
      next.set(id, c);
    }
    this.calibrations = next;
  }

  /**
   * Each head's combination with its task's naive baseline (fitted on validation; absent: the head
   * alone). Applying one needs the baseline's forecast, i.e. the candles: the trainer's evaluations
   * apply it (training's applyBlends); predict() on windows does not.
   */
  get blends(): ReadonlyMap<string, HeadBlend> {
    return this.headBlends;
  }

  /** Sets (replaces) the baseline blends; a 'stack' needs one offset per class of its head. */
  setBlends(blends: Readonly<Record<string, HeadBlend>> | ReadonlyMap<string, HeadBlend>): void {
    const entries = blends instanceof Map ? [...blends.entries()] : Object.entries(blends);
    const next = new Map<string, HeadBlend>();
    for (const [id, b] of entries) {
      const t = this.tasks.find((x) => x.id === id);
      if (!t) throw new ConfigError(`baseline blend for unknown task '${id}': this model has ${this.tasks.map((x) => x.id).join(', ')}`, `blends.${id}`);
      if (b.method === 'stack' && (t.kind !== 'classification' || b.offsets.length !== t.outputDim)) {
        throw new ConfigError(`the stacked blend of '${id}' has ${b.offsets.length} offsets but the head outputs ${t.outputDim} classes`, `blends.${id}`);
      }
      if (b.method === 'convex' && t.kind !== 'regression') throw new ConfigError(`a convex blend needs a regression head; '${id}' is a ${t.kind} head`, `blends.${id}`);
      if (![b.modelWeight, b.baselineWeight, ...b.offsets].every(Number.isFinite)) throw new ConfigError(`the baseline blend of '${id}' has a non-finite value`, `blends.${id}`);
      next.set(id, b);
    }
    this.headBlends = next;
  }

  /**
   * The task answers fused from the model's heads (fitted on validation; a task without one: its
   * head with its blend), by fused task id. Like a blend a fusion needs the candles (its baselines),
   * so predict() on windows does not apply it.
   */
  get fusions(): ReadonlyMap<string, HeadFusionData> {
    return this.headFusions;
  }

  /** The risk task's fusion (fusions.get('risk')), or null. */
  get riskFusion(): RiskFusionData | null {
    return this.headFusions.get('risk') ?? null;
  }

  /** Sets (or clears, with null) the risk task's fusion (setFusion). */
  setRiskFusion(f: RiskFusionData | null): void {
    if (f === null) this.clearFusion('risk');
    else this.setFusion(f);
  }

  /** Removes the fusion of `task` (all fusions without an argument). */
  clearFusion(task?: string): void {
    if (task === undefined) this.headFusions.clear();
    else this.headFusions.delete(task);
  }

  /**
   * Sets the fusion of `f.task` (replacing one there): its task must be a classification head of this
   * model with offsets.length classes, its volatility task a regression head, its direction task (if
   * any) a classification head, and its features the ones the heads package computes for them.
   */
  setFusion(f: HeadFusionData): void {
    const where = fusionField(f.task);
    const fused = this.tasks.find((x) => x.id === f.task);
    const vol = this.tasks.find((x) => x.id === f.volatilityTask);
    const dir = f.directionTask === undefined ? undefined : this.tasks.find((x) => x.id === f.directionTask);
    const K = f.offsets.length;
    if (fused?.kind !== 'classification' || fused.outputDim !== K) throw new ConfigError(`the ${f.task} fusion needs a ${K}-class ${f.task} head '${f.task}': this model has ${this.tasks.map((x) => x.id).join(', ')}`, `${where}.task`);
    if (vol?.kind !== 'regression') throw new ConfigError(`the ${f.task} fusion reads a volatility head '${f.volatilityTask}', which this model does not have as a regression head`, `${where}.volatilityTask`);
    if (f.directionTask !== undefined && dir?.kind !== 'classification') throw new ConfigError(`the ${f.task} fusion reads a direction head '${f.directionTask}', which this model does not have as a classification head`, `${where}.directionTask`);
    try {
      fusionSpec(f, taskClasses(fused), dir ? taskClasses(dir) : undefined);
    } catch (err) {
      throw new ConfigError(`the ${f.task} fusion's features (${f.features.join(', ')}) are not the ones this heads package computes: ${(err as Error).message}`, `${where}.features`);
    }
    if (f.weights.length !== (f.features.length + 1) * K) throw new ConfigError(`the ${f.task} fusion has ${f.weights.length} weights and ${K} offsets; want ${(f.features.length + 1) * K}`, `${where}.weights`);
    if (![...f.weights, ...f.offsets].every(Number.isFinite)) throw new ConfigError(`the ${f.task} fusion has a non-finite value`, where);
    this.headFusions.set(f.task, { ...f, features: [...f.features], weights: [...f.weights], offsets: [...f.offsets] });
  }

  /** The decision policy fitted on validation (fusion thresholds beside the source values), or null (seed thresholds). */
  get decisionPolicy(): DecisionPolicy | null {
    return this.policy;
  }

  setDecisionPolicy(policy: DecisionPolicy | null): void {
    this.policy = policy;
  }

  get windowLength(): number {
    return this.config.windowLength;
  }
  get featureCount(): number {
    return this.featureNames.length;
  }
  /** The width of embed()'s rows: member 0's embedding (a seed ensemble's encoder outputs all members', M x this). */
  get embeddingDim(): number {
    return this.members[0]!.encoder.outputDim;
  }

  /**
   * Every variable to save, grouped: the encoder's, then each task head's, in task order; for an
   * ensemble, member 0's so, then member k's as `member<k>/encoder`, `member<k>/head:<task>`.
   */
  variableGroups(): VariableGroup[] {
    return this.members.flatMap((m, k) => {
      const prefix = k === 0 ? '' : `member${k}/`;
      return [
        { group: `${prefix}encoder`, variables: m.encoder.variables, ...(m.encoder.variableNames ? { names: m.encoder.variableNames } : {}) },
        ...this.tasks.map((t) => ({ group: `${prefix}head:${t.id}`, variables: m.heads.get(t.id)!.variables })),
      ];
    });
  }

  paramCount(): number {
    let n = 0;
    for (const g of this.variableGroups()) for (const v of g.variables) n += v.size;
    return n;
  }

  /** The batch size of `windows`: `n` when given, else length / (T x F), which must be a whole number. */
  batchSize(windows: Float32Array, n?: number): number {
    if (n !== undefined) return n;
    const per = this.windowLength * this.featureCount;
    const k = windows.length / per;
    if (!Number.isInteger(k) || k < 1) {
      throw new DataError(`windows has ${windows.length} values, not a whole number of [T=${this.windowLength}, F=${this.featureCount}] windows`);
    }
    return k;
  }

  /** Checks a batch of windows [n, T, F] and returns it as a tensor (caller disposes). */
  inputTensor(windows: Float32Array, n: number): tf.Tensor3D {
    this.assertLive();
    const T = this.windowLength;
    const F = this.featureCount;
    if (!Number.isInteger(n) || n < 1) throw new DataError(`n must be a positive integer, got ${n}`);
    if (windows.length !== n * T * F) {
      throw new DataError(`windows has ${windows.length} values but [n=${n}, T=${T}, F=${F}] needs ${n * T * F}`);
    }
    return tf.tensor3d(windows, [n, T, F], 'float32');
  }

  /**
   * Embeddings [n, D], row-major. `n` defaults to the number of windows in `windows`. For a seed
   * ensemble, member 0's embedding (D = embeddingDim): the members' embeddings live in different
   * bases, so neither their mean nor a single "ensemble embedding" is meaningful.
   */
  embed(windows: Float32Array, nWindows?: number): Float32Array {
    const n = this.batchSize(windows, nWindows);
    const x = this.inputTensor(windows, n);
    try {
      const z = tf.tidy(() => this.members[0]!.encoder.apply(x, { training: false }));
      const out = z.dataSync() as Float32Array;
      z.dispose();
      return Float32Array.from(out);
    } finally {
      x.dispose();
    }
  }

  /**
   * Raw head outputs of every task (or of `taskIds`), each [n, outputDim] row-major: one encoder
   * pass, the heads on its embedding, one concat and one dataSync.
   */
  predictRaw(windows: Float32Array, nWindows?: number, taskIds?: readonly string[]): Map<string, Float32Array> {
    const n = this.batchSize(windows, nWindows);
    const tasks = this.selectTasks(taskIds);
    const x = this.inputTensor(windows, n);
    try {
      const all = tf.tidy(() => {
        const z = this.encoder.apply(x, { training: false });
        const outs = tasks.map((t) => this.heads.get(t.id)!.apply(z, { training: false }));
        return outs.length === 1 ? outs[0]! : tf.concat(outs, 1);
      });
      const flat = all.dataSync() as Float32Array;
      all.dispose();
      return this.splitOutputs(flat, n, tasks);
    } finally {
      x.dispose();
    }
  }

  /** Splits concatenated head outputs [n, sum(outputDim)] into one array per task. */
  splitOutputs(flat: Float32Array, n: number, tasks: readonly Task[] = this.tasks): Map<string, Float32Array> {
    const width = tasks.reduce((a, t) => a + t.outputDim, 0);
    if (flat.length !== n * width) throw new DataError(`head outputs have ${flat.length} values, expected ${n} x ${width}`);
    const out = new Map<string, Float32Array>();
    let col = 0;
    for (const t of tasks) {
      const d = t.outputDim;
      const a = new Float32Array(n * d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) a[i * d + j] = flat[i * width + col + j]!;
      out.set(t.id, a);
      col += d;
    }
    return out;
  }

  /** TaskOutputs for each window of a batch [n, T, F] (a single window [T, F] is a batch of 1). */
  predict(windows: Float32Array, nWindows?: number, symbol?: string): TaskOutputs[] {
    const n = this.batchSize(windows, nWindows);
    return this.decodeAll(this.predictRaw(windows, n), n, symbol);
  }

  /** One task's decoded output (calibrated) for each of the n windows. */
  predictTask(taskId: string, windows: Float32Array, nWindows?: number): unknown[] {
    const n = this.batchSize(windows, nWindows);
    const task = this.selectTasks([taskId])[0]!;
    const raw = this.calibrateRaw(this.predictRaw(windows, n, [taskId]), n).get(taskId)!;
    const state = this.taskStates.get(taskId)!;
    const d = task.outputDim;
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(task.decode(raw.subarray(i * d, (i + 1) * d), state));
    return out;
  }

  /** Raw outputs with each head's calibration applied (copies; heads without one are passed through). */
  calibrateRaw(raw: ReadonlyMap<string, Float32Array>, n: number): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [id, a] of raw) {
      const c = this.calibrations.get(id);
      if (!c || c.method === 'identity') {
        out.set(id, a);
        continue;
      }
      const b = Float32Array.from(a);
      calibrateInPlace(b, n, c);
      out.set(id, b);
    }
    return out;
  }

  /**
   * The outputs a head's decode reads: its calibration applied (calibrateRaw), or, for a head with a
   * baseline blend (blends), its forecast (a regression head calibrated, a classifier raw: what the
   * blend was fitted on) combined with its baseline's forecast at the same candle rows, computed from
   * `context.candles` (bars <= each row only) with `symbol`'s task states. Without a context the heads
   * are used alone (predict() on windows has no candles).
   */
  forecastRaw(rawUncalibrated: ReadonlyMap<string, Float32Array>, n: number, context?: BlendContext, symbol?: string): Map<string, Float32Array> {
    const out = this.calibrateRaw(rawUncalibrated, n);
    if (!context || (this.headBlends.size === 0 && this.headFusions.size === 0)) return out;
    if (context.endRows.length !== n) throw new DataError(`blend context: ${context.endRows.length} end rows for ${n} windows`);
    const states = this.taskStatesFor(symbol);
    // a fusion reads the fused and direction heads raw and the volatility head calibrated, before any blend
    const fused = new Map<string, Float32Array>();
    for (const f of this.headFusions.values()) {
      const z = this.fusedLogits(f, rawUncalibrated, out, context, states);
      if (z) fused.set(f.task, z);
    }
    for (const t of this.tasks) {
      const b = this.headBlends.get(t.id);
      const raw = rawUncalibrated.get(t.id);
      if (!b || b.method === 'model' || !raw) continue;
      const base = baselineForecasts(t, context.candles, states.get(t.id)!, context.endRows).get(b.baseline);
      if (!base) throw new ConfigError(`the blend of '${t.id}' reads the baseline '${b.baseline}', which this task does not have`, `blends.${t.id}`);
      const input = t.kind === 'regression' ? out.get(t.id)! : raw;
      out.set(t.id, applyBlend(b, t.kind === 'classification' ? 'classes' : 'point', input, base, n, t.outputDim));
    }
    for (const [id, z] of fused) out.set(id, z);
    return out;
  }

  /** A fusion's logits on the context's rows (fuseTaskRows), or null when an output it reads was not asked for. */
  private fusedLogits(f: HeadFusionData, raw: ReadonlyMap<string, Float32Array>, calibrated: ReadonlyMap<string, Float32Array>, context: BlendContext, states: ReadonlyMap<string, TaskState>): Float32Array | null {
    const headRaw = raw.get(f.task);
    const vol = calibrated.get(f.volatilityTask);
    const dirRaw = f.directionTask === undefined ? undefined : raw.get(f.directionTask);
    if (!headRaw || !vol || (f.directionTask !== undefined && !dirRaw)) return null;
    const vd = this.tasks.find((t) => t.id === f.volatilityTask)!.outputDim;
    const volForecast = vd === 1 ? vol : vol.filter((_, j) => j % vd === 0);
    return fuseTaskRows(f, this.tasks, { headRaw, volForecast, ...(dirRaw ? { directionRaw: dirRaw } : {}) }, context.candles, (id) => states.get(id)!, context.endRows);
  }

  /**
   * Decodes raw outputs (as predictRaw returns them) row by row, after each head's calibration, with
   * `symbol`'s task states (taskStatesFor); with `context` (the candles and the rows the windows end
   * at) heads with a baseline blend are combined with their baseline first (forecastRaw).
   */
  decodeAll(rawUncalibrated: ReadonlyMap<string, Float32Array>, n: number, symbol?: string, context?: BlendContext): TaskOutputs[] {
    const raw = this.forecastRaw(rawUncalibrated, n, context, symbol);
    const states = this.taskStatesFor(symbol);
    const rows: TaskOutputs[] = [];
    for (let i = 0; i < n; i++) {
      const entries: [string, unknown][] = [];
      for (const t of this.tasks) {
        const a = raw.get(t.id);
        if (!a) continue;
        entries.push([t.id, t.decode(a.subarray(i * t.outputDim, (i + 1) * t.outputDim), states.get(t.id)!)]);
      }
      rows.push(assembleTaskOutputs(entries));
    }
    return rows;
  }

  /**
   * Batch prediction from candles: features -> normaliser -> windows ending at `endRows` -> predict,
   * each head with a baseline blend combined with its baseline on the same candles. The reference the streaming predictor is proven against. `extras` feeds the optional feature
   * groups (order book, trades, funding, open interest) where the feature set has them. `symbol`
   * picks that symbol's normaliser (normalizerFor); `normalizer` overrides it (e.g. the fallback
   * of normalizerForSeries for a symbol the model never saw).
   */
  predictCandles(
    candles: CandleColumns,
    endRows: ArrayLike<number>,
    options: { batchSize?: number; extras?: FeatureExtras; symbol?: string; normalizer?: Normalizer } = {},
  ): TaskOutputs[] {
    const batchSize = options.batchSize ?? 256;
    const m = (options.normalizer ?? this.normalizerFor(options.symbol)).transform(this.components.computeFeatures(candles, this.featureConfig, options.extras));
    const diff = describeFeatureDifference(this.featureNames, m.names, 'the model', 'the computed features');
    if (diff) throw new DataError(`feature mismatch: ${diff}`);
    const out: TaskOutputs[] = [];
    for (let s = 0; s < endRows.length; s += batchSize) {
      const ends = Array.from({ length: Math.min(batchSize, endRows.length - s) }, (_, i) => endRows[s + i]!);
      const raw = this.predictRaw(this.components.makeWindows(m, ends, this.windowLength), ends.length);
      out.push(...this.decodeAll(raw, ends.length, options.symbol, { candles, endRows: ends }));
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.encoder.dispose();
    for (const h of this.heads.values()) h.dispose();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private selectTasks(taskIds?: readonly string[]): Task[] {
    if (!taskIds) return [...this.tasks];
    return taskIds.map((id) => {
      const t = this.tasks.find((x) => x.id === id);
      if (!t) throw new ConfigError(`unknown task '${id}': this model has ${this.tasks.map((x) => x.id).join(', ')}`, 'taskId');
      return t;
    });
  }

  private assertLive(): void {
    if (this.disposed) throw new DataError('this model has been disposed');
  }
}

