import path from 'node:path';

/** Where a run writes its files: <out>/<name>/... */
export interface RunPaths {
  readonly dir: string;
  /** The model artifact folder. */
  readonly model: string;
  /** The resolved config the run used (so evaluate/backtest/report can rebuild its data). */
  readonly config: string;
  /** One JSON line per epoch (training's log). */
  readonly history: string;
  readonly checkpoints: string;
  /** Training summary: dataset, history, test metrics with baselines. */
  readonly training: string;
  readonly evaluation: string;
  /** Each head's calibration fitted on validation, with the test split scored before and after. */
  readonly calibration: string;
  /** The decision policy fit: thresholds, objective and validation scores of both fusions. */
  readonly policy: string;
  readonly backtestJson: string;
  readonly backtestHtml: string;
  readonly report: string;
}

export function runPaths(outDir: string, name: string): RunPaths {
  const dir = path.resolve(outDir, name);
  return {
    dir,
    model: path.join(dir, 'model'),
    config: path.join(dir, 'config.json'),
    history: path.join(dir, 'training.jsonl'),
    checkpoints: path.join(dir, 'checkpoints'),
    training: path.join(dir, 'training.json'),
    evaluation: path.join(dir, 'evaluation.json'),
    calibration: path.join(dir, 'calibration.json'),
    policy: path.join(dir, 'decision-policy.json'),
    backtestJson: path.join(dir, 'backtest.json'),
    backtestHtml: path.join(dir, 'backtest.html'),
    report: path.join(dir, 'report.html'),
  };
}
