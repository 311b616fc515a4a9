/**
 * Run-folder safety. A run is written into a staging folder, `<out>/.<name>.partial/`, and renamed
 * to `<out>/<name>/` only when training and saving succeeded:
 * - a run that fails (bad data, a crash, kill -9) never deletes, overwrites or mixes with an
 *   existing run of that name; the old run stays as it was;
 * - retraining under an existing name replaces the old run when the new one is complete (the old
 *   folder is renamed aside, the new one renamed in, the old one removed), so the new run's folder
 *   holds nothing of the old one (no stale evaluation, backtest or report);
 * - a staging folder left by an interrupted run is resumed from its last checkpoint when the
 *   config and the data are the same (`resume.json` holds their fingerprint), and discarded, with
 *   a line saying so, when they are not.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hasCheckpoint } from '@task-agnostic/training';
import type { TrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';
import { runPaths, type RunPaths } from './run-paths.js';
import type { Log } from './train-run.js';

/** The staging folder of a run: hidden, next to where the run will be. */
export function stagingPaths(out: string, name: string): RunPaths {
  return runPaths(out, `.${name}.partial`);
}

const RESUME_FILE = 'resume.json';

/** What must be equal for a staging folder to be resumed: the resolved config and the candles themselves. */
export function runFingerprint(cfg: TrainerConfig, data: readonly SymbolData[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(cfg));
  for (const d of data) {
    h.update(`${d.symbol}|${d.interval}|${d.candles.length}|`);
    for (const col of [d.candles.tsMs, d.candles.open, d.candles.high, d.candles.low, d.candles.close, d.candles.volume]) h.update(new Uint8Array(col.buffer, col.byteOffset, col.byteLength));
  }
  return h.digest('hex');
}

export interface Staging {
  readonly paths: RunPaths;
  /** True when a checkpoint of the same config and data is there to resume from. */
  readonly resuming: boolean;
}

/** Opens the staging folder of a run: resumes a matching interrupted one, else starts it empty. */
export async function openStaging(cfg: TrainerConfig, data: readonly SymbolData[], log: Log): Promise<Staging> {
  const paths = stagingPaths(cfg.out, cfg.name);
  const fingerprint = runFingerprint(cfg, data);
  const file = path.join(paths.dir, RESUME_FILE);
  if (existsSync(paths.dir)) {
    let same = false;
    try {
      same = (JSON.parse(await readFile(file, 'utf8')) as { fingerprint?: unknown }).fingerprint === fingerprint;
    } catch {
      same = false;
    }
    if (same && hasCheckpoint(paths.checkpoints)) {
      log(`resuming the interrupted run in ${paths.dir} (same config and data) from its last checkpoint`);
      return { paths, resuming: true };
    }
    log(`discarding the interrupted run in ${paths.dir}: ${same ? 'it has no checkpoint yet' : 'its config or data differ from this run'}`);
    await rm(paths.dir, { recursive: true, force: true });
  }
  await mkdir(paths.dir, { recursive: true });
  await writeFile(file, JSON.stringify({ fingerprint, name: cfg.name, startedAt: new Date().toISOString() }) + '\n');
  return { paths, resuming: false };
}

/**
 * Moves a finished staging folder to its run's place. An existing run of that name is renamed to
 * `<out>/.<name>.replaced` first and removed after the new one is in place (a crash between the
 * two renames leaves the old run there, intact).
 */
export async function publishRun(staging: RunPaths, final: RunPaths, log: Log): Promise<void> {
  await rm(path.join(staging.dir, RESUME_FILE), { force: true });
  const aside = path.join(path.dirname(final.dir), `.${path.basename(final.dir)}.replaced`);
  await rm(aside, { recursive: true, force: true });
  const replacing = existsSync(final.dir);
  if (replacing) await rename(final.dir, aside);
  await rename(staging.dir, final.dir);
  if (replacing) {
    await rm(aside, { recursive: true, force: true });
    log(`replaced the earlier run in ${final.dir}`);
  }
}
