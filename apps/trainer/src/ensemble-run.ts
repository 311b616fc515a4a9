/**
 * `trainer ensemble`: a seed ensemble run folder from trained runs of one config (seeds apart).
 * Checks that the runs were trained alike (config sections that shape the members: data, model,
 * training, pretrain, curriculum), builds the ensemble model (TaskAgnosticModel.ensemble checks
 * features, normalisers and task states), writes the folder (member 0's config.json, the ensemble's
 * model/, training.json with every member's history, ensemble.json), scores every member's and the
 * ensemble's RAW heads on the validation rows,
 * and refits the validation-fitted layers (calibration, blends, fusions, decision policy) on the
 * ensemble's outputs as `trainer calibrate` does. lso / evaluate / backtest / the trader then work
 * on the folder as on any run.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@task-agnostic/core';
import { ensembleRule, jsonDifference, loadModel, readModelJson, saveModel, TaskAgnosticModel, type ModelMember } from '@task-agnostic/model';
import { evaluateSplit, modelParts, type MultiTaskParts, type MultiTaskSplit } from '@task-agnostic/training';
import type { TrainerConfig } from './config.js';
import { fmt, textTable } from './format.js';
import { loadRun, readRunConfig } from './load-run.js';
import { recalibrateStep } from './pipeline.js';
import { runPaths } from './run-paths.js';
import { jsonSafe, type Log } from './train-run.js';
import { trainingBudget, type EpochSteps, type TrainingBudget } from './lso.js';

/** The config sections that shape a member (must be equal across members); the rest (evaluation, fusion, policy, ...) is member 0's. */
export const MEMBER_CONFIG_SECTIONS = ['data', 'model', 'training', 'pretrain', 'curriculum'] as const;

export interface EnsembleRequest {
  /** The members' run folders, member 0 first (its config's evaluation settings are the ensemble's). */
  readonly runs: readonly string[];
  /** The ensemble run folder to write (must not exist, or be empty). */
  readonly out: string;
  /** Refit calibration, blends, fusions and policy on the ensemble's validation outputs (default true). */
  readonly calibrate?: boolean;
  /** With calibrate: fit the decision policy too (default true; false leaves none, i.e. the seed thresholds). */
  readonly policy?: boolean;
}

/** One row of the validation table: a member's (by seed) or the ensemble's raw-head metrics. */
export interface EnsembleValidationRow {
  readonly who: string;
  readonly metrics: Record<string, Record<string, number>>;
}

export interface EnsembleReport {
  readonly members: { readonly run: string; readonly seed: number }[];
  readonly rule: Record<string, string>;
  readonly validation: { readonly windows: number; readonly rows: EnsembleValidationRow[] };
}

/** The first difference between two members' configs in the sections that shape a member, or null. */
export function memberConfigDifference(a: TrainerConfig, b: TrainerConfig): string | null {
  for (const s of MEMBER_CONFIG_SECTIONS) {
    const d = jsonDifference(a[s], b[s], s);
    if (d) return d;
  }
  return null;
}

/** A member's entry in the ensemble's training.json: its run, its training windows and per-epoch history (null when its run folder has no training.json). */
export interface EnsembleMemberTraining {
  readonly seed: number;
  readonly run: string;
  readonly trainWindows: number | null;
  readonly history: readonly unknown[] | null;
}

/**
 * The ensemble run's training.json: the data the members trained on (member 0's symbols, dataset
 * and class mix; the members share the config's data section) and, instead of one history, each
 * member's (`members`). Its budget is the SUM of the members' optimiser steps (lso's
 * readTrainingBudget); no key `history` (the ensemble itself was never trained).
 */
export async function ensembleTrainingSummary(name: string, members: readonly { readonly run: string; readonly seed: number }[], log: Log): Promise<Record<string, unknown>> {
  const read = async (run: string): Promise<Record<string, unknown> | null> => {
    const file = runPaths(path.dirname(run), path.basename(run)).training;
    try {
      return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      log(`ensemble: ${file} is missing or unreadable (${(err as Error).message.split('\n')[0]}), so that member's training budget is unknown`);
      return null;
    }
  };
  const summaries = await Promise.all(members.map((m) => read(m.run)));
  const first = summaries[0];
  const shared = first ? Object.fromEntries(['symbols', 'dataset', 'classMix', 'classMixWarnTv', 'classMixWarnSeriesTv'].filter((k) => first[k] !== undefined).map((k) => [k, first[k]])) : {};
  return {
    name,
    ...shared,
    members: members.map((m, k): EnsembleMemberTraining => {
      const s = summaries[k] as { history?: unknown; dataset?: { samples?: { train?: unknown } } } | null;
      const trainWindows = s?.dataset?.samples?.train;
      return { seed: m.seed, run: m.run, trainWindows: typeof trainWindows === 'number' ? trainWindows : null, history: Array.isArray(s?.history) ? s.history : null };
    }),
  };
}

/**
 * A seed ensemble's training budget from its members' runs, named by its artifact's
 * `metrics.ensemble.members` (for an ensemble folder written before trainer ensemble wrote a
 * training.json); null when the artifact names no members or a member's history is unknown.
 */
export async function ensembleBudgetFromMembers(modelDir: string, epochSteps: EpochSteps, log: Log): Promise<TrainingBudget | null> {
  const metrics = (await readModelJson(modelDir)).metrics as { ensemble?: { members?: unknown } };
  const members = metrics.ensemble?.members;
  if (!Array.isArray(members) || members.length === 0) return null;
  if (!members.every((m): m is { run: string; seed: number } => typeof m?.run === 'string' && typeof m?.seed === 'number')) return null;
  return trainingBudget(await ensembleTrainingSummary('', members, log), epochSteps);
}

/** The metrics the table shows per task (the core tasks' yardsticks). */
const SHOWN: Record<string, string> = { direction: 'macroF1', regime: 'macroF1', risk: 'macroF1', volatility: 'mse', return: 'correlation' };

function memberParts(m: ModelMember, model: TaskAgnosticModel): MultiTaskParts {
  return {
    encoder: m.encoder as unknown as MultiTaskParts['encoder'],
    tasks: model.tasks as unknown as MultiTaskParts['tasks'],
    heads: model.tasks.map((t) => m.heads.get(t.id)! as unknown as MultiTaskParts['heads'][number]),
    taskStates: model.tasks.map((t) => model.taskStates.get(t.id)!),
  };
}

/** Every member's and the ensemble's raw heads on `val` (no calibration, blend or fusion). */
export function ensembleValidation(model: TaskAgnosticModel, val: MultiTaskSplit, batchSize = 256): EnsembleValidationRow[] {
  const score = (parts: MultiTaskParts): Record<string, Record<string, number>> => {
    const ev = evaluateSplit(parts, val, batchSize);
    return Object.fromEntries(model.tasks.map((t, i) => [t.id, ev.metrics[i]!]));
  };
  const rows: EnsembleValidationRow[] = model.members.map((m) => ({ who: `seed ${m.seed}`, metrics: score(memberParts(m, model)) }));
  if (model.isEnsemble) rows.push({ who: `ensemble of ${model.members.length}`, metrics: score(modelParts(model)) });
  return rows;
}

/** The validation rows as a table: one column per task's yardstick (macro-F1 higher is better, MSE lower). */
export function ensembleTable(rows: readonly EnsembleValidationRow[], taskIds: readonly string[]): string {
  const tasks = taskIds.filter((t) => SHOWN[t] !== undefined);
  return textTable([
    ['raw heads (validation)', ...tasks.map((t) => `${t} ${SHOWN[t]}`)],
    ...rows.map((r) => [r.who, ...tasks.map((t) => fmt(r.metrics[t]?.[SHOWN[t]!], 4))]),
  ]);
}

/** Throws a ConfigError (`why`, about the flag `field`) when the ensemble run folder `out` exists and is not empty. */
export async function assertEmptyTarget(out: string, why = `--out ${out} exists and is not empty: choose a new folder for the ensemble run`, field = 'out'): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(out);
  } catch {
    return;
  }
  if (entries.length > 0) throw new ConfigError(why, field);
}

/** Builds the ensemble run folder (see the file comment); returns what it wrote to ensemble.json. */
export async function buildEnsembleRun(req: EnsembleRequest, log: Log): Promise<EnsembleReport> {
  if (req.runs.length < 2) throw new ConfigError(`an ensemble needs at least two run folders, got ${req.runs.length}`, 'runs');
  const dirs = req.runs.map((r) => path.resolve(r));
  const outDir = path.resolve(req.out);
  const dup = dirs.find((d, i) => dirs.indexOf(d) !== i);
  if (dup) throw new ConfigError(`run folder ${dup} is given twice`, 'runs');
  if (dirs.includes(outDir)) throw new ConfigError(`--out ${outDir} is one of the member runs: choose a new folder`, 'out');
  await assertEmptyTarget(outDir);

  const configs = await Promise.all(dirs.map(async (d) => (await readRunConfig(d)).cfg));
  configs.forEach((c, k) => {
    if (k === 0) return;
    const d = memberConfigDifference(configs[0]!, c);
    if (d) throw new ConfigError(`run ${dirs[k]} was not trained like ${dirs[0]} (apart from the seed): ${d}`, 'runs');
  });
  const models: TaskAgnosticModel[] = [];
  let ensemble: TaskAgnosticModel | undefined;
  try {
    for (const [k, d] of dirs.entries()) {
      log(`ensemble: loading member ${k} (seed ${configs[k]!.seed}) from ${d}`);
      models.push(await loadModel(runPaths(path.dirname(d), path.basename(d)).model));
    }
    ensemble = TaskAgnosticModel.ensemble(models);
  } catch (err) {
    for (const m of models) m.dispose();
    if (err instanceof ConfigError) throw new ConfigError(`${err.message} (runs ${dirs.join(', ')})`, 'runs');
    throw err;
  }
  const first = await readModelJson(runPaths(path.dirname(dirs[0]!), path.basename(dirs[0]!)).model);
  const members = dirs.map((run, k) => ({ run, seed: ensemble!.members[k]!.seed }));
  const rule = Object.fromEntries(ensemble.tasks.map((t) => [t.id, ensembleRule(t)]));
  const paths = runPaths(path.dirname(outDir), path.basename(outDir));
  try {
    await mkdir(outDir, { recursive: true });
    const cfg = { ...configs[0]!, name: path.basename(outDir), out: path.dirname(outDir) };
    await writeFile(paths.config, JSON.stringify(cfg, null, 2) + '\n');
    await saveModel(ensemble, paths.model, { training: first.training, metrics: { ensemble: { members } } });
    await writeFile(paths.training, JSON.stringify(await ensembleTrainingSummary(path.basename(outDir), members, log), jsonSafe, 2) + '\n');
    log(`ensemble: ${members.length} members (seeds ${members.map((m) => m.seed).join(', ')}) saved to ${paths.model}`);
  } catch (err) {
    await rm(outDir, { recursive: true, force: true });
    throw err;
  } finally {
    ensemble.dispose();
  }

  // reopen it as a run (its data and dataset, as calibrate does), score the raw heads, then calibrate
  log('ensemble: rebuilding the dataset to score the raw heads on the validation rows');
  const run = await loadRun(outDir);
  try {
    const rows = ensembleValidation(run.result.model, run.result.dataset.val);
    for (const line of ensembleTable(rows, run.result.model.tasks.map((t) => t.id)).split('\n')) log(line);
    const report: EnsembleReport = { members, rule, validation: { windows: run.result.dataset.val.n, rows } };
    await writeFile(path.join(outDir, 'ensemble.json'), JSON.stringify(report, jsonSafe, 2) + '\n');
    if (req.calibrate !== false) {
      log(`ensemble: refitting calibration, blends, fusions${req.policy === false ? '' : ' and the decision policy'} on the ensemble's validation outputs`);
      await recalibrateStep(run, { log }, { policy: req.policy !== false });
    } else {
      log('ensemble: not calibrated (--no-calibrate): run `trainer calibrate` on the folder before lso / evaluate');
    }
    log(`ensemble run written to ${outDir}`);
    return report;
  } finally {
    run.result.model.dispose();
  }
}
