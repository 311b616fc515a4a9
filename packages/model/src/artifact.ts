/**
 * Saving and loading a model artifact: a folder with model.json (config, feature names and
 * fingerprint, normaliser state, task states, training range, metrics, versions) and weights.bin
 * (see weights.ts). Saving writes a temporary folder and renames it into place, so a reader never
 * sees half an artifact. Loading checks format, versions, feature names, checksum and shapes,
 * and every failure is an ArtifactError that says what differs.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactError, TaError } from '@task-agnostic/core';
import { tf } from '@task-agnostic/tf';
import {
  ARTIFACT_FORMAT,
  ARTIFACT_FORMAT_VERSION,
  ENSEMBLE_FORMAT_VERSION,
  SUPPORTED_FORMAT_VERSIONS,
  MODEL_JSON,
  WEIGHTS_FILE,
  modelJsonSchema,
  type DeploymentEvaluation,
  type ModelJson,
  type TrainingRange,
} from './artifact-schema.js';
import { defaultComponents } from './components.js';
import type { ModelComponents, TaskState } from './contracts.js';
import { describeFeatureDifference, featureFingerprint } from './feature-diff.js';
import { assertJsonSafe } from './json-safe.js';
import { MANIFEST_CHECKSUM_FIELD, manifestChecksum } from './manifest-checksum.js';
import { TaskAgnosticModel } from './model.js';
import { PACKAGE_VERSIONS, incompatibleVersions } from './versions.js';
import { assignWeights, decodeWeights, encodeWeights } from './weights.js';

export interface SaveMeta {
  /** The data the model was trained on. */
  readonly training?: TrainingRange | null;
  /** Evaluation figures to keep beside the model (e.g. per-task validation metrics). */
  readonly metrics?: Readonly<Record<string, unknown>>;
  /** The strategy's evaluation on validation, which the trader's deployment gate reads. */
  readonly evaluation?: DeploymentEvaluation;
  /** Defaults to now. */
  readonly createdAt?: Date;
}

export interface LoadOptions {
  /** The factories of the parts; the real packages (defaultComponents) by default. */
  readonly components?: ModelComponents;
  /** Also require these feature names (e.g. the live feature engine's), in this order. */
  readonly expectedFeatureNames?: readonly string[];
  /** Load even when a package version differs incompatibly from the one that saved the artifact. */
  readonly allowVersionMismatch?: boolean;
  /**
   * Told about what loads but deserves attention (a format 1/2 artifact without the model.json
   * checksum). Default: process.emitWarning.
   */
  readonly onWarning?: (message: string) => void;
}

export interface ReadModelJsonOptions {
  readonly onWarning?: (message: string) => void;
}

/** Builds model.json for a model (no IO), sealed with its `manifestSha256`. */
export function buildModelJson(model: TaskAgnosticModel, meta: SaveMeta, weights: ModelJson['weights']): ModelJson {
  const json = buildUnsealed(model, meta, weights);
  return { ...json, manifestSha256: manifestChecksum(JSON.parse(JSON.stringify(json)) as object) };
}

function buildUnsealed(model: TaskAgnosticModel, meta: SaveMeta, weights: ModelJson['weights']): ModelJson {
  return {
    format: ARTIFACT_FORMAT,
    formatVersion: model.isEnsemble ? ENSEMBLE_FORMAT_VERSION : ARTIFACT_FORMAT_VERSION,
    createdAt: (meta.createdAt ?? new Date()).toISOString(),
    seed: model.config.seed,
    backend: tf.getBackend(),
    packages: { ...PACKAGE_VERSIONS },
    config: {
      windowLength: model.config.windowLength,
      encoder: model.config.encoder,
      tasks: model.config.tasks.map((t) => (t.config === undefined ? { id: t.id } : { id: t.id, config: t.config })),
      ...(model.config.features === undefined ? {} : { features: model.config.features }),
      seed: model.config.seed,
    },
    features: { names: [...model.featureNames], fingerprint: featureFingerprint(model.featureNames) },
    normalizer: model.normalizer.toJSON(),
    ...(model.symbolTaskStates.size
      ? { symbolTaskStates: Object.fromEntries([...model.symbolTaskStates].map(([sym, m]) => [sym, Object.fromEntries([...m].map(([id, st]) => [id, { ...st }]))])) }
      : {}),
    ...(model.symbolNormalizers.size ? { symbolNormalizers: Object.fromEntries([...model.symbolNormalizers].map(([sym, n]) => [sym, n.toJSON()])) } : {}),
    encoder: { outputDim: model.members[0]!.encoder.outputDim, paramCount: model.members[0]!.encoder.paramCount() },
    ...(model.isEnsemble ? { members: model.members.map((m) => ({ seed: m.seed })) } : {}),
    tasks: model.tasks.map((t) => {
      const spec = model.config.tasks.find((s) => s.id === t.id);
      return {
        id: t.id,
        kind: t.kind,
        horizon: t.horizon,
        outputDim: t.outputDim,
        ...(spec?.config === undefined ? {} : { config: spec.config }),
        state: { ...model.taskStates.get(t.id)! },
      };
    }),
    training: meta.training ?? null,
    metrics: { ...(meta.metrics ?? {}) },
    ...(meta.evaluation ? { evaluation: meta.evaluation } : {}),
    calibration: Object.fromEntries(model.calibration),
    ...(model.blends.size ? { blends: Object.fromEntries(model.blends) } : {}),
    // the risk fusion keeps its own field (readable by the releases before head fusions were generalised); the others go in `fusions`
    ...(model.riskFusion ? { riskFusion: model.riskFusion } : {}),
    ...([...model.fusions.keys()].some((t) => t !== 'risk') ? { fusions: [...model.fusions.values()].filter((f) => f.task !== 'risk') } : {}),
    decisionPolicy: model.decisionPolicy,
    weights,
  };
}

async function writeFileSynced(file: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(file, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Writes the artifact folder `dir` atomically (a temp folder renamed into place; an old artifact there is replaced). */
export async function saveModel(model: TaskAgnosticModel, dir: string, meta: SaveMeta = {}): Promise<ModelJson> {
  if (model.isDisposed) throw new ArtifactError('cannot save a disposed model');
  const target = path.resolve(dir);
  const { bytes, manifest } = encodeWeights(model.variableGroups(), WEIGHTS_FILE);
  const json = buildModelJson(model, meta, manifest);
  // Everything but the weights must survive JSON unchanged, or the loaded model would differ.
  assertJsonSafe({ ...json, weights: null }, 'model.json');
  // Validate what we write with the schema we read with, so a save never produces an unloadable artifact.
  const checked = modelJsonSchema.safeParse(json);
  if (!checked.success) throw new ArtifactError(`refusing to write an invalid model.json: ${formatZod(checked.error)}`);
  const text = JSON.stringify(json, null, 2) + '\n';

  await mkdir(path.dirname(target), { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = `${target}.tmp-${suffix}`;
  const old = `${target}.old-${suffix}`;
  try {
    await mkdir(tmp);
    await writeFileSynced(path.join(tmp, WEIGHTS_FILE), bytes);
    await writeFileSynced(path.join(tmp, MODEL_JSON), text);
    if (await exists(target)) {
      await rename(target, old);
      await rename(tmp, target);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, target);
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (!(await exists(target)) && (await exists(old))) await rename(old, target);
    throw new ArtifactError(`could not write the model artifact to ${target}: ${(err as Error).message}`, { cause: err });
  }
  return json;
}

/**
 * Sets (replaces) the deployment evaluation of a saved artifact: model.json is rewritten atomically
 * (a temp file renamed over it); the weights are untouched. Returns the new model.json.
 */
export async function writeModelEvaluation(dir: string, evaluation: DeploymentEvaluation): Promise<ModelJson> {
  const json = await readModelJson(dir);
  const unsealed = { ...json, evaluation } as ModelJson & Record<string, unknown>;
  // The evaluation is part of the sealed manifest: recompute model.json's own checksum.
  const next = { ...unsealed, [MANIFEST_CHECKSUM_FIELD]: manifestChecksum(JSON.parse(JSON.stringify(unsealed)) as object) } as ModelJson;
  assertJsonSafe({ ...next, weights: null }, 'model.json');
  const checked = modelJsonSchema.safeParse(next);
  if (!checked.success) throw new ArtifactError(`refusing to write an invalid evaluation into ${dir}: ${formatZod(checked.error)}`);
  const file = path.join(dir, MODEL_JSON);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFileSynced(tmp, JSON.stringify(next, null, 2) + '\n');
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new ArtifactError(`could not write the evaluation into ${file}: ${(err as Error).message}`, { cause: err });
  }
  return next;
}

function formatZod(error: { issues: readonly { path: readonly (string | number)[]; message: string }[] }): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Reads and validates model.json of an artifact folder without building the model. */
export async function readModelJson(dir: string, options: ReadModelJsonOptions = {}): Promise<ModelJson> {
  const file = path.join(dir, MODEL_JSON);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ArtifactError(`${dir} is not a model artifact: it has no ${MODEL_JSON}`, { cause: err });
    throw new ArtifactError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ArtifactError(`${file} is not valid JSON (corrupted or truncated?): ${(err as Error).message}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ArtifactError(`${file} does not hold a JSON object`);
  const head = raw as { format?: unknown; formatVersion?: unknown };
  if (head.format !== ARTIFACT_FORMAT) {
    throw new ArtifactError(`${file} is not a task-agnostic model artifact: format is ${JSON.stringify(head.format)}, expected '${ARTIFACT_FORMAT}'`);
  }
  if (!SUPPORTED_FORMAT_VERSIONS.includes(head.formatVersion as number)) {
    const v = head.formatVersion;
    const why =
      typeof v === 'number' && v > ARTIFACT_FORMAT_VERSION
        ? 'it was written by a newer @task-agnostic/model: upgrade this one'
        : 'retrain the model or load it with the version that wrote it';
    throw new ArtifactError(`artifact format version ${JSON.stringify(v)} is not supported (this reader supports ${SUPPORTED_FORMAT_VERSIONS.slice(0, -1).join(', ')} and ${SUPPORTED_FORMAT_VERSIONS.at(-1)!}): ${why}`);
  }
  const claimed = (raw as Record<string, unknown>)[MANIFEST_CHECKSUM_FIELD];
  if (claimed !== undefined) {
    const digest = manifestChecksum(raw);
    if (digest !== claimed) {
      throw new ArtifactError(
        `${file} has been edited or is corrupted: its contents' sha256 is ${digest} but its ${MANIFEST_CHECKSUM_FIELD} says ${JSON.stringify(claimed)}; a model's numbers (normaliser, task thresholds, windowLength, calibration, policy) cannot be edited by hand: retrain, recalibrate or restore the artifact`,
      );
    }
  } else if ((head.formatVersion as number) >= 3) {
    throw new ArtifactError(`${file} is corrupted: format version ${String(head.formatVersion)} requires ${MANIFEST_CHECKSUM_FIELD}, and it has none`);
  } else {
    (options.onWarning ?? ((m: string) => process.emitWarning(m, 'ArtifactWarning')))(
      `${file} is format ${String(head.formatVersion)}, without a checksum of model.json: edits to its numbers cannot be detected (re-save it, e.g. trainer recalibrate, to add one)`,
    );
  }
  const parsed = modelJsonSchema.safeParse(raw);
  if (!parsed.success) throw new ArtifactError(`${file} is invalid: ${formatZod(parsed.error)}`);
  const json = parsed.data;
  const fp = featureFingerprint(json.features.names);
  if (fp !== json.features.fingerprint) {
    throw new ArtifactError(`${file} is corrupted: the feature names do not match their fingerprint (${fp} vs ${json.features.fingerprint})`);
  }
  return json;
}

/** Loads an artifact folder into a ready model, with every check described in this file. */
export async function loadModel(dir: string, options: LoadOptions = {}): Promise<TaskAgnosticModel> {
  const json = await readModelJson(dir, options.onWarning ? { onWarning: options.onWarning } : {});
  const c = options.components ?? defaultComponents;

  const bad = incompatibleVersions(json.packages);
  if (bad.length && !options.allowVersionMismatch) {
    const list = bad.map((b) => `${b.name} ${b.artifact} in the artifact but ${b.current} here`).join('; ');
    throw new ArtifactError(`incompatible package versions: ${list} (pass allowVersionMismatch to load anyway)`);
  }

  const wrap = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ArtifactError) throw err;
      const msg = err instanceof TaError || err instanceof Error ? err.message : String(err);
      throw new ArtifactError(`${what}: ${msg}`, { cause: err });
    }
  };

  const featureConfig = wrap('the artifact feature-set config is not valid here', () => c.parseFeatureSetConfig(json.config.features));
  const current = wrap('the artifact feature set cannot be built here', () => c.featureNames(featureConfig));
  const diff = describeFeatureDifference(json.features.names, current, 'the artifact', 'this feature set');
  if (diff) throw new ArtifactError(`feature mismatch: ${diff}`);
  if (options.expectedFeatureNames) {
    const d2 = describeFeatureDifference(json.features.names, options.expectedFeatureNames, 'the artifact', 'the expected features');
    if (d2) throw new ArtifactError(`feature mismatch: ${d2}`);
  }
  const normalizer = wrap('the artifact normaliser state is invalid', () => c.normalizerFromJSON(json.normalizer));
  const dn = describeFeatureDifference(json.features.names, normalizer.names, 'the artifact feature list', 'its normaliser');
  if (dn) throw new ArtifactError(`model.json is inconsistent: ${dn}`);
  const symbolNormalizers: Record<string, ReturnType<ModelComponents['normalizerFromJSON']>> = {};
  for (const [sym, state] of Object.entries(json.symbolNormalizers ?? {})) {
    const n = wrap(`the artifact normaliser state of ${sym} is invalid`, () => c.normalizerFromJSON(state));
    const d = describeFeatureDifference(json.features.names, n.names, 'the artifact feature list', `the normaliser of ${sym}`);
    if (d) throw new ArtifactError(`model.json is inconsistent: ${d}`);
    symbolNormalizers[sym] = n;
  }

  const taskIds = json.config.tasks.map((t) => t.id);
  const stateIds = json.tasks.map((t) => t.id);
  if (taskIds.join('\n') !== stateIds.join('\n')) {
    throw new ArtifactError(`model.json is inconsistent: config.tasks is [${taskIds.join(', ')}] but tasks is [${stateIds.join(', ')}]`);
  }
  const taskStates: Record<string, TaskState> = {};
  for (const t of json.tasks) taskStates[t.id] = t.state;

  const weightsPath = path.join(dir, json.weights.file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(weightsPath);
  } catch (err) {
    throw new ArtifactError(`cannot read the weights file ${weightsPath}: ${(err as Error).message}`, { cause: err });
  }
  const groups = decodeWeights(bytes, json.weights);

  const members = json.members ?? [{ seed: json.config.seed }];
  if ((json.formatVersion === ENSEMBLE_FORMAT_VERSION) !== (json.members !== undefined)) {
    throw new ArtifactError(`model.json is inconsistent: format version ${json.formatVersion} ${json.members ? 'has' : 'needs'} a members list (format ${ENSEMBLE_FORMAT_VERSION} is a seed ensemble's, with members)`);
  }
  if (members[0]!.seed !== json.config.seed) throw new ArtifactError(`model.json is inconsistent: member 0 has seed ${members[0]!.seed} but config.seed is ${json.config.seed}`);
  const model = wrap('the model cannot be rebuilt from model.json', () => {
    const built: TaskAgnosticModel[] = [];
    try {
      for (const m of members) {
        built.push(TaskAgnosticModel.create({ ...json.config, seed: m.seed }, { normalizer, taskStates, components: c, symbolNormalizers, ...(json.symbolTaskStates ? { symbolTaskStates: json.symbolTaskStates } : {}) }));
      }
      return built.length === 1 ? built[0]! : TaskAgnosticModel.ensemble(built);
    } catch (err) {
      for (const b of built) b.dispose();
      throw err;
    }
  });
  try {
    for (const t of model.tasks) {
      const saved = json.tasks.find((x) => x.id === t.id)!;
      if (saved.outputDim !== t.outputDim) {
        throw new ArtifactError(`task '${t.id}' has ${saved.outputDim} outputs in the artifact but ${t.outputDim} in this heads package`);
      }
    }
    if (json.encoder.outputDim !== model.embeddingDim) {
      throw new ArtifactError(`the encoder outputs ${json.encoder.outputDim} values in the artifact but ${model.embeddingDim} when built here`);
    }
    const known = new Set(model.variableGroups().map((g) => g.group));
    for (const g of groups.keys()) if (!known.has(g)) throw new ArtifactError(`weights for '${g}', which this model does not have`);
    for (const g of model.variableGroups()) assignWeights(g, groups.get(g.group), json.weights.entries);
    if (json.calibration) wrap('the artifact calibration does not fit the model', () => model.setCalibration(json.calibration!));
    if (json.blends) wrap('the artifact baseline blends do not fit the model', () => model.setBlends(json.blends!));
    if (json.riskFusion) wrap('the artifact risk fusion does not fit the model', () => model.setFusion(json.riskFusion!));
    for (const f of json.fusions ?? []) wrap(`the artifact's ${f.task} fusion does not fit the model`, () => model.setFusion(f));
    model.setDecisionPolicy(json.decisionPolicy ?? null);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
