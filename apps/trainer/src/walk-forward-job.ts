/**
 * A walk-forward fold as an executor job (`trainer walk-forward --workers N | --queue URL`): the
 * worker loads the config's candles itself (runFold does, without `data`) and runs the fold, so
 * a fold crosses process and machine boundaries as plain JSON.
 */
import { parseTrainerConfig } from './config.js';
import type { Log } from './train-run.js';
import { runFold, type FoldRecord, type FoldSpan } from './walk-forward-fold.js';

export interface FoldPayload {
  readonly config: unknown;
  readonly span: FoldSpan;
  /** The walk-forward's key (it identifies the schedule in every fold record). */
  readonly key: string;
}

export async function runFoldJob(p: FoldPayload, progress: Log = () => {}): Promise<FoldRecord> {
  const cfg = parseTrainerConfig(p.config, `fold ${p.span.index + 1} config`);
  return runFold(cfg, p.span, { key: p.key, log: progress, progress: false });
}
