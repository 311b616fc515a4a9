/**
 * Curricula: training in phases (pre-train -> easy tasks -> all tasks), each with its active
 * tasks, fixed task weights, a minimum and maximum number of epochs and a transition condition.
 * `standardCurriculum()` is the source design's TaskCurriculum::standard() (chapter 87, "Task
 * Curriculum"): Self-Supervised (min 50 epochs, reconstruction loss <= 0.01), Easy Tasks
 * (direction + regime at 0.5 each, min 30 epochs, accuracy >= 0.65), Full Multi-Task (direction,
 * regime, volatility, return at 0.25 each, min 50 epochs, until convergence).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@task-agnostic/core';
import { z } from 'zod/v3';
import { zodToConfigError, type TrainingConfigInput } from './config.js';
import type { TaskStateLike, TrainableEncoder, TrainableHead, TrainableTask } from './contracts.js';
import { pretrainEncoder, type PretrainConfigInput, type PretrainEpoch } from './pretrain.js';
import { selectTasks } from './split.js';
import type { SslSource } from './ssl-sampler.js';
import { trainMultiTask, type EpochRecord, type TrainingData } from './trainer.js';
import type { PartsRecipe } from './data-parallel.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { tf } from '@task-agnostic/tf';

export const TransitionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('epochs') }).strict(),
  z.object({ type: z.literal('reconstruction-loss'), threshold: z.number().positive() }).strict(),
  z
    .object({
      type: z.literal('metric'),
      metric: z.string().min(1),
      threshold: z.number(),
      /** 'max': met when value >= threshold; 'min': when value <= threshold. */
      mode: z.enum(['max', 'min']).default('max'),
      /** A task id; omitted = the mean over the phase's tasks that report the metric. */
      task: z.string().optional(),
    })
    .strict(),
  z.object({ type: z.literal('convergence'), patience: z.number().int().min(0).default(5), minDelta: z.number().min(0).default(0) }).strict(),
]);
export type Transition = z.infer<typeof TransitionSchema>;

export const PhaseSchema = z
  .object({
    name: z.string().min(1),
    kind: z.enum(['pretrain', 'supervised']),
    /** Task ids trained in a supervised phase. */
    tasks: z.array(z.string()).default([]),
    /** Fixed weights by task id, multiplied onto the harmoniser's. */
    taskWeights: z.record(z.string(), z.number().min(0)).optional(),
    minEpochs: z.number().int().min(0).default(1),
    maxEpochs: z.number().int().positive().default(100),
    transition: TransitionSchema.default({ type: 'epochs' }),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.kind === 'supervised' && p.tasks.length === 0) ctx.addIssue({ code: 'custom', path: ['tasks'], message: 'a supervised phase needs at least one task' });
    if (p.minEpochs > p.maxEpochs) ctx.addIssue({ code: 'custom', path: ['minEpochs'], message: `minEpochs ${p.minEpochs} exceeds maxEpochs ${p.maxEpochs}` });
    if (p.kind === 'pretrain' && p.transition.type === 'metric') ctx.addIssue({ code: 'custom', path: ['transition'], message: 'a pretrain phase ends on epochs or reconstruction-loss' });
  });
export type Phase = z.infer<typeof PhaseSchema>;

export const CurriculumSchema = z.object({ phases: z.array(PhaseSchema).min(1) }).strict();
export type Curriculum = z.infer<typeof CurriculumSchema>;
export type CurriculumInput = z.input<typeof CurriculumSchema>;

export function parseCurriculum(json: unknown): Curriculum {
  const r = CurriculumSchema.safeParse(json);
  if (!r.success) throw zodToConfigError(r.error, 'curriculum');
  return r.data;
}

/** The source design's standard curriculum (TaskCurriculum::standard()). maxEpochs is ours (the design gives none). */
export function standardCurriculum(): Curriculum {
  return parseCurriculum({
    phases: [
      { name: 'Self-Supervised', kind: 'pretrain', minEpochs: 50, maxEpochs: 200, transition: { type: 'reconstruction-loss', threshold: 0.01 } },
      {
        name: 'Easy Tasks',
        kind: 'supervised',
        tasks: ['direction', 'regime'],
        taskWeights: { direction: 0.5, regime: 0.5 },
        minEpochs: 30,
        maxEpochs: 200,
        transition: { type: 'metric', metric: 'accuracy', threshold: 0.65, mode: 'max' },
      },
      {
        name: 'Full Multi-Task',
        kind: 'supervised',
        tasks: ['direction', 'regime', 'volatility', 'return'],
        taskWeights: { direction: 0.25, regime: 0.25, volatility: 0.25, return: 0.25 },
        minEpochs: 50,
        maxEpochs: 500,
        transition: { type: 'convergence', patience: 5, minDelta: 0 },
      },
    ],
  });
}

/** Whether a supervised phase's metric condition holds on this epoch's validation metrics. */
export function metricConditionMet(t: Extract<Transition, { type: 'metric' }>, record: EpochRecord, taskIds: readonly string[]): boolean {
  const ids = t.task ? [t.task] : taskIds;
  const vals = ids.map((id) => record.valMetrics[id]?.[t.metric]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (vals.length === 0) return false;
  const v = vals.reduce((a, b) => a + b, 0) / vals.length;
  return t.mode === 'max' ? v >= t.threshold : v <= t.threshold;
}

export interface CurriculumRun {
  readonly encoder: TrainableEncoder;
  /** Every task the curriculum may name, with its head, aligned; `data` targets follow this order. */
  readonly tasks: readonly TrainableTask[];
  readonly heads: readonly TrainableHead[];
  /** Fitted task states aligned with `tasks` (passed to the losses). */
  readonly taskStates?: readonly TaskStateLike[];
  readonly data: TrainingData;
  /** Needed when a phase is 'pretrain'. */
  readonly ssl?: { train: SslSource; val: SslSource };
  readonly training?: TrainingConfigInput;
  readonly pretrain?: PretrainConfigInput;
  /** Phase checkpoints and resume. */
  readonly checkpointDir?: string;
}

export interface PhaseResult {
  readonly name: string;
  readonly epochs: number;
  readonly conditionMet: boolean;
  readonly history: readonly (EpochRecord | PretrainEpoch)[];
}

function allVars(run: CurriculumRun): tf.Variable[] {
  return [...run.encoder.variables, ...run.heads.flatMap((h) => [...h.variables])];
}

/** Runs the phases in order. With `checkpointDir`, finished phases are recorded and a rerun resumes after them. */
export async function runCurriculum(curriculum: CurriculumInput | Curriculum, run: CurriculumRun, hooks: { onPhase?(r: PhaseResult): void; resume?: boolean; dataParallel?: PartsRecipe } = {}): Promise<PhaseResult[]> {
  const c = parseCurriculum(curriculum);
  const ids = run.tasks.map((t) => t.id);
  for (const p of c.phases) for (const id of p.tasks) if (!ids.includes(id)) throw new ConfigError(`phase '${p.name}' names task '${id}', which this run does not have (${ids.join(', ')})`, 'curriculum.phases.tasks');
  const results: PhaseResult[] = [];
  let done = 0;
  const stateFile = run.checkpointDir ? path.join(run.checkpointDir, 'curriculum.json') : null;
  if (hooks.resume && stateFile && existsSync(stateFile)) {
    const st = JSON.parse(await readFile(stateFile, 'utf8')) as { done: number; results: PhaseResult[] };
    done = st.done;
    results.push(...st.results);
    const snap = path.join(run.checkpointDir!, `after-phase-${done - 1}`);
    if (done > 0 && hasCheckpoint(snap)) {
      const ck = await loadCheckpoint(snap);
      const vars = allVars(run);
      ck.groups.variables!.forEach((b, i) => tf.tidy(() => vars[i]!.assign(tf.tensor(b.data, vars[i]!.shape))));
    }
  }
  for (let k = done; k < c.phases.length; k++) {
    const phase = c.phases[k]!;
    let result: PhaseResult;
    if (phase.kind === 'pretrain') {
      if (!run.ssl) throw new ConfigError(`phase '${phase.name}' pre-trains but no self-supervised source was given`, 'ssl');
      const threshold = phase.transition.type === 'reconstruction-loss' ? phase.transition.threshold : undefined;
      const r = await pretrainEncoder(run.encoder, run.ssl, { ...run.pretrain, epochs: phase.maxEpochs }, { stopAtReconstructionLoss: threshold, minEpochs: phase.minEpochs });
      result = { name: phase.name, epochs: r.history.length, conditionMet: threshold === undefined ? true : r.reachedReconstructionTarget, history: r.history };
    } else {
      const idx = phase.tasks.map((id) => ids.indexOf(id));
      const parts = { encoder: run.encoder, tasks: idx.map((i) => run.tasks[i]!), heads: idx.map((i) => run.heads[i]!), ...(run.taskStates ? { taskStates: idx.map((i) => run.taskStates![i]!) } : {}) };
      const data = { train: selectTasks(run.data.train, idx), val: selectTasks(run.data.val, idx) };
      const tr = phase.transition;
      let met = tr.type === 'epochs';
      // convergence: no improvement of the validation loss by minDelta for `patience` epochs, checked from minEpochs on
      let best = Number.POSITIVE_INFINITY;
      let bad = 0;
      const r = await trainMultiTask(
        parts,
        data,
        {
          ...run.training,
          epochs: phase.maxEpochs,
          taskWeights: phase.taskWeights,
          earlyStopping: { patience: 1_000_000, restoreBest: tr.type === 'convergence' },
          checkpointDir: run.checkpointDir ? path.join(run.checkpointDir, `phase-${k}`) : undefined,
        },
        {
          phase: phase.name,
          resume: hooks.resume,
          ...(hooks.dataParallel ? { dataParallel: hooks.dataParallel } : {}),
          onEpoch: (rec) => {
            const enough = rec.epoch + 1 >= phase.minEpochs;
            if (tr.type === 'metric' && enough && metricConditionMet(tr, rec, phase.tasks)) met = true;
            if (tr.type === 'convergence') {
              if (rec.valTotal < best - tr.minDelta) {
                best = rec.valTotal;
                bad = 0;
              } else bad++;
              if (enough && bad > tr.patience) met = true;
            }
            return met && tr.type !== 'epochs' ? 'stop' : undefined;
          },
        },
      );
      result = { name: phase.name, epochs: r.history.length, conditionMet: met, history: r.history };
    }
    results.push(result);
    hooks.onPhase?.(result);
    if (run.checkpointDir) {
      await mkdir(run.checkpointDir, { recursive: true });
      const vars = allVars(run);
      await saveCheckpoint(path.join(run.checkpointDir, `after-phase-${k}`), { epoch: result.epochs - 1, globalStep: 0, rng: { seed: 0, epoch: 0, step: 0 }, state: { phase: phase.name } }, {
        variables: vars.map((v) => ({ name: v.name, shape: v.shape, data: new Float32Array(v.dataSync() as Float32Array) })),
      });
      await writeFile(stateFile!, JSON.stringify({ done: k + 1, results }));
    }
  }
  return results;
}
