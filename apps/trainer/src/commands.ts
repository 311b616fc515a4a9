import { parseArgs, type ParseArgsConfig } from 'node:util';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, DataError, INTERVALS, isInterval, isTaError, packageVersion, type Interval } from '@task-agnostic/core';
import { initBackend } from '@task-agnostic/tf';
import { parseTrainingConfig } from '@task-agnostic/training';
import { describeSymbols, resolveConfig, runNameSchema, PRESETS, type TrainerConfig, type TrainerConfigInput } from './config.js';
import { fetchCandles } from './fetch-run.js';
import { fmt, pct, textTable } from './format.js';
import { backtestStep, evaluateStep, readJson, recalibrateStep, refitTiltStep, reportStep, saveBacktestSummaries, trainStep, type TrainedRun } from './pipeline.js';
import { refitRun } from './refit-run.js';
import { loadRun } from './load-run.js';
import { runOosBacktest, runOosEvaluate, type OosRequest } from './oos-run.js';
import { parsePeriod, runWalkForward } from './walk-forward.js';
import type { Evaluation } from './evaluate-run.js';
import { compareOnWindows, fmtInterval, type MetricSource } from './intervals.js';
import { jsonSafe, type Log } from './train-run.js';
import { assertOtherFolder, openAgainst, type AgainstRun } from './against.js';
import { compareDeployed, compareOnValidation, printDeployedComparison, printValidationComparison } from './compare-validation.js';
import { evaluateLeaveSymbolsOut, printLso, readTrainingBudget, stepsToMatch } from './lso.js';
import { loadRunDataset, loadRunModel, readRunConfig } from './load-run.js';
import { assertEmptyTarget, buildEnsembleRun, ensembleBudgetFromMembers } from './ensemble-run.js';
import { writeFile } from 'node:fs/promises';
import { EXECUTOR_FLAGS, cmdSweep, cmdWorker, executorFromFlags } from './sweep-commands.js';

const out: Log = (l) => process.stdout.write(l + '\n');

export const HELP: Record<string, string> = {
  '': `trainer: build, evaluate and backtest task-agnostic trading models

Usage: trainer <command> [options]      (trainer <command> --help for details)

Commands:
  main       the main job: train (quick preset, synthetic market), evaluate, backtest, report
  fetch      download candles from Bybit (or a Bybit-compatible URL) into CSV files, resumable
  train      features -> (pre-training) -> multi-task training -> a model artifact
  evaluate   every task vs its naive baseline and a single-task model; transfer; consistency
  backtest   model -> fusion -> risk -> backtest over the test range, with HTML/JSON reports
  calibrate  refit a saved run's head calibration and decision policy on its validation split, or a copy's on later bars
  ensemble   a seed ensemble run folder from runs of one config (seeds apart), calibrated on validation
  report     one HTML page: training curves, evaluation tables, confusion matrices, backtests
  walk-forward  retrain per fold, test on the next period; stitched out-of-sample metrics with intervals
  lso        leave-symbols-out: the frozen model on held-out symbols vs baselines and single-symbol models
  compare    two trained runs on the validation split only, paired per task with 95% intervals
  sweep      hyperparameter search (random or TPE) in local worker processes or on a BullMQ queue
  worker     take sweep trials and walk-forward folds from a BullMQ queue (Redis) and run them

Examples:
  trainer main
  trainer fetch --symbols BTCUSDT,ETHUSDT --interval 1h --since 2022-01-01 --out data/
  trainer train --config default --data data/ --symbols BTCUSDT,ETHUSDT --name btc-eth
  trainer evaluate runs/btc-eth
  trainer backtest runs/btc-eth --fusion weighted
  trainer report runs/btc-eth

Presets: ${Object.keys(PRESETS).join(', ')}. Backend: TAT_BACKEND=node|wasm|cpu.
`,
  main: `trainer main [--name quick] [--out runs] [--seed 42] [--skip-evaluate]

Runs the quick preset end to end on the built-in synthetic market (no network, no files):
train, evaluate, backtest, and write runs/<name>/report.html.

Example:
  trainer main --seed 7
`,
  fetch: `trainer fetch --symbols BTCUSDT[,ETHUSDT...] --interval 1h --since 2022-01-01 [--until 2025-01-01]
               [--out data/] [--base-url URL | --testnet | --demo]

Downloads closed candles into <out>/bybit_<SYMBOL>_<interval>.csv with paging, a progress bar, and
resume: re-running continues after the last row in the file. --base-url points at any
Bybit-compatible server (e.g. the local simulator of @task-agnostic/bybit/testing).

Example:
  trainer fetch --symbols BTCUSDT,ETHUSDT --interval 1h --since 2022-01-01 --out data/
`,
  train: `trainer train [--config <file|preset>] [--data <csv|dir> | --synthetic] [--symbols A,B] [--interval 1h]
               [--exchange bybit] [--val-start DATE --test-start DATE [--val-blocks FROM..TO,...]] [--epochs N] [--seed N]
               [--name NAME] [--out runs] [--thresholds fitted|seed] [--workers N] [--no-progress]
               [--seeds 42,7,1234] [--no-policy]

Trains a multi-task model, calibrates every head on the validation split, fits both fusions'
thresholds there (net Sharpe after fees and slippage, with a minimum of round trips per day;
--thresholds seed keeps the source design's numbers) and writes runs/<name>/: model/ (the
artifact, calibration and decision policy inside), config.json, training.jsonl (one line per
epoch), training.json (summary, test metrics beside baselines), calibration.json (test ECE/Brier
before and after), decision-policy.json (the fit).
Before training it prints each classification task's class mix on the training and validation
windows (training.json and the report add the test windows') and warns when validation's is more
than 0.1 (total variation) from training's pooled, or 0.25 on average per series: everything fitted
on validation is then tuned for another mix.
--val-blocks 2021-01-01..2021-02-01,2022-01-01..2022-02-01 (with --val-start/--test-start) also validates on those
months of the training range, taken out of training with a purge gap on both sides (config data.split.valBlocks).
--config takes a preset (${Object.keys(PRESETS).join(', ')}) or a JSON file (which may say "extends": "quick").
The run is written to <out>/.<name>.partial/ and renamed to <out>/<name>/ when complete (replacing
an earlier run of that name only then); rerun the same command after an interruption to resume
from the last checkpoint.
--workers N trains data-parallel on N threads (the main thread + N-1 workers, each its own engine on
a slice of every batch; default: the core count; 1 = one thread; more than the cores is clamped).
--seeds A,B[,...] trains one run per seed (<out>/<name>-s<seed>/, everything else equal) and then
the seed ensemble of them as <out>/<name>/ (what \`trainer ensemble\` builds; see its --help).
A config's "seeds" does the same (the universal preset's: 42, 7, 1234); --seed N trains one run instead.
The members of a seed ensemble fit no decision policy (the ensemble fits its own on its outputs);
--no-policy does the same for one run, e.g. a member added later with \`trainer ensemble\`
(\`trainer calibrate <run>\` fits one afterwards).

Examples:
  trainer train --config quick --synthetic
  trainer train --config default --data ../shared/data/candles --exchange bybit \\
      --symbols BTCUSDT,ETHUSDT,SOLUSDT --val-start 2024-10-01 --test-start 2025-01-01 --name real
`,
  evaluate: `trainer evaluate <run-dir> [--single-task | --no-single-task] [--no-transfer]
trainer evaluate <run-dir> --data <csv|dir> [--symbols A,B] [--from DATE] [--to DATE] [--exchange bybit] [--against <run-dir>]

Per-task test metrics beside each task's naive baselines and a single-task model trained with the
same encoder and budget (does sharing help?); transfer (frozen encoder + new head vs from scratch);
the consistency score of the fused decisions; representation quality. Every comparison has a 95%
stationary-block-bootstrap interval and a verdict: "better (95% CI excludes 0)", "no significant
difference", "worse", or "too few to judge" (< 30 windows). Writes evaluation.json.

--single-task / --no-single-task override the run config's evaluate.singleTask (the universal
preset's is off: five more trainings). On a seed ensemble (trainer ensemble, train --seeds) the
single-task side is an ensemble of the same seeds per task, refitted on its own validation outputs
as the multi-task ensemble was: equal budget, one interval over the pooled test windows.

Out of sample (any of --data, --symbols, --from, --to): the saved artifact as it is (normaliser,
label thresholds, calibration; nothing refitted) on other candles, e.g. newer ones or a symbol the
model never saw. Bars before --from are feature warm-up only; --to is exclusive. Forecast tasks add
Diebold-Mariano (HLN). Writes <run-dir>/oos/<symbols>_<from>_<to>/evaluation.json.
--against <other-run> (out of sample only): the other run's artifact (a single run or a seed
ensemble; same tasks and label settings) as saved on the same candles, compared on the windows both
scored (aligned on timestamps: a longer feature warm-up starts later) with the run's labels: per
symbol and task n, each run's metric and run - other with a paired 95% interval and verdict; pooled
over symbols (> 0 favours the run). Saved as evaluation.json's 'against'.

Examples:
  trainer evaluate runs/quick
  trainer evaluate runs/real --data data/ --symbols BTCUSDT --from 2025-06-01
  trainer evaluate runs/new --data data/ --symbols BTCUSDT,ETHUSDT --from 2025-06-01 --against runs/real
`,
  backtest: `trainer backtest <run-dir> [--fusion consistency|weighted] [--thresholds fitted|seed]
trainer backtest <run-dir> --data <csv|dir> [--symbols A,B] [--from DATE] [--to DATE] [--exchange bybit]

Model -> fusion -> seven-layer risk gate -> the backtest engine over each symbol's test range,
with the thresholds the model's decision policy fitted on validation (--thresholds seed: the
source design's). Sharpe ratios come with their 95% interval (Lo 2002, Newey-West) and the number
of trades, and the strategy - buy & hold Sharpe difference with a paired block-bootstrap interval
and verdict.
Writes backtest.html (first symbol), backtest-<SYMBOL>.html (others) and backtest.json.
Out of sample (as for evaluate): writes <run-dir>/oos/<symbols>_<from>_<to>/backtest-<SYMBOL>.html and backtest.json.

Examples:
  trainer backtest runs/quick --fusion weighted
  trainer backtest runs/real --data data/ --symbols SOLUSDT --from 2025-06-01 --to 2025-09-01
`,
  'walk-forward': `trainer walk-forward [--config <file|preset>] --folds N --test-length 3mo [--retrain expanding|rolling]
               [--data <csv|dir>] [--symbols A,B] [--exchange bybit] [--from DATE] [--to DATE]
               [--epochs N] [--seed N] [--name NAME] [--out runs] [--no-progress]
               [--workers N | --queue redis://host:6379 [--queue-name tat-trainer] [--shared DIR]]

N test periods of the given length (3mo, 6w, 30d, 12h, 1y) ending at the data's end (--from/--to cut
the data first). For each fold a model is trained on the bars before its test period only (expanding:
from the data's start; rolling: the first fold's training length, moved forward; early stopping,
calibration and the decision thresholds on its own validation split) and applied as saved to the test
period: per-task metrics beside the naive baselines, and the model's strategy beside buy-and-hold,
vol-targeted buy-and-hold and time-series momentum (same engine, fees, slippage). Per fold and
stitched (the folds' returns chained): every Sharpe with its 95% interval and trades, the model's
Sharpe minus each naive one with a paired 95% interval and a verdict, and the model's Sharpe deflated
for the threshold candidates tried. Progress per fold; a killed run resumes after its last finished fold.
--workers N runs the folds in N local worker processes at once; --queue puts them on a BullMQ queue
for 'trainer worker' processes on any machine (see trainer sweep --help); without either, one after
another in this process.
Writes <out>/<name>/walk-forward/folds.jsonl (one line per fold), summary.json and report.html.

Example:
  trainer walk-forward --config default --data ../shared/data/candles --exchange bybit --symbols BTCUSDT \\
      --from 2021-01-01 --to 2025-10-01 --folds 11 --test-length 3mo --retrain expanding --name wf-btc
`,
  lso: `trainer lso <run-dir> [--no-alone] [--alone-epochs N|match] [--alone-stride N] [--retrain-alone]
              [--symbols A,B] [--resamples N] [--against <run-dir>]

Leave-symbols-out evaluation of a run trained with held-out symbols (config data.holdout, e.g. the
universal preset or train --holdout A,B). Each held-out symbol, never seen in training, is scaled
by a normaliser fitted on its own training range (the artifact's fallback for unseen symbols) and
labelled with task states fitted there; on its test range the frozen encoder and heads are
scored beside each task's naive baselines and beside a model of the same config trained on that
symbol alone (--no-alone skips it), with paired block-bootstrap 95% intervals. Writes lso.json.
--alone-epochs match caps each alone model at the epochs that give it about the universal run's
optimiser steps (read from its training.json); early stopping on its own validation rows still
applies. On a seed ensemble (trainer ensemble, train --seeds) the universal budget printed is the
SUM of its members' steps, and match gives the alone model ONE member's: their mean. The budgets
(windows, epochs, steps, CPU seconds) are printed and saved.
Each alone model is saved in <run-dir>/alone/<SYMBOL>/ and reused by the next lso with the same
--alone-stride and epoch cap (an error names the difference otherwise; --retrain-alone replaces it).
--symbols evaluates some of the held-out symbols only (written to lso-<SYMBOLS>.json), e.g. to train
the alone models in several processes; a later lso over all of them reuses the saved models.
--against <other-run>: the other run's model (a single run or a seed ensemble; same tasks and label
settings; its own features and a normaliser fitted on each symbol's history) on the same test rows
(aligned on timestamps; only rows both scored) and labels: per symbol and task n, each run's metric
and run - other [95%] (> 0 favours the run; for a loss, other - run), and pooled per task. Saved as
lso.json's 'against'; combines with --no-alone.

Examples:
  trainer train --config universal --name universal && trainer lso runs/universal --alone-epochs match
  trainer lso runs/ufeat --no-alone --against runs/uens
`,
  compare: `trainer compare <run-dir> --against <other-run> [--from DATE] [--to DATE]

Two trained runs (single runs or seed ensembles, any feature sets; the same data, split, tasks and
label settings) on the VALIDATION split only, to choose between them without reading a test row:
each run's raw heads on its own validation windows, paired on the windows both have (same series and
last bar) and judged on the run's labels. Per task: each run's metric and run - other with a 95%
stationary block-bootstrap interval and a verdict (for mse, < 0 favours the run). --from / --to keep
the windows whose last bar is in [from, to), e.g. the later half of the validation range (the months
nearest deployment). A second table shows what each run deploys per task (its calibration.json: a
chosen head fusion, else the blend candidate its blendRule chose) and that layer's out-of-fold score
on its validation rows, pooled and as the mean of its fold scores (no interval). Writes <run-dir>/compare-<other-run's folder name>.json.

Examples:
  trainer compare runs/ufeat --against runs/uens
  trainer compare runs/ufeat --against runs/uens --from 2023-09-01
`,
  calibrate: `trainer calibrate <run-dir> [--thresholds fitted|seed] [--tilt-only] [--no-policy] [--blend-rule oneSe|best]
trainer calibrate <run-dir> --refit-from DATE --refit-to DATE --out <dir> [--data <csv|dir>] [--stride n] [--no-policy] [--blend-rule oneSe|best]

Refits a saved run's head calibration, baseline blends, head fusions (risk, regime) and decision policy on its validation split
(e.g. an artifact written before calibration existed) and saves them into its model artifact.
--tilt-only refits only the tilt policy (with its turnover control and the per-symbol GARCH fits
the trader needs to run it: \`trader paper --policy tilt\`), keeping calibration and thresholds.
--no-policy refits the heads' calibration, blends and fusions only and keeps the saved decision policy.
--blend-rule oneSe|best chooses each task's deployed layer (head alone, baseline, blends, fusions) by the
one-standard-error rule or by the best mean fold score (the universal preset's), and records it in the
run's config.json (default: the config's blendRule).
The run config's classMix ('validation' by default) decides, per classification task, whether those layers
are fitted for the validation rows' class mix or, reweighted, for the training rows' (the log says which).

Refit on recent bars (--refit-from / --refit-to / --out): a copy of the run in --out whose layers
(calibration, blends, fusions and, unless --no-policy, the decision policy) are refitted on the
labelled windows of [--refit-from, --refit-to) of every series with bars there; the encoder, heads,
normalisers and label fits stay the model's (rebuilt from the bars before the run's validation start
and checked equal to the artifact's). The copy's test split starts at --refit-to. --refit-from may not
be before the run's validation start (the heads trained on those bars). --data: newer candles holding
the same history; --stride n: fit on every n-th window of the range. The run itself is not changed.

Examples:
  trainer calibrate runs/btc-eth
  trainer calibrate runs/btc-eth --tilt-only
  trainer calibrate runs/universal --refit-from 2024-07-01 --refit-to 2025-01-01 --out runs/universal-2025 --no-policy
`,
  ensemble: `trainer ensemble <run-dir> <run-dir> [<run-dir>...] --out <dir> [--no-policy | --no-calibrate]

Builds a seed ensemble run folder from trained runs of the same config apart from the seed (their
data, model, training, pretrain and curriculum sections must be equal; features, normalisers and
task states too: an error names what differs). Each member keeps its encoder and heads; the
ensemble's answer per task combines the members' raw outputs: softmax heads by the mean member
probability, one-logit heads likewise, Gaussian (mean, log-std) heads as the mixture, point
regressions (volatility) by the mean. <dir> gets member 0's config.json, the ensemble's model/ (one
artifact, every member's weights) and ensemble.json (members, combination rules, and every
member's and the ensemble's raw heads scored on the validation rows); then the calibration, baseline
blends, head fusions and decision policy are refitted on the ensemble's validation outputs, as
\`trainer calibrate\` does (--no-policy: all but the decision policy, whose threshold search takes the
longest, so the fusions use the seed thresholds; --no-calibrate skips all of it). lso, evaluate, backtest and the trader's
paper mode then work on <dir> as on any run. Inference costs about one member's time per member.

Example:
  trainer ensemble runs/u-s42 runs/u-s7 runs/u-s1234 --out runs/u-ens3
  trainer lso runs/u-ens3 --no-alone
`,
  report: `trainer report <run-dir>

Writes <run-dir>/report.html from what the run folder holds: training curves (per-task losses and
weights), evaluation tables, confusion matrices and the backtests.

Example:
  trainer report runs/quick
`,
};

type Flags = Record<string, string | boolean | undefined>;

/** Commands that take a run folder (one positional); the others take none. */
const RUN_DIR_COMMANDS = new Set(['evaluate', 'backtest', 'calibrate', 'report', 'lso', 'compare']);

function parse(args: readonly string[], options: ParseArgsConfig['options'], command: string): { values: Flags; positionals: string[] } {
  let r: { values: Flags; positionals: string[] };
  try {
    const p = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    r = { values: p.values as Flags, positionals: p.positionals };
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${HELP[command]}`, 'arguments');
  }
  const allowed = command === 'ensemble' ? Number.POSITIVE_INFINITY : RUN_DIR_COMMANDS.has(command) ? 1 : 0;
  if (!r.values.help && r.positionals.length > allowed) {
    const extra = r.positionals.slice(allowed).map((x) => `'${x}'`).join(', ');
    throw new ConfigError(`unexpected argument${r.positionals.length - allowed > 1 ? 's' : ''} ${extra} (trainer ${command} takes ${allowed ? 'one run folder' : 'only --flags'})\n\n${HELP[command]}`, 'arguments');
  }
  return r;
}

/** --interval: one of the intervals, blamed on the flag (not on the config file it overrides). */
function intervalFlag(s: string | undefined): Interval | undefined {
  if (s === undefined) return undefined;
  if (!isInterval(s)) throw new ConfigError(`--interval '${s}' is not an interval: use one of ${INTERVALS.join(', ')}`, 'interval');
  return s;
}

/** --name: one plain folder name under --out. */
function nameFlag(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const r = runNameSchema.safeParse(s);
  if (!r.success) throw new ConfigError(`--name '${s}' is not a run name: ${r.error.issues[0]?.message ?? 'invalid'}`, 'name');
  return s;
}

function dateMs(s: string | undefined, flag: string): number | undefined {
  if (s === undefined) return undefined;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new ConfigError(`--${flag} '${s}' is not a date such as 2024-01-01`, flag);
  return ms;
}

/** --val-blocks FROM..TO[,FROM..TO...]: validation blocks as dates (order and overlap are checked by the config). */
function valBlocksFlag(s: string | undefined): { from: number; to: number }[] | undefined {
  if (s === undefined) return undefined;
  return s.split(',').map((part) => {
    const m = /^\s*([^.\s]+)\.\.([^.\s]+)\s*$/.exec(part);
    if (!m) throw new ConfigError(`--val-blocks: '${part}' is not FROM..TO, e.g. 2021-01-01..2021-02-01`, 'val-blocks');
    return { from: dateMs(m[1], 'val-blocks')!, to: dateMs(m[2], 'val-blocks')! };
  });
}

function intFlag(s: string | undefined, flag: string, min = 0): number | undefined {
  if (s === undefined) return undefined;
  const v = Number(s);
  if (s.trim() === '' || !Number.isInteger(v) || v < min) throw new ConfigError(`--${flag} must be ${min === 0 ? 'a non-negative integer' : `an integer >= ${min}`}, got '${s}'`, flag);
  return v;
}

function thresholdsFlag(s: string | undefined): 'fitted' | 'seed' | undefined {
  if (s === undefined) return undefined;
  if (s !== 'fitted' && s !== 'seed') throw new ConfigError(`--thresholds must be fitted or seed, got '${s}'`, 'thresholds');
  return s;
}

function symbolsFlag(s: string | undefined): string[] | undefined {
  return s === undefined ? undefined : s.split(',').map((x) => x.trim().toUpperCase()).filter(Boolean);
}

/** --data: a CSV file, a folder, or several CSV files separated by commas. */
function dataPathFlag(s: string): string {
  return s.split(',').map((x) => path.resolve(x.trim())).join(',');
}

/** --symbols: a list, or 'all' (every symbol with a file of the interval in the data folder). */
function symbolsOrAll(s: string | undefined): string[] | 'all' | undefined {
  return s !== undefined && s.trim().toLowerCase() === 'all' ? 'all' : symbolsFlag(s);
}

export function printTrainSummary(run: TrainedRun, log: Log): void {
  const rows: string[][] = [['task', 'metric', 'model [95% CI]', 'best baseline [95% CI]', 'model - baseline [95% CI]', 'verdict']];
  let windows = 0;
  for (const [id, t] of Object.entries(run.result.test)) {
    const first = Object.values(t.bySeries)[0];
    const task = run.result.model.tasks.find((x) => x.id === id) as unknown as MetricSource | undefined;
    if (!first || !task) continue;
    const metric = 'accuracy' in first.metrics ? 'macroF1' : 'mse';
    const higher = metric === 'macroF1';
    let best: { name: string; v: number; outputs?: Float32Array } | null = null;
    for (const b of first.baselines) {
      const v = b.metrics[metric];
      if (v !== undefined && Number.isFinite(v) && (!best || (higher ? v > best.v : v < best.v))) best = { name: b.name, v, ...(b.outputs ? { outputs: b.outputs } : {}) };
    }
    const w = first as { outputs?: Float32Array; targets?: Float32Array; rows?: readonly number[] };
    const iv = best?.outputs && w.outputs && w.targets && w.rows ? compareOnWindows(task, metric, higher, w.outputs, best.outputs, w.targets, w.rows.length, { seed: run.cfg.seed }) : null;
    windows = w.rows?.length ?? windows;
    rows.push([id, metric, iv ? fmtInterval(iv.model) : fmt(first.metrics[metric]), best ? `${iv ? fmtInterval(iv.other) : fmt(best.v)} (${best.name})` : '-', iv ? fmtInterval(iv.diff) : '-', iv ? iv.verdictText : 'n/a']);
  }
  log(`\ntest metrics (${Object.keys(Object.values(run.result.test)[0]?.bySeries ?? {})[0] ?? ''}, ${windows} test windows; 95% block-bootstrap intervals):\n${textTable(rows)}`);
}

export function printEvaluation(ev: Evaluation, log: Log): void {
  const rows: string[][] = [['task', 'symbol', 'metric', 'windows', 'model [95% CI]', 'best baseline [95% CI]', 'model - baseline [95% CI]', 'verdict']];
  for (const t of ev.tasks) {
    for (const [sym, b] of Object.entries(t.bySymbol)) {
      const iv = b.vsBaselineInterval;
      rows.push([
        t.task,
        sym,
        t.metric,
        iv ? String(iv.n) : '-',
        iv ? fmtInterval(iv.model) : fmt(b.model[t.metric]),
        b.bestBaseline ? `${iv ? fmtInterval(iv.other) : fmt(b.bestBaseline.value)} (${b.bestBaseline.name})` : '-',
        iv ? fmtInterval(iv.diff) : '-',
        b.vsBaseline,
      ]);
    }
  }
  const shared: string[][] = [['task', 'metric', 'beats best baseline (significantly)', 'multi-task (pooled) [95% CI]', 'single-task (pooled) [95% CI]', 'multi - single [95% CI]', 'sharing']];
  for (const t of ev.tasks) {
    const iv = t.vsSingleTaskInterval;
    shared.push([
      t.task,
      t.metric,
      `${t.beatsBaselineOn}/${t.symbols} symbols`,
      iv ? fmtInterval(iv.model) : fmt(t.multiTask[t.metric]),
      iv ? fmtInterval(iv.other) : fmt(t.singleTask?.[t.metric]),
      iv ? fmtInterval(iv.diff) : '-',
      t.vsSingleTask,
    ]);
  }
  log(`\nevaluation (${ev.testSamples} test windows), each symbol against each task's best naive baseline on the same windows (95% stationary-block-bootstrap intervals; 'better' only when the interval of the difference excludes 0):\n${textTable(rows)}`);
  const ens = ev.singleTaskSeeds && ev.singleTaskSeeds.length > 1 ? `seed ensembles (seeds ${ev.singleTaskSeeds.join(', ')}) against single-task ensembles of the same seeds, each` : 'the multi-task model against single-task models';
  log(`\ndoes sharing help? ${ens} with the same encoder and budget, on the same pooled windows:\n${textTable(shared)}`);
  if (ev.transfer) {
    const t = ev.transfer;
    const cost = t.compute ? `; quality ${t.qualityRatio !== undefined ? pct(t.qualityRatio) : '-'} of from scratch at ${pct(t.compute.ratio)} of its CPU time (${t.compute.frozenCpuSeconds.toFixed(0)} s vs ${t.compute.scratchCpuSeconds.toFixed(0)} s)` : '';
    log(`transfer '${t.task}': ${t.metric} frozen encoder ${fmt(t.frozenEncoder[t.metric])} vs from scratch ${fmt(t.fromScratch[t.metric])}${cost} (${t.note})`);
    const v = t.vsScratch;
    if (v) log(`  raw outputs on the same ${v.n} test windows: frozen ${fmtInterval(v.model)} vs from scratch ${fmtInterval(v.other)}; frozen - scratch ${fmtInterval(v.diff)}: ${v.verdictText}`);
  }
  log(`consistency (${ev.consistency.fusion}): ${pct(ev.consistency.score)} of decisions agree; mean agreement ${fmt(ev.consistency.meanAgreement, 3)}`);
  if (ev.representation) {
    const r = ev.representation;
    const d = r.ratioDiff ? `; difference ${fmt(r.ratioDiff.value)} [95% ${fmt(r.ratioDiff.lo)}, ${fmt(r.ratioDiff.hi)}]: ${r.ratioDiff.verdict}` : '';
    log(`representation (${r.labels} classes): inter/intra ratio ${fmt(r.trained.ratio)} trained vs ${fmt(r.untrained.ratio)} untrained${d}`);
  }
  if (ev.regimeTruth) {
    const g = ev.regimeTruth;
    const per = Object.entries(g.bySymbol).map(([s, b]) => `${s} ${pct(b.accuracy)}`).join(', ');
    log(
      `regime head vs the generator's TRUE regimes (forward ${g.horizon} bars, ${g.n} test windows, ${g.spells} regime spells): ${pct(g.accuracy)} ` +
        `(95% block bootstrap ${g.blockInterval ? `${pct(g.blockInterval.lo)}-${pct(g.blockInterval.hi)}` : 'n/a'}; Wilson ${pct(g.interval[0])}-${pct(g.interval[1])} treats windows as independent); ${per}; vs the regime in force at t ${pct(g.accuracyNow)}`,
    );
    if (g.oracleAccuracy !== undefined) {
      log(`  oracle (the generator's own causal filter, same windows and truth): ${pct(g.oracleAccuracy)}; ${Object.entries(g.bySymbol).map(([s, b]) => `${s} ${b.oracleAccuracy !== undefined ? pct(b.oracleAccuracy) : 'n/a'}`).join(', ')}`);
    }
  }
}

async function cmdMain(args: readonly string[]): Promise<number> {
  const { values } = parse(args, { name: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, 'skip-evaluate': { type: 'boolean' }, 'no-progress': { type: 'boolean' } }, 'main');
  if (values.help) return help('main');
  const overrides: TrainerConfigInput = {
    ...(values.name !== undefined ? { name: nameFlag(values.name as string)! } : {}),
    ...(values.out ? { out: values.out as string } : {}),
    ...(values.seed !== undefined ? { seed: intFlag(values.seed as string, 'seed')! } : {}),
  };
  const cfg = resolveConfig('quick', overrides);
  const started = Date.now();
  const backend = await initBackend();
  out(`main job: preset quick on the synthetic market (${describeSymbols(cfg.data)}, ${cfg.data.bars} bars each), backend ${backend.name}`);
  const progress = !values['no-progress'];
  const run = await trainStep(cfg, { log: out, progress });
  printTrainSummary(run, out);
  if (!values['skip-evaluate']) printEvaluation(await evaluateStep(run, { log: out }), out);
  const summaries = await backtestStep(run, { log: out });
  await saveBacktestSummaries(run.paths, summaries);
  const report = await reportStep(run.paths.dir, { log: out, backtests: summaries });
  out(`\ndone in ${((Date.now() - started) / 1000).toFixed(0)} s. Report: ${report}`);
  run.result.model.dispose();
  return 0;
}

async function cmdFetch(args: readonly string[]): Promise<number> {
  const { values } = parse(
    args,
    { symbols: { type: 'string' }, interval: { type: 'string', default: '1h' }, since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string', default: 'data' }, 'base-url': { type: 'string' }, testnet: { type: 'boolean' }, demo: { type: 'boolean' }, 'no-progress': { type: 'boolean' } },
    'fetch',
  );
  if (values.help) return help('fetch');
  const symbols = symbolsFlag(values.symbols as string | undefined);
  if (!symbols?.length) throw new ConfigError(`--symbols is required, e.g. --symbols BTCUSDT,ETHUSDT\n\n${HELP.fetch}`, 'symbols');
  const sinceMs = dateMs(values.since as string | undefined, 'since');
  if (sinceMs === undefined) throw new ConfigError(`--since is required, e.g. --since 2022-01-01\n\n${HELP.fetch}`, 'since');
  if (values.testnet && values.demo) throw new ConfigError('choose one of --testnet and --demo', 'mode');
  await fetchCandles({
    symbols,
    interval: intervalFlag(values.interval as string)!,
    sinceMs,
    untilMs: dateMs(values.until as string | undefined, 'until') ?? Date.now(),
    outDir: values.out as string,
    ...(values['base-url'] ? { baseUrl: values['base-url'] as string } : {}),
    mode: values.testnet ? 'testnet' : values.demo ? 'demo' : 'mainnet',
    progress: !values['no-progress'],
    log: out,
  });
  return 0;
}

async function cmdTrain(args: readonly string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      config: { type: 'string' }, data: { type: 'string' }, synthetic: { type: 'boolean' }, symbols: { type: 'string' }, interval: { type: 'string' },
      exchange: { type: 'string' }, 'val-start': { type: 'string' }, 'test-start': { type: 'string' }, epochs: { type: 'string' }, seed: { type: 'string' },
      name: { type: 'string' }, out: { type: 'string' }, 'no-progress': { type: 'boolean' }, holdout: { type: 'string' }, thresholds: { type: 'string' }, workers: { type: 'string' },
      seeds: { type: 'string' }, 'no-policy': { type: 'boolean' }, 'val-blocks': { type: 'string' },
    },
    'train',
  );
  if (values.help) return help('train');
  if (values.data && values.synthetic) throw new ConfigError('choose one of --data and --synthetic', 'data');
  if (Boolean(values['val-start']) !== Boolean(values['test-start'])) throw new ConfigError('--val-start and --test-start go together', 'split');
  const valStart = dateMs(values['val-start'] as string | undefined, 'val-start');
  const testStart = dateMs(values['test-start'] as string | undefined, 'test-start');
  if (valStart !== undefined && testStart !== undefined && testStart <= valStart) throw new ConfigError(`--test-start ${values['test-start']} is not after --val-start ${values['val-start']}`, 'test-start');
  const valBlocks = valBlocksFlag(values['val-blocks'] as string | undefined);
  if (valBlocks && valStart === undefined) throw new ConfigError('--val-blocks needs --val-start and --test-start', 'val-blocks');
  const interval = intervalFlag(values.interval as string | undefined);
  const name = nameFlag(values.name as string | undefined);
  const symbols = symbolsOrAll(values.symbols as string | undefined);
  const holdout = symbolsFlag(values.holdout as string | undefined);
  const epochs = intFlag(values.epochs as string | undefined, 'epochs', 1);
  const thresholds = thresholdsFlag(values.thresholds as string | undefined);
  if (thresholds && values['no-policy']) throw new ConfigError('choose one of --thresholds and --no-policy', 'no-policy');
  const workers = intFlag(values.workers as string | undefined, 'workers');
  if (workers === 0) throw new ConfigError('--workers must be 1 or more (1 = one thread; default: the core count)', 'workers');
  const data: Record<string, unknown> = {
    ...(values.data ? { source: 'csv', path: dataPathFlag(values.data as string) } : {}),
    ...(values.synthetic ? { source: 'synthetic' } : {}),
    ...(symbols ? { symbols } : {}),
    ...(holdout ? { holdout } : {}),
    ...(interval ? { interval } : {}),
    ...(values.exchange ? { exchange: values.exchange } : {}),
    ...(valStart !== undefined && testStart !== undefined ? { split: { valStart, testStart, ...(valBlocks ? { valBlocks } : {}) } } : {}),
  };
  const overrides = {
    ...(Object.keys(data).length ? { data } : {}),
    ...(epochs !== undefined || workers !== undefined ? { training: { ...(epochs !== undefined ? { epochs } : {}), ...(workers !== undefined ? { workers } : {}) } } : {}),
    ...(values.seed !== undefined ? { seed: intFlag(values.seed as string, 'seed') } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(values.out ? { out: values.out } : {}),
    ...(thresholds ? { policy: { thresholds } } : {}),
  } as TrainerConfigInput;
  const flagSeeds = seedsFlag(values.seeds as string | undefined);
  if (flagSeeds && values.seed !== undefined) throw new ConfigError('choose one of --seed and --seeds', 'seeds');
  const cfg: TrainerConfig = resolveConfig(values.config as string | undefined, overrides);
  // the config's seed ensemble unless the command line names one seed (--seed) or other seeds (--seeds)
  const seeds = flagSeeds ?? (values.seed === undefined ? cfg.seeds : undefined);
  if (seeds && values['no-policy']) throw new ConfigError("--no-policy is for one run (e.g. a member for trainer ensemble): a seed ensemble's members fit none already, and the ensemble fits its own", 'no-policy');
  if (seeds) return trainEnsemble(values.config as string | undefined, overrides, cfg, seeds, !values['no-progress']);
  const backend = await initBackend();
  out(`train '${cfg.name}': ${cfg.data.source} data (${describeSymbols(cfg.data)}), encoder ${typeof cfg.model.encoder === 'string' ? `${cfg.model.encoder} ${cfg.model.encoderType}` : 'custom'}, tasks ${cfg.model.tasks.map((t) => (typeof t === 'string' ? t : t.id)).join(', ')}, backend ${backend.name}`);
  const run = await trainStep(cfg, { log: out, progress: !values['no-progress'] }, values['no-policy'] ? { skipPolicy: '--no-policy' } : {});
  printTrainSummary(run, out);
  run.result.model.dispose();
  return 0;
}

/** --seeds: two or more different non-negative integers, comma-separated. */
function seedsFlag(s: string | undefined): number[] | undefined {
  if (s === undefined) return undefined;
  const seeds = s.split(',').map((x) => intFlag(x.trim(), 'seeds')!);
  if (seeds.length < 2) throw new ConfigError(`--seeds needs at least two seeds (an ensemble), got '${s}'`, 'seeds');
  const dup = seeds.find((x, i) => seeds.indexOf(x) !== i);
  if (dup !== undefined) throw new ConfigError(`--seeds lists seed ${dup} twice`, 'seeds');
  return seeds;
}

/** train --seeds: one run per seed (<name>-s<seed>), then the ensemble of them as <name> (trainer ensemble). */
async function trainEnsemble(config: string | undefined, overrides: TrainerConfigInput, cfg: TrainerConfig, seeds: readonly number[], progress: boolean): Promise<number> {
  // before the members train (minutes to hours), not after: the ensemble's folder must be free
  const target = path.join(path.resolve(cfg.out), cfg.name);
  await assertEmptyTarget(target, `the ensemble run folder ${target} exists and is not empty: choose another --name, or remove it`, 'name');
  const backend = await initBackend();
  const dirs: string[] = [];
  for (const [k, seed] of seeds.entries()) {
    // a member is one run: without the config's `seeds`, so its config.json retrains that run alone
    const { seeds: _seeds, ...member } = resolveConfig(config, { ...overrides, seed, name: `${cfg.name}-s${seed}` } as TrainerConfigInput);
    out(`train member ${k + 1}/${seeds.length} '${member.name}' (seed ${seed}), backend ${backend.name}`);
    // no decision policy per member: the ensemble fits its own on its outputs (about 5 of a member's 10 min on 30 series)
    const run = await trainStep(member, { log: out, progress }, { skipPolicy: 'an ensemble member: the ensemble fits its own' });
    printTrainSummary(run, out);
    run.result.model.dispose();
    dirs.push(run.paths.dir);
  }
  await buildEnsembleRun({ runs: dirs, out: target }, out);
  return 0;
}

function runDirArg(positionals: readonly string[], command: string): string {
  const dir = positionals[0];
  if (!dir) throw new ConfigError(`a run folder is required, e.g. trainer ${command} runs/quick\n\n${HELP[command]}`, 'run');
  if (!existsSync(dir)) throw new ConfigError(`run folder ${dir} does not exist (train one with 'trainer train')`, 'run');
  return path.resolve(dir);
}

/** The --against run folder, resolved (an empty value is an error). */
function againstFlag(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw new ConfigError('--against needs a run folder, e.g. --against runs/other', 'against');
  return path.resolve(v);
}

const OOS_FLAGS = { data: { type: 'string' }, symbols: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, exchange: { type: 'string' } } as const;

/** The out-of-sample request the flags describe, or null when none of them is given. */
function oosRequest(dir: string, values: Flags): OosRequest | null {
  if (!values.data && !values.symbols && !values.from && !values.to) return null;
  const symbols = symbolsFlag(values.symbols as string | undefined);
  const fromMs = dateMs(values.from as string | undefined, 'from');
  const toMs = dateMs(values.to as string | undefined, 'to');
  return {
    runDir: dir,
    ...(values.data ? { dataPath: values.data as string } : {}),
    ...(symbols ? { symbols } : {}),
    ...(fromMs !== undefined ? { fromMs } : {}),
    ...(toMs !== undefined ? { toMs } : {}),
    ...(values.exchange ? { exchange: values.exchange as string } : {}),
  };
}

async function cmdEvaluate(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...OOS_FLAGS, 'single-task': { type: 'boolean' }, 'no-single-task': { type: 'boolean' }, 'no-transfer': { type: 'boolean' }, against: { type: 'string' } }, 'evaluate');
  if (values.help) return help('evaluate');
  if (values['single-task'] && values['no-single-task']) throw new ConfigError('choose one of --single-task and --no-single-task', 'single-task');
  const dir = runDirArg(positionals, 'evaluate');
  const oos = oosRequest(dir, values);
  if (values.against !== undefined && values['single-task']) throw new ConfigError('--against compares two saved runs out of sample; it cannot be combined with --single-task', 'against');
  if (oos && values['single-task']) throw new ConfigError('--single-task trains models on the run\'s own splits; an out-of-sample evaluation (--data, --symbols, --from, --to) scores the saved model only', 'single-task');
  if (values.against !== undefined && !oos) throw new ConfigError('--against compares two runs out of sample: give --data, --symbols, --from or --to (for held-out symbols: trainer lso --against)', 'against');
  await initBackend();
  if (oos) {
    await runOosEvaluate({ ...oos, ...(values.against !== undefined ? { against: againstFlag(values.against) } : {}) }, out);
    return 0;
  }
  const run = await loadRun(dir, {
    ...(values.data ? { dataPath: values.data as string } : {}),
    evaluate: { ...(values['single-task'] ? { singleTask: true } : {}), ...(values['no-single-task'] ? { singleTask: false } : {}), ...(values['no-transfer'] ? { transfer: false } : {}) },
  });
  printEvaluation(await evaluateStep(run, { log: out }), out);
  run.result.model.dispose();
  return 0;
}

async function cmdBacktest(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...OOS_FLAGS, fusion: { type: 'string' }, thresholds: { type: 'string' } }, 'backtest');
  if (values.help) return help('backtest');
  const dir = runDirArg(positionals, 'backtest');
  const fusion = values.fusion as string | undefined;
  if (fusion !== undefined && fusion !== 'consistency' && fusion !== 'weighted') throw new ConfigError(`--fusion must be consistency or weighted, got '${fusion}'`, 'fusion');
  const thresholds = thresholdsFlag(values.thresholds as string | undefined);
  const oos = oosRequest(dir, values);
  await initBackend();
  if (oos) {
    await runOosBacktest({ ...oos, ...(fusion ? { fusion } : {}) }, out);
    return 0;
  }
  const run = await loadRun(dir, { ...(fusion ? { fusion } : {}), ...(thresholds ? { thresholds } : {}) });
  const summaries = await backtestStep(run, { log: out });
  await saveBacktestSummaries(run.paths, summaries);
  run.result.model.dispose();
  return 0;
}

async function cmdWalkForward(args: readonly string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      config: { type: 'string' }, folds: { type: 'string' }, 'test-length': { type: 'string' }, retrain: { type: 'string', default: 'expanding' },
      data: { type: 'string' }, symbols: { type: 'string' }, exchange: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
      epochs: { type: 'string' }, seed: { type: 'string' }, name: { type: 'string' }, out: { type: 'string' }, 'no-progress': { type: 'boolean' },
      ...EXECUTOR_FLAGS,
    },
    'walk-forward',
  );
  if (values.help) return help('walk-forward');
  const folds = intFlag(values.folds as string | undefined, 'folds');
  if (!folds) throw new ConfigError(`--folds is required (a positive integer), e.g. --folds 8\n\n${HELP['walk-forward']}`, 'folds');
  if (!values['test-length']) throw new ConfigError(`--test-length is required, e.g. --test-length 3mo\n\n${HELP['walk-forward']}`, 'test-length');
  const testLength = parsePeriod(values['test-length'] as string);
  const retrain = values.retrain as string;
  if (retrain !== 'expanding' && retrain !== 'rolling') throw new ConfigError(`--retrain must be expanding or rolling, got '${retrain}'`, 'retrain');
  const fromMs = dateMs(values.from as string | undefined, 'from');
  const toMs = dateMs(values.to as string | undefined, 'to');
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) throw new ConfigError(`--to ${values.to} is not after --from ${values.from}`, 'to');
  const symbols = symbolsFlag(values.symbols as string | undefined);
  const epochs = intFlag(values.epochs as string | undefined, 'epochs', 1);
  nameFlag(values.name as string | undefined);
  const data: Record<string, unknown> = {
    ...(values.data ? { source: 'csv', path: path.resolve(values.data as string) } : {}),
    ...(symbols ? { symbols } : {}),
    ...(values.exchange ? { exchange: values.exchange } : {}),
    ...(values.from ? { start: values.from } : {}),
    ...(values.to ? { end: values.to } : {}),
  };
  const overrides = {
    ...(Object.keys(data).length ? { data } : {}),
    ...(epochs !== undefined ? { training: { epochs } } : {}),
    ...(values.seed !== undefined ? { seed: intFlag(values.seed as string, 'seed') } : {}),
    name: (values.name as string | undefined) ?? `walk-forward-${typeof values.config === 'string' ? path.basename(values.config as string, '.json') : 'quick'}`,
    ...(values.out ? { out: values.out } : {}),
  } as TrainerConfigInput;
  const cfg = resolveConfig(values.config as string | undefined, overrides);
  const backend = await initBackend();
  out(`walk-forward '${cfg.name}': ${folds} folds of ${testLength.text}, ${retrain}, ${cfg.data.source} data (${describeSymbols(cfg.data)}), backend ${backend.name}`);
  // --workers N / --queue URL: the folds run as jobs (worker processes here, or trainer workers anywhere)
  const executor = values.workers !== undefined || values.queue !== undefined ? await executorFromFlags(values, folds, path.resolve(cfg.out, cfg.name, 'walk-forward')) : undefined;
  if (executor) out(`walk-forward: folds run on ${executor.description}`);
  try {
    await runWalkForward(cfg, { folds, testLength, retrain, log: out, progress: !values['no-progress'], ...(executor ? { executor } : {}) });
  } finally {
    await executor?.close();
  }
  return 0;
}

async function cmdCompare(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, { against: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } }, 'compare');
  if (values.help) return help('compare');
  const dir = runDirArg(positionals, 'compare');
  if (values.against === undefined) throw new ConfigError('trainer compare needs --against <other-run>: the run to compare with', 'against');
  const otherDir = againstFlag(values.against);
  assertOtherFolder(dir, otherDir);
  const fromMs = dateMs(values.from as string | undefined, 'from');
  const toMs = dateMs(values.to as string | undefined, 'to');
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) throw new ConfigError(`--to ${values.to} is not after --from ${values.from}`, 'to');
  await initBackend();
  const a = await readRunConfig(dir);
  const b = await readRunConfig(otherDir).catch((err: Error) => {
    throw new DataError(`--against ${otherDir}: ${err.message.split('\n')[0]}`);
  });
  const ra = await loadRunDataset(a.cfg, a.paths);
  try {
    const rb = await loadRunDataset(b.cfg, b.paths);
    try {
      const r = compareOnValidation(
        { paths: a.paths, data: ra.data, result: { model: ra.model, dataset: ra.dataset } },
        { paths: b.paths, data: rb.data, result: { model: rb.model, dataset: rb.dataset } },
        { ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}), seed: a.cfg.seed },
      );
      printValidationComparison(r, out);
      // the raw heads are not what trades: each run's deployed layers, scored out of fold on validation
      const report = (file: string) => readJson<unknown>(file, 'calibration report');
      const deployed = compareDeployed(r, await report(a.paths.calibration), await report(b.paths.calibration));
      printDeployedComparison(deployed, out);
      const file = path.join(a.paths.dir, `compare-${path.basename(otherDir)}.json`);
      await writeFile(file, JSON.stringify({ ...r, deployed }, jsonSafe, 2) + '\n');
      out(`validation comparison written to ${file}`);
    } finally {
      rb.model.dispose();
    }
  } finally {
    ra.model.dispose();
  }
  return 0;
}

async function cmdLso(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      'no-alone': { type: 'boolean' }, 'alone-epochs': { type: 'string' }, 'alone-stride': { type: 'string' }, 'retrain-alone': { type: 'boolean' },
      symbols: { type: 'string' }, resamples: { type: 'string' }, 'no-progress': { type: 'boolean' }, against: { type: 'string' },
    },
    'lso',
  );
  if (values.help) return help('lso');
  const dir = runDirArg(positionals, 'lso');
  const aloneEpochsFlag = values['alone-epochs'] as string | undefined;
  if (aloneEpochsFlag !== undefined && aloneEpochsFlag !== 'match' && !/^[1-9]\d*$/.test(aloneEpochsFlag.trim())) {
    throw new ConfigError(`--alone-epochs must be an integer >= 1 or 'match', got '${aloneEpochsFlag}'`, 'alone-epochs');
  }
  const aloneEpochs = aloneEpochsFlag === 'match' ? 'matchSteps' : intFlag(aloneEpochsFlag, 'alone-epochs', 1);
  const aloneStride = intFlag(values['alone-stride'] as string | undefined, 'alone-stride', 1);
  const resamples = intFlag(values.resamples as string | undefined, 'resamples', 20);
  const symbols = symbolsFlag(values.symbols as string | undefined);
  await initBackend();
  const { cfg, model, paths } = await loadRunModel(dir);
  let against: AgainstRun | null = null;
  try {
    if (values.against !== undefined) against = await openAgainst(dir, againstFlag(values.against), model);
    const epochSteps = parseTrainingConfig(cfg.training);
    let universalBudget = await readTrainingBudget(paths.training, epochSteps);
    if (!universalBudget && model.isEnsemble) {
      // an ensemble folder from before trainer ensemble wrote its training.json: the members' runs' own
      universalBudget = await ensembleBudgetFromMembers(paths.model, epochSteps, out);
      if (universalBudget) out(`lso: ${paths.training} is missing or has no members' histories; the ensemble's budget is read from its members' runs (model.json metrics.ensemble.members)`);
    }
    if (!universalBudget) out(`lso: ${paths.training} is missing or has no history, so the universal run's budget is not reported`);
    else if (universalBudget.members && aloneEpochs === 'matchSteps') {
      out(`lso: a seed ensemble of ${universalBudget.members.length} (${universalBudget.steps} optimiser steps in all): --alone-epochs match gives each alone model one member's steps, their mean, ${stepsToMatch(universalBudget)}`);
    }
    const report = await evaluateLeaveSymbolsOut(cfg, model, {
      ...(universalBudget ? { universalBudget } : {}),
      log: out,
      alone: !values['no-alone'],
      progress: !values['no-progress'],
      runDir: paths.dir,
      retrainAlone: values['retrain-alone'] === true,
      ...(symbols ? { symbols } : {}),
      ...(aloneEpochs !== undefined ? { aloneEpochs } : {}),
      ...(aloneStride !== undefined ? { aloneStride } : {}),
      ...(resamples !== undefined ? { resamples } : {}),
      ...(against ? { against: { run: against.dir, model: against.model } } : {}),
    });
    // a subset (--symbols) gets its own file, so it never replaces the report over every held-out symbol
    const file = path.join(paths.dir, symbols ? `lso-${report.heldOut.join('-')}.json` : 'lso.json');
    await writeFile(file, JSON.stringify(report, jsonSafe, 2) + '\n');
    printLso(report, out);
    out(`leave-symbols-out report written to ${file}`);
  } finally {
    model.dispose();
    against?.model.dispose();
  }
  return 0;
}

async function cmdCalibrate(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      thresholds: { type: 'string' }, 'tilt-only': { type: 'boolean', default: false }, 'no-policy': { type: 'boolean' }, 'blend-rule': { type: 'string' },
      'refit-from': { type: 'string' }, 'refit-to': { type: 'string' }, out: { type: 'string' }, data: { type: 'string' }, stride: { type: 'string' },
    },
    'calibrate',
  );
  if (values.help) return help('calibrate');
  const dir = runDirArg(positionals, 'calibrate');
  const thresholds = thresholdsFlag(values.thresholds as string | undefined);
  const tiltOnly = values['tilt-only'] === true;
  if (tiltOnly && thresholds) throw new ConfigError('--tilt-only keeps the fusions\' thresholds as they are: drop --thresholds', 'tilt-only');
  const rule = values['blend-rule'] as string | undefined;
  if (rule !== undefined && rule !== 'oneSe' && rule !== 'best') throw new ConfigError(`--blend-rule takes oneSe or best, got '${rule}'`, 'blend-rule');
  if (rule !== undefined && tiltOnly) throw new ConfigError('--tilt-only keeps the calibration, blends and fusions as they are: drop --blend-rule', 'blend-rule');
  const refitFrom = dateMs(values['refit-from'] as string | undefined, 'refit-from');
  const refitTo = dateMs(values['refit-to'] as string | undefined, 'refit-to');
  const refitOut = values.out as string | undefined;
  if (refitFrom !== undefined || refitTo !== undefined || refitOut !== undefined) {
    if (refitFrom === undefined) throw new ConfigError('a refit needs --refit-from (with --refit-to and --out)', 'refit-from');
    if (refitTo === undefined) throw new ConfigError('a refit needs --refit-to (with --refit-from and --out)', 'refit-to');
    if (refitOut === undefined) throw new ConfigError('a refit writes a copy of the run: give its folder with --out', 'out');
    if (tiltOnly) throw new ConfigError('--tilt-only refits the tilt policy in place: it does not go with --refit-from', 'tilt-only');
    if (thresholds) throw new ConfigError('--thresholds does not go with --refit-from (the refit fits the policy the run\'s way, or keeps it with --no-policy)', 'thresholds');
    const stride = intFlag(values.stride as string | undefined, 'stride', 1);
    await initBackend();
    await refitRun(
      {
        run: dir,
        from: refitFrom,
        to: refitTo,
        out: refitOut,
        policy: values['no-policy'] !== true,
        ...(values.data !== undefined ? { dataPath: dataPathFlag(values.data as string) } : {}),
        ...(stride !== undefined ? { stride } : {}),
        ...(rule !== undefined ? { blendRule: rule as 'oneSe' | 'best' } : {}),
      },
      out,
    );
    return 0;
  }
  if (values.data !== undefined || values.stride !== undefined) throw new ConfigError(`--${values.data !== undefined ? 'data' : 'stride'} goes with --refit-from: a plain calibrate refits on the run's own validation split`, values.data !== undefined ? 'data' : 'stride');
  await initBackend();
  const loaded = await loadRun(dir);
  let cfg = thresholds ? { ...loaded.cfg, policy: { ...loaded.cfg.policy, thresholds } } : loaded.cfg;
  if (rule !== undefined) cfg = { ...cfg, blendRule: rule as 'oneSe' | 'best' };
  const run: TrainedRun = { ...loaded, cfg };
  try {
    if (tiltOnly) await refitTiltStep(run, { log: out });
    else await recalibrateStep(run, { log: out }, { policy: values['no-policy'] !== true });
  } finally {
    run.result.model.dispose();
  }
  // the run's config records the rule its deployed layers were chosen by (evaluate's single-task models follow it)
  if (rule !== undefined && rule !== loaded.cfg.blendRule) {
    const saved = await readJson<Record<string, unknown>>(run.paths.config, 'run config');
    await writeFile(run.paths.config, `${JSON.stringify({ ...saved, blendRule: rule }, null, 2)}\n`);
    out(`config.json: blendRule '${loaded.cfg.blendRule}' -> '${rule}'`);
  }
  return 0;
}

async function cmdEnsemble(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string' }, 'no-calibrate': { type: 'boolean' }, 'no-policy': { type: 'boolean' } }, 'ensemble');
  if (values.help) return help('ensemble');
  const outDir = values.out as string | undefined;
  if (!outDir) throw new ConfigError(`trainer ensemble needs --out <dir>, the ensemble run folder to write\n\n${HELP.ensemble}`, 'out');
  if (positionals.length < 2) throw new ConfigError(`trainer ensemble needs at least two run folders, got ${positionals.length}\n\n${HELP.ensemble}`, 'runs');
  for (const p of positionals) if (!existsSync(p)) throw new ConfigError(`run folder '${p}' does not exist`, 'runs');
  if (values['no-calibrate'] && values['no-policy']) throw new ConfigError('choose one of --no-calibrate and --no-policy', 'no-policy');
  await initBackend();
  await buildEnsembleRun({ runs: positionals, out: outDir, calibrate: values['no-calibrate'] !== true, policy: values['no-policy'] !== true }, out);
  return 0;
}

async function cmdReport(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, {}, 'report');
  if (values.help) return help('report');
  await reportStep(runDirArg(positionals, 'report'), { log: out });
  return 0;
}

function help(command: string): number {
  process.stdout.write(HELP[command] ?? HELP['']!);
  return 0;
}

const COMMANDS: Record<string, (args: readonly string[]) => Promise<number>> = {
  main: cmdMain,
  fetch: cmdFetch,
  train: cmdTrain,
  evaluate: cmdEvaluate,
  backtest: cmdBacktest,
  calibrate: cmdCalibrate,
  ensemble: cmdEnsemble,
  report: cmdReport,
  'walk-forward': cmdWalkForward,
  lso: cmdLso,
  compare: cmdCompare,
  sweep: (args) => cmdSweep(args, out),
  worker: (args) => cmdWorker(args, out),
};

/**
 * The CLI: runs a command and turns every error into one message on stderr and an exit code: 2 for
 * usage and configuration (bad flags, bad values, bad config), 1 for failures (data, artifacts,
 * anything else). No stack trace unless TAT_DEBUG=1.
 */
export async function main(argv: readonly string[], err: { write(s: string): unknown } = process.stderr): Promise<number> {
  try {
    return await runCli(argv);
  } catch (e) {
    const x = e as { message?: unknown; code?: unknown; stack?: unknown };
    const message = e instanceof Error || isTaError(e) ? String(x.message) : String(e);
    err.write(`error: ${message}\n`);
    if (process.env.TAT_DEBUG === '1' && typeof x.stack === 'string') err.write(x.stack + '\n');
    return x.code === 'CONFIG' ? 2 : 1;
  }
}

export async function runCli(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') return help(rest[0] ?? '');
  if (command === '--version' || command === '-V') {
    process.stdout.write(`trainer ${packageVersion(path.dirname(fileURLToPath(import.meta.url)))}\n`);
    return 0;
  }
  const fn = COMMANDS[command];
  if (!fn) {
    process.stderr.write(`unknown command '${command}'\n\n${HELP['']}`);
    return 2;
  }
  return fn(rest);
}
