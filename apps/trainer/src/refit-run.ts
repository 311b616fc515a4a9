/**
 * `trainer calibrate <run> --refit-from DATE --refit-to DATE --out DIR`: a copy of a saved run whose
 * deployed layers (the heads' calibration, the baseline blends, the head fusions and, unless
 * --no-policy, the decision policy) are refitted on a later labelled range, the encoder, the heads,
 * the normalisers and the label fits (thresholds, vol cuts) unchanged.
 *
 * Why: every layer that turns the heads into answers is fitted on the run's validation months. A
 * model used a year later answers with a year-old class mix and year-old offsets; retraining the
 * encoder is the expensive part and the one that ages least. The refit is the cheap refresh: the
 * copy's validation split is [from, to) of every series with bars there (test: from `to` on), and
 * its normalisers and label fits are rebuilt from the bars before the original validation start
 * (`data.split.fitBefore`) and checked equal to the artifact's, so the copy's labels and inputs are
 * exactly the model's. `from` may not be before the original validation start: the heads' outputs
 * on their own training rows would be in-sample.
 *
 * The original run is never touched; the copy is written in place of an empty or absent folder and
 * removed again if anything fails. It carries refit.json (where it came from, which range, how many
 * windows of which series).
 */
import { copyFile, cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError } from '@task-agnostic/core';
import { jsonDifference, type TaskAgnosticModel } from '@task-agnostic/model';
import type { MultiTaskDataset } from '@task-agnostic/training';
import { validationStride, type TrainerConfig } from './config.js';
import { assertEmptyTarget } from './ensemble-run.js';
import { loadRun, readRunConfig } from './load-run.js';
import { recalibrateStep } from './pipeline.js';
import { runPaths } from './run-paths.js';
import type { Log } from './train-run.js';
import { isoMinute as iso } from './format.js';

export interface RefitRequest {
  /** The saved run (a single run or a seed ensemble). */
  readonly run: string;
  /** The new validation range [from, to), epoch ms. */
  readonly from: number;
  readonly to: number;
  /** The new run folder (absent or empty). */
  readonly out: string;
  /** Other candles (a folder or a CSV file) than the run's own: they must hold the same history before the fit date. */
  readonly dataPath?: string;
  /** Fit the layers on every n-th window of the range (default: the run's validation stride). */
  readonly stride?: number;
  /** Refit the decision policy too (default true; false keeps the run's). */
  readonly policy?: boolean;
  /** The deployed-layer rule (default: the run's). */
  readonly blendRule?: 'oneSe' | 'best';
}

export interface RefitReport {
  readonly from: string;
  readonly refitFrom: string;
  readonly refitTo: string;
  /** The end (exclusive) of the bars the normalisers and label fits come from: the run's. */
  readonly fitBefore: string;
  /** Series with validation windows in the range (at the validation stride), and how many each. */
  readonly series: readonly { readonly symbol: string; readonly windows: number }[];
  readonly validationWindows: number;
  /** The layers were fitted on every n-th window of the range (calibration.json has their row counts). */
  readonly fitStride: number;
  readonly policy: 'refitted' | 'kept';
}

/** 2 -> '2nd', 11 -> '11th', 23 -> '23rd'. */
export function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/** The copy's config: validation [from, to), fits before the run's own fit date, the rest as the run's. */
export function refitConfig(cfg: TrainerConfig, req: Pick<RefitRequest, 'from' | 'to' | 'out' | 'dataPath' | 'stride' | 'blendRule'>): TrainerConfig {
  const split = cfg.data.split;
  if (!('valStart' in split)) throw new ConfigError('--refit-from needs a run with a date split (data.split.valStart / testStart); this run splits by fractions', 'refit-from');
  if (!(req.to > req.from)) throw new ConfigError(`--refit-to ${iso(req.to)} is not after --refit-from ${iso(req.from)}`, 'refit-to');
  if (req.from < split.valStart) {
    throw new ConfigError(`--refit-from ${iso(req.from)} is before the run's validation start ${iso(split.valStart)}: the heads were trained on those bars, so their outputs there are in-sample`, 'refit-from');
  }
  if (cfg.data.end !== undefined && cfg.data.end < req.to && !req.dataPath) {
    throw new ConfigError(`the run keeps only candles before ${iso(cfg.data.end)} (data.end), before --refit-to ${iso(req.to)}`, 'refit-to');
  }
  const out = path.resolve(req.out);
  const { end: _end, ...data } = cfg.data;
  return {
    ...cfg,
    name: path.basename(out),
    out: path.dirname(out),
    data: {
      ...data,
      ...(req.dataPath ? { source: 'csv' as const, path: path.resolve(req.dataPath) } : {}),
      // candles after `to` stay readable: they are the copy's test split
      ...(cfg.data.end !== undefined && cfg.data.end >= req.to ? { end: cfg.data.end } : {}),
      split: { valStart: req.from, testStart: req.to, fitBefore: split.fitBefore ?? split.valStart },
    },
    ...(req.stride !== undefined ? { calibrateStride: req.stride } : {}),
    ...(req.blendRule !== undefined ? { blendRule: req.blendRule } : {}),
  };
}

/**
 * Throws a DataError unless every series with validation windows is normalised and labelled with the
 * model's own fits (the copy's dataset, rebuilt from the candles before the fit date, must equal the
 * artifact's): other candles before that date would silently change the model's inputs and labels.
 */
export function checkFitsMatch(model: TaskAgnosticModel, ds: MultiTaskDataset): void {
  const withRows = new Set(Array.from(ds.val.seriesIds ?? []));
  const problems: string[] = [];
  ds.series.forEach((s, k) => {
    if (!withRows.has(k)) return;
    const sym = s.symbol;
    const dsNorm = (ds.symbolNormalizers[sym] ?? ds.fittedNormalizer).toJSON();
    const modelNorm = (model.symbolNormalizers.get(sym) ?? model.normalizer).toJSON();
    const n = jsonDifference(modelNorm, dsNorm);
    if (n) problems.push(`${sym}: the normaliser differs (${n})`);
    const states = ds.symbolTaskStates[sym] ?? ds.taskStates;
    ds.taskIds.forEach((id, i) => {
      const mine = model.symbolTaskStates.get(sym)?.get(id) ?? model.taskStates.get(id);
      const d = jsonDifference(mine, states[i]);
      if (d) problems.push(`${sym}: task '${id}''s label fit differs (${d})`);
    });
  });
  if (problems.length > 0) {
    throw new DataError(
      `the candles before the fit date are not those the model was trained on, so the refit would change its inputs or labels: ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? `; and ${problems.length - 4} more` : ''}`,
    );
  }
}

/** Writes the refitted copy of `req.run` to `req.out` (see the file comment). */
export async function refitRun(req: RefitRequest, log: Log): Promise<RefitReport> {
  const src = path.resolve(req.run);
  const outDir = path.resolve(req.out);
  if (outDir === src) throw new ConfigError('--out is the run itself: the refit writes a copy, choose a new folder', 'out');
  await assertEmptyTarget(outDir, `--out ${outDir} exists and is not empty: choose a new folder for the refitted run`);
  const { paths: from, cfg } = await readRunConfig(src);
  const next = refitConfig(cfg, req);
  const to = runPaths(path.dirname(outDir), path.basename(outDir));
  const policy = req.policy !== false;
  await mkdir(outDir, { recursive: true });
  try {
    await cp(from.model, to.model, { recursive: true });
    for (const f of ['training.json', 'ensemble.json', ...(policy ? [] : ['decision-policy.json'])]) {
      if (existsSync(path.join(src, f))) await copyFile(path.join(src, f), path.join(outDir, f));
    }
    await writeFile(to.config, JSON.stringify(next, null, 2) + '\n');
    const split = next.data.split as { valStart: number; testStart: number; fitBefore: number };
    log(`refit: ${src} -> ${outDir}; layers refitted on ${iso(split.valStart)} .. ${iso(split.testStart)}, normalisers and label fits from the bars before ${iso(split.fitBefore)} (the run's)`);
    const run = await loadRun(outDir);
    try {
      const ds = run.result.dataset;
      checkFitsMatch(run.result.model, ds);
      if (ds.val.n === 0) throw new DataError(`no series has labelled windows in ${iso(split.valStart)} .. ${iso(split.testStart)} (after the purge gap of ${ds.purgeGap} bars): nothing to refit on`);
      const counts = new Map<number, number>();
      for (const s of ds.val.seriesIds ?? []) counts.set(s, (counts.get(s) ?? 0) + 1);
      const series = [...counts].sort((a, b) => a[0] - b[0]).map(([k, windows]) => ({ symbol: ds.series[k]!.symbol, windows }));
      log(`refit: ${ds.val.n} validation windows of ${series.length} series (${series.map((s) => `${s.symbol} ${s.windows}`).join(', ')})${next.calibrateStride !== undefined ? `; the layers are fitted on ${next.calibrateStride === 1 ? 'every window' : `every ${ordinal(next.calibrateStride)} window`} of the range` : ''}`);
      await recalibrateStep(run, { log }, { policy });
      const report: RefitReport = {
        from: src,
        refitFrom: new Date(split.valStart).toISOString(),
        refitTo: new Date(split.testStart).toISOString(),
        fitBefore: new Date(split.fitBefore).toISOString(),
        series,
        validationWindows: ds.val.n,
        fitStride: next.calibrateStride ?? validationStride(next),
        policy: policy ? 'refitted' : 'kept',
      };
      await writeFile(path.join(outDir, 'refit.json'), JSON.stringify(report, null, 2) + '\n');
      log(`refitted run written to ${outDir}`);
      return report;
    } finally {
      run.result.model.dispose();
    }
  } catch (err) {
    await rm(outDir, { recursive: true, force: true });
    throw err;
  }
}
