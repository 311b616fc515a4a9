/**
 * `trainer evaluate`: does sharing help? For every task, the multi-task model's test metrics beside
 * the task's naive baselines AND beside a single-task model with the same encoder and budget;
 * task transfer (frozen encoder + new head vs the same task from scratch); the consistency score of
 * the fused decisions; and representation quality (inter/intra-class distance ratio of the
 * embeddings, trained vs untrained encoder).
 */
import { consistencyFusion, weightedSignalFusion, ConsistencyTracker } from '@task-agnostic/fusion';
import { buildEncoder } from '@task-agnostic/encoders';
import { getTask } from '@task-agnostic/heads';
import {
  buildDataset,
  evaluateSplit,
  evaluateTest,
  forecastCalibration,
  defaultComponents,
  featurePipeline,
  trainNewHead,
  asTrainableEncoder,
  modelParts,
  type TrainModelResult,
  type MultiTaskParts,
} from '@task-agnostic/training';
import { TaskAgnosticModel } from '@task-agnostic/model';
import { tf } from '@task-agnostic/tf';
import type { TaskOutputs } from '@task-agnostic/core';
import type { TrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';
import { blockBootstrap, difference, type Difference } from './bootstrap.js';
import { classSeparation, type ClassSeparation } from './representation.js';
import { compareOnWindows, type MetricSource, type WindowComparison } from './intervals.js';
import { regimeTruthAccuracy, type RegimeTruthReport } from './regime-truth.js';
import { decisionOf } from './decision-setup.js';
import { calibrateRun } from './calibrate-run.js';
import { configBoundaries, encoderConfigOf, scalarMetrics, trainRun, datasetOptions, type Log } from './train-run.js';

/** The metric a comparison is made on, and whether higher is better. */
export function primaryMetric(kind: 'classification' | 'regression'): { name: string; higherIsBetter: boolean } {
  return kind === 'classification' ? { name: 'macroF1', higherIsBetter: true } : { name: 'mse', higherIsBetter: false };
}

export interface TaskComparison {
  readonly task: string;
  readonly kind: 'classification' | 'regression';
  readonly metric: string;
  readonly higherIsBetter: boolean;
  readonly multiTask: Record<string, number>;
  readonly singleTask: Record<string, number> | null;
  /**
   * Per symbol: the model and each naive baseline on the same test rows, the best baseline on the
   * primary metric, and whether the model beats it there.
   */
  readonly bySymbol: Record<
    string,
    {
      model: Record<string, number>;
      baselines: { name: string; description: string; metrics: Record<string, number> }[];
      bestBaseline: { name: string; value: number } | null;
      /** The plain verdict on model - best baseline (95% block-bootstrap interval). */
      vsBaseline: Verdict;
      /** Both metrics and their difference with intervals, on the same test windows. */
      vsBaselineInterval: WindowComparison | null;
    }
  >;
  /** On how many symbols the model beats the best naive baseline (primary metric, 95% CI excludes 0). */
  readonly beatsBaselineOn: number;
  readonly symbols: number;
  /** Multi-task vs single-task model on the pooled test rows (primary metric), with its interval. */
  readonly vsSingleTask: Verdict;
  readonly vsSingleTaskInterval: WindowComparison | null;
}

export interface TransferReport {
  readonly task: string;
  readonly note: string;
  readonly metric: string;
  readonly higherIsBetter: boolean;
  readonly frozenEncoder: Record<string, number>;
  readonly fromScratch: Record<string, number>;
  /**
   * Quality: frozen / from-scratch on the primary metric (scratch / frozen for a lower-is-better
   * one), so 1 = as good; compute: the CPU seconds of each training (process.cpuUsage) and their ratio.
   */
  readonly qualityRatio?: number;
  readonly compute?: { readonly frozenCpuSeconds: number; readonly scratchCpuSeconds: number; readonly ratio: number };
  /**
   * Frozen encoder + new head (model) vs from scratch (other) on the same test windows, raw head
   * outputs of both (no calibration), with paired 95% block-bootstrap intervals; absent when the
   * two test sets are not the same windows.
   */
  readonly vsScratch?: WindowComparison;
}

export interface Evaluation {
  readonly tasks: readonly TaskComparison[];
  readonly transfer: TransferReport | null;
  readonly consistency: { readonly fusion: string; readonly score: number; readonly meanAgreement: number; readonly decisions: number; readonly actions: Record<string, number> };
  readonly representation: {
    readonly labels: string;
    readonly trained: ClassSeparation;
    readonly untrained: ClassSeparation;
    /** trained - untrained inter/intra ratio with a paired block-bootstrap 95% interval over the test windows. */
    readonly ratioDiff?: Difference;
  } | null;
  /** Synthetic data: the regime head against the generator's true regimes (null otherwise). */
  readonly regimeTruth?: RegimeTruthReport | null;
  readonly testSamples: number;
  /**
   * The seeds of the single-task side: one (the config's) for a single model; a seed ensemble's
   * members' for an ensemble, whose single-task models are ensembles of those seeds. Absent when
   * no single-task models were trained.
   */
  readonly singleTaskSeeds?: readonly number[];
}

/**
 * The plain verdict on a difference: "better (95% CI excludes 0)", "no significant difference",
 * "worse", "too few to judge (...)", or "n/a" where there is nothing to compare.
 */
export type Verdict = string;

/** Per-symbol raw outputs, targets and candle rows of one task's test windows. */
interface WindowData {
  readonly outputs: Float32Array;
  readonly targets: Float32Array;
  readonly rows: readonly number[];
}

function windowsOf(s: unknown): WindowData | null {
  const w = s as Partial<WindowData>;
  return w.outputs && w.targets && w.rows ? (w as WindowData) : null;
}

/** Model vs another forecaster on the windows both cover (matched by candle row), pooled over symbols. */
function pooledComparison(
  task: MetricSource,
  metric: string,
  higher: boolean,
  a: readonly (WindowData | null)[],
  b: readonly (WindowData | null)[],
  seed: number,
): WindowComparison | null {
  const od = task.outputDim;
  const td = task.targetDim;
  const ao: number[] = [];
  const bo: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < a.length; k++) {
    const x = a[k];
    const y = b[k];
    if (!x || !y) continue;
    const at = new Map<number, number>();
    y.rows.forEach((r, i) => at.set(r, i));
    x.rows.forEach((r, i) => {
      const j = at.get(r);
      if (j === undefined) return;
      for (let c = 0; c < od; c++) ao.push(x.outputs[i * od + c]!), bo.push(y.outputs[j * od + c]!);
      for (let c = 0; c < td; c++) ys.push(x.targets[i * td + c]!);
    });
  }
  const n = ys.length / td;
  if (n === 0) return null;
  return compareOnWindows(task, metric, higher, Float32Array.from(ao), Float32Array.from(bo), Float32Array.from(ys), n, { seed });
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** frozen / scratch (or scratch / frozen when lower is better): 1 = as good as from scratch. */
function qualityOf(frozen: number | undefined, scratch: number | undefined, higher: boolean): { qualityRatio?: number } {
  if (frozen === undefined || scratch === undefined || !Number.isFinite(frozen) || !Number.isFinite(scratch) || frozen <= 0 || scratch <= 0) return {};
  return { qualityRatio: higher ? frozen / scratch : scratch / frozen };
}

/** The fusion the config names, as a function. */
export function fusionFn(cfg: TrainerConfig): (o: TaskOutputs, ctx: { tsMs: number; symbol?: string }) => ReturnType<typeof consistencyFusion> {
  const conf = cfg.fusion.config as never;
  return cfg.fusion.method === 'weighted' ? (o, ctx) => weightedSignalFusion(o, conf, ctx) : (o, ctx) => consistencyFusion(o, conf, ctx);
}

type TaskTest = TrainModelResult['test'][string];

/** How many of the single-task trainings are done, of how many, since when (for the progress lines). */
interface TrainingCount {
  done: number;
  readonly total: number;
  readonly startMs: number;
}

/** '; training k of N, m min so far, about m min left' (nothing for a single training). */
export function countText(c: TrainingCount, nowMs = Date.now()): string {
  if (c.total < 2) return '';
  const min = (nowMs - c.startMs) / 60_000;
  const left = c.done > 0 ? `, about ${((min / c.done) * (c.total - c.done)).toFixed(1)} min left` : '';
  return `; training ${c.done + 1} of ${c.total}${c.done > 0 ? `, ${min.toFixed(1)} min so far${left}` : ''}`;
}

/**
 * The test evaluation of a single-task model for `id` (its spec `spec`), as deployed: one run at
 * the config's seed, or, for several seeds, the seed ensemble of one run per seed with its
 * calibration, blends and fusions refitted on the ensemble's validation outputs.
 */
async function singleTaskTest(
  cfg: TrainerConfig,
  data: readonly SymbolData[],
  spec: TrainerConfig['model']['tasks'][number],
  id: string,
  seeds: readonly number[],
  log: Log,
  progress: boolean,
  count: TrainingCount,
): Promise<TaskTest | undefined> {
  const runs: TrainModelResult[] = [];
  // an ensemble's members are calibrated together below, so each member skips its own calibration, blends and fusions
  const memberCfg: TrainerConfig = seeds.length > 1 ? { ...cfg, calibrate: false } : cfg;
  try {
    for (const seed of seeds) {
      log(`evaluate: single-task model for '${id}' (same encoder and budget${seeds.length > 1 ? `; seed ${seed}, member ${runs.length + 1} of ${seeds.length}` : ''}${countText(count)})`);
      runs.push(await trainRun({ ...memberCfg, seed }, data, { tasks: [spec], progress }));
      count.done++;
    }
    if (runs.length === 1) return runs[0]!.test[id];
    const ds = runs[0]!.dataset;
    const ens = TaskAgnosticModel.ensemble(runs.map((r) => r.model));
    try {
      log(`evaluate: single-task ensemble for '${id}' (seeds ${seeds.join(', ')}), calibrated on its validation outputs`);
      calibrateRun(cfg, ens, data, ds, datasetOptions(cfg));
      return evaluateTest(modelParts(ens), ds, 256, forecastCalibration(ens), ens.blends, ens.fusions)[id];
    } finally {
      ens.dispose();
    }
  } finally {
    for (const r of runs) r.model.dispose();
  }
}

export interface EvaluateOptions {
  readonly log?: Log;
  readonly progress?: boolean;
}

export async function evaluateRun(cfg: TrainerConfig, data: readonly SymbolData[], r: TrainModelResult, o: EvaluateOptions = {}): Promise<Evaluation> {
  const log = o.log ?? (() => {});
  const model = r.model;
  const ds = r.dataset;
  const taskIds = model.tasks.map((t) => t.id);

  // 1. Single-task models: the same encoder config, data and budget, one task each. A seed ensemble
  // is compared with single-task ensembles of the same seeds (equal budget: as many members, each
  // trained alike), refitted on their ensemble's validation outputs as `trainer ensemble` does.
  const seeds = model.isEnsemble ? model.members.map((m) => m.seed) : [cfg.seed];
  const single: Record<string, Record<string, number>> = {};
  const singleWindows: Record<string, Record<string, WindowData | null>> = {};
  if (cfg.evaluate.singleTask && taskIds.length > 1) {
    const count: TrainingCount = { done: 0, total: taskIds.length * seeds.length, startMs: Date.now() };
    for (const id of taskIds) {
      const spec = cfg.model.tasks.find((t) => (typeof t === 'string' ? t : t.id) === id)!;
      const test = await singleTaskTest(cfg, data, spec, id, seeds, log, o.progress ?? false, count);
      single[id] = scalarMetrics(test?.metrics ?? {});
      singleWindows[id] = Object.fromEntries(Object.entries(test?.bySeries ?? {}).map(([sym, s]) => [sym, windowsOf(s)]));
    }
  }

  const tasks: TaskComparison[] = model.tasks.map((t, ti) => {
    const source = t as unknown as MetricSource;
    const kind = t.kind as 'classification' | 'regression';
    const pm = primaryMetric(kind);
    const ev = r.test[t.id];
    const multi = scalarMetrics(ev?.metrics ?? {});
    const bySymbol: TaskComparison['bySymbol'] = {};
    for (const [sym, s] of Object.entries(ev?.bySeries ?? {})) {
      const model = scalarMetrics(s.metrics);
      const baselines = s.baselines.map((b) => ({ name: b.name, description: b.description, metrics: scalarMetrics(b.metrics) }));
      let best: { name: string; value: number } | null = null;
      for (const b of baselines) {
        const v = b.metrics[pm.name];
        if (v === undefined || !Number.isFinite(v)) continue;
        if (!best || (pm.higherIsBetter ? v > best.value : v < best.value)) best = { name: b.name, value: v };
      }
      const w = windowsOf(s);
      const bestOutputs = best ? s.baselines.find((b) => b.name === best!.name)?.outputs : undefined;
      const iv =
        w && bestOutputs && bestOutputs.length === w.outputs.length
          ? compareOnWindows(source, pm.name, pm.higherIsBetter, w.outputs, bestOutputs, w.targets, w.rows.length, { seed: cfg.seed + ti })
          : null;
      bySymbol[sym] = { model, baselines, bestBaseline: best, vsBaseline: iv ? iv.verdictText : 'n/a', vsBaselineInterval: iv };
    }
    const singleM = single[t.id] ?? null;
    const syms = Object.keys(ev?.bySeries ?? {});
    const singleIv =
      singleM && singleWindows[t.id]
        ? pooledComparison(source, pm.name, pm.higherIsBetter, syms.map((s) => windowsOf(ev!.bySeries[s])), syms.map((s) => singleWindows[t.id]![s] ?? null), cfg.seed + 100 + ti)
        : null;
    const verdicts = Object.values(bySymbol).map((b) => b.vsBaselineInterval?.verdict);
    return {
      task: t.id,
      kind,
      metric: pm.name,
      higherIsBetter: pm.higherIsBetter,
      multiTask: multi,
      singleTask: singleM,
      bySymbol,
      beatsBaselineOn: verdicts.filter((v) => v === 'better').length,
      symbols: verdicts.length,
      vsSingleTask: singleIv ? singleIv.verdictText : 'n/a',
      vsSingleTaskInterval: singleIv,
    };
  });

  // 2. Task transfer: the frozen multi-task encoder + a new head vs the task trained from scratch.
  let transfer: TransferReport | null = null;
  if (cfg.evaluate.transfer) {
    const id = cfg.evaluate.transferTask;
    const task = getTask(id);
    const pm = primaryMetric(task.kind as 'classification' | 'regression');
    // The model's own feature set (its defaults filled in), so the transfer head sees the same inputs.
    const featureConfig = defaultComponents.parseFeatureSetConfig(model.config.features) as Parameters<typeof featurePipeline>[0];
    const tds = buildDataset(
      data.map((d) => ({ symbol: d.symbol, candles: d.candles })),
      [task as never],
      featurePipeline(featureConfig),
      { windowLength: cfg.model.windowLength, ...datasetOptions(cfg) },
      configBoundaries(cfg.data.split, data),
    );
    const budget = { ...cfg.training, epochs: cfg.evaluate.transferEpochs, seed: cfg.seed, progress: o.progress ?? false };
    log(`evaluate: transfer to '${id}' with the encoder frozen`);
    const encoder = asTrainableEncoder(model.encoder);
    const cpu0 = cpuSeconds();
    const tr = await trainNewHead(encoder, task as never, { train: tds.train, val: tds.val }, budget, {}, cfg.seed + 7, tds.taskStates[0]);
    const frozenCpu = cpuSeconds() - cpu0;
    const parts = { encoder, tasks: [task], heads: [tr.head], taskStates: [tds.taskStates[0]] } as unknown as MultiTaskParts;
    const frozenEval = evaluateSplit(parts, tds.test, 256);
    const frozen = scalarMetrics(frozenEval.metrics[0] ?? {});
    tr.head.dispose();
    log(`evaluate: '${id}' from scratch with the same head budget`);
    const scratchCfg: TrainerConfig = { ...cfg, training: budget };
    const cpu1 = cpuSeconds();
    const scratch = await trainRun(scratchCfg, data, { tasks: [id], progress: o.progress ?? false });
    const scratchCpu = cpuSeconds() - cpu1;
    const fromScratch = scalarMetrics(scratch.test[id]?.metrics ?? {});
    // paired on the same windows when both test sets are the same rows of the same series
    const st = scratch.dataset.test;
    const same = (a: ArrayLike<number> | undefined, b: ArrayLike<number> | undefined) => !!a && !!b && a.length === b.length && Array.prototype.every.call(a, (v: number, k: number) => v === b[k]);
    const vsScratch =
      st.n === tds.test.n && st.n > 0 && same(st.endRows, tds.test.endRows) && same(st.seriesIds, tds.test.seriesIds)
        ? compareOnWindows(task as unknown as MetricSource, pm.name, pm.higherIsBetter, frozenEval.outputs[0]!, evaluateSplit(modelParts(scratch.model), st, 256).outputs[0]!, tds.test.targets[0]!, st.n, { seed: cfg.seed + 41 })
        : undefined;
    scratch.model.dispose();
    transfer = {
      task: id,
      note: taskIds.includes(id)
        ? `the multi-task model was trained with '${id}' too, so this measures re-learning a head, not transfer to an unseen task`
        : `'${id}' was not among the multi-task model's tasks (${taskIds.join(', ')})`,
      metric: pm.name,
      higherIsBetter: pm.higherIsBetter,
      frozenEncoder: frozen,
      fromScratch,
      ...qualityOf(frozen[pm.name], fromScratch[pm.name], pm.higherIsBetter),
      compute: { frozenCpuSeconds: frozenCpu, scratchCpuSeconds: scratchCpu, ratio: scratchCpu > 0 ? frozenCpu / scratchCpu : Number.NaN },
      ...(vsScratch ? { vsScratch } : {}),
    };
  }

  // 3. Consistency of the fused decisions over the test windows (the model's decision policy).
  const fuse = decisionOf(cfg, model, 'fitted').fuse;
  const tracker = new ConsistencyTracker();
  const actions: Record<string, number> = { buy: 0, sell: 0, hold: 0 };
  let agreementSum = 0;
  const test = ds.test;
  const batch = 256;
  const embeddings = new Float32Array(test.n * model.embeddingDim);
  const allOuts: TaskOutputs[] = [];
  for (let s = 0; s < test.n; s += batch) {
    const n = Math.min(batch, test.n - s);
    const x = test.x.subarray(s * test.windowLength * test.featureCount, (s + n) * test.windowLength * test.featureCount);
    const outs = model.predict(x, n);
    allOuts.push(...outs);
    embeddings.set(model.embed(x, n), s * model.embeddingDim);
    outs.forEach((out, k) => {
      const d = fuse(out, { tsMs: k });
      tracker.update(d);
      agreementSum += d.agreement;
      actions[d.action] = (actions[d.action] ?? 0) + 1;
    });
  }
  const consistency = { fusion: cfg.fusion.method, score: tracker.overall, meanAgreement: test.n ? agreementSum / test.n : 0, decisions: test.n, actions };

  // 4. Representation quality on the regime (else direction) labels of the test windows.
  let representation: Evaluation['representation'] = null;
  const labelTask = taskIds.includes('regime') ? 'regime' : taskIds.includes('direction') ? 'direction' : null;
  if (labelTask && test.n > 0) {
    const i = taskIds.indexOf(labelTask);
    const labels = Int32Array.from(test.targets[i]!, (v) => Math.round(v));
    const numClasses = (model.tasks[i] as { classes?: readonly string[] }).classes?.length ?? labels.reduce((a, b) => Math.max(a, b), 0) + 1;
    const trained = classSeparation(embeddings, test.n, model.embeddingDim, labels, numClasses);
    const fresh = buildEncoder(encoderConfigOf(cfg), [test.windowLength, test.featureCount], cfg.seed + 999);
    const untrainedEmb = new Float32Array(test.n * fresh.outputDim);
    for (let s = 0; s < test.n; s += batch) {
      const n = Math.min(batch, test.n - s);
      const x = test.x.subarray(s * test.windowLength * test.featureCount, (s + n) * test.windowLength * test.featureCount);
      const z = tf.tidy(() => fresh.apply(tf.tensor3d(x, [n, test.windowLength, test.featureCount]), { training: false }));
      untrainedEmb.set(z.dataSync(), s * fresh.outputDim);
      z.dispose();
    }
    const dimU = fresh.outputDim;
    fresh.dispose();
    // paired: the same resampled windows for both encoders
    const D = model.embeddingDim;
    const ratioOn = (emb: Float32Array, dim: number, idx: Int32Array) => {
      const e = new Float32Array(idx.length * dim);
      const y = new Int32Array(idx.length);
      idx.forEach((r, k) => {
        e.set(emb.subarray(r * dim, (r + 1) * dim), k * dim);
        y[k] = labels[r]!;
      });
      return classSeparation(e, idx.length, dim, y, numClasses).ratio;
    };
    const untrained = classSeparation(untrainedEmb, test.n, dimU, labels, numClasses);
    const ratioDiff =
      test.n >= 2
        ? difference(
            trained.ratio - untrained.ratio,
            blockBootstrap(test.n, (idx) => ratioOn(embeddings, D, idx) - ratioOn(untrainedEmb, dimU, idx), { resamples: 200, blockLength: Math.max(1, ds.horizon), level: 0.95, seed: cfg.seed + 31 }),
          )
        : undefined;
    representation = { labels: labelTask, trained, untrained, ...(ratioDiff ? { ratioDiff } : {}) };
  }

  // 5. Synthetic data: the regime head against the generator's true regimes.
  const regimeTask = model.tasks.find((t) => t.id === 'regime');
  const regimeTruth = regimeTask && test.seriesIds && test.endRows
    ? regimeTruthAccuracy({ seriesIds: test.seriesIds, endRows: test.endRows, outputs: allOuts, series: data, horizon: regimeTask.horizon })
    : null;

  const trainedSingle = Object.keys(single).length > 0;
  return { tasks, transfer, consistency, representation, regimeTruth, testSamples: test.n, ...(trainedSingle ? { singleTaskSeeds: seeds } : {}) };
}
