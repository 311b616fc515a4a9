import { parseArgs, type ParseArgsConfig } from 'node:util';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, packageVersion, parseInterval } from '@task-agnostic/core';
import { initBackend } from '@task-agnostic/tf';
import { resolveConfig, PRESETS, type TrainerConfig, type TrainerConfigInput } from './config.js';
import { fetchCandles } from './fetch-run.js';
import { fmt, pct, textTable } from './format.js';
import { backtestStep, evaluateStep, reportStep, saveBacktestSummaries, trainStep, type TrainedRun } from './pipeline.js';
import { loadRun } from './load-run.js';
import type { Evaluation } from './evaluate-run.js';
import type { Log } from './train-run.js';

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
  report     one HTML page: training curves, evaluation tables, confusion matrices, backtests

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
               [--exchange bybit] [--val-start DATE --test-start DATE] [--epochs N] [--seed N]
               [--name NAME] [--out runs] [--no-progress]

Trains a multi-task model and writes runs/<name>/: model/ (the artifact), config.json,
training.jsonl (one line per epoch), training.json (summary, test metrics beside baselines).
--config takes a preset (${Object.keys(PRESETS).join(', ')}) or a JSON file (which may say "extends": "quick").

Examples:
  trainer train --config quick --synthetic
  trainer train --config default --data ../shared/data/candles --exchange bybit \\
      --symbols BTCUSDT,ETHUSDT,SOLUSDT --val-start 2024-10-01 --test-start 2025-01-01 --name real
`,
  evaluate: `trainer evaluate <run-dir> [--data <csv|dir>] [--no-single-task] [--no-transfer]

Per-task test metrics beside each task's naive baselines and a single-task model trained with the
same encoder and budget (does sharing help?); transfer (frozen encoder + new head vs from scratch);
the consistency score of the fused decisions; representation quality. Writes evaluation.json.

Example:
  trainer evaluate runs/quick
`,
  backtest: `trainer backtest <run-dir> [--data <csv|dir>] [--fusion consistency|weighted]

Model -> fusion -> seven-layer risk gate -> the backtest engine over each symbol's test range.
Writes backtest.html (first symbol), backtest-<SYMBOL>.html (others) and backtest.json.

Example:
  trainer backtest runs/quick --fusion weighted
`,
  report: `trainer report <run-dir>

Writes <run-dir>/report.html from what the run folder holds: training curves (per-task losses and
weights), evaluation tables, confusion matrices and the backtests.

Example:
  trainer report runs/quick
`,
};

type Flags = Record<string, string | boolean | undefined>;

function parse(args: readonly string[], options: ParseArgsConfig['options'], command: string): { values: Flags; positionals: string[] } {
  try {
    const r = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: r.values as Flags, positionals: r.positionals };
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${HELP[command]}`, 'arguments');
  }
}

function dateMs(s: string | undefined, flag: string): number | undefined {
  if (s === undefined) return undefined;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new ConfigError(`--${flag} '${s}' is not a date such as 2024-01-01`, flag);
  return ms;
}

function intFlag(s: string | undefined, flag: string): number | undefined {
  if (s === undefined) return undefined;
  const v = Number(s);
  if (!Number.isInteger(v) || v < 0) throw new ConfigError(`--${flag} must be a non-negative integer, got '${s}'`, flag);
  return v;
}

function symbolsFlag(s: string | undefined): string[] | undefined {
  return s === undefined ? undefined : s.split(',').map((x) => x.trim().toUpperCase()).filter(Boolean);
}

export function printTrainSummary(run: TrainedRun, log: Log): void {
  const rows: string[][] = [['task', 'metric', 'model', 'best baseline', '']];
  for (const [id, t] of Object.entries(run.result.test)) {
    const first = Object.values(t.bySeries)[0];
    if (!first) continue;
    const metric = 'accuracy' in first.metrics ? 'macroF1' : 'mse';
    const higher = metric === 'macroF1';
    let best: { name: string; v: number } | null = null;
    for (const b of first.baselines) {
      const v = b.metrics[metric];
      if (v !== undefined && Number.isFinite(v) && (!best || (higher ? v > best.v : v < best.v))) best = { name: b.name, v };
    }
    const m = first.metrics[metric];
    const verdict = best && m !== undefined ? ((higher ? m > best.v : m < best.v) ? 'beats baseline' : 'below baseline') : '';
    rows.push([id, metric, fmt(m), best ? `${fmt(best.v)} (${best.name})` : '-', verdict]);
  }
  log(`\ntest metrics (${Object.keys(Object.values(run.result.test)[0]?.bySeries ?? {})[0] ?? ''} test rows):\n${textTable(rows)}`);
}

export function printEvaluation(ev: Evaluation, log: Log): void {
  const rows: string[][] = [['task', 'symbol', 'metric', 'model', 'best baseline', 'vs baseline']];
  for (const t of ev.tasks) {
    for (const [sym, b] of Object.entries(t.bySymbol)) {
      rows.push([t.task, sym, t.metric, fmt(b.model[t.metric]), b.bestBaseline ? `${fmt(b.bestBaseline.value)} (${b.bestBaseline.name})` : '-', b.vsBaseline]);
    }
  }
  const shared: string[][] = [['task', 'metric', 'beats best baseline', 'multi-task (pooled)', 'single-task (pooled)', 'sharing']];
  for (const t of ev.tasks) {
    shared.push([t.task, t.metric, `${t.beatsBaselineOn}/${t.symbols} symbols`, fmt(t.multiTask[t.metric]), fmt(t.singleTask?.[t.metric]), t.vsSingleTask]);
  }
  log(`\nevaluation (${ev.testSamples} test windows), each symbol against each task's naive baselines:\n${textTable(rows)}`);
  log(`\ndoes sharing help? the multi-task model against single-task models with the same encoder and budget:\n${textTable(shared)}`);
  if (ev.transfer) log(`transfer '${ev.transfer.task}': ${ev.transfer.metric} frozen encoder ${fmt(ev.transfer.frozenEncoder[ev.transfer.metric])} vs from scratch ${fmt(ev.transfer.fromScratch[ev.transfer.metric])} (${ev.transfer.note})`);
  log(`consistency (${ev.consistency.fusion}): ${pct(ev.consistency.score)} of decisions agree; mean agreement ${fmt(ev.consistency.meanAgreement, 3)}`);
  if (ev.representation) log(`representation (${ev.representation.labels} classes): inter/intra ratio ${fmt(ev.representation.trained.ratio)} trained vs ${fmt(ev.representation.untrained.ratio)} untrained`);
}

async function cmdMain(args: readonly string[]): Promise<number> {
  const { values } = parse(args, { name: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, 'skip-evaluate': { type: 'boolean' }, 'no-progress': { type: 'boolean' } }, 'main');
  if (values.help) return help('main');
  const overrides: TrainerConfigInput = {
    ...(values.name ? { name: values.name as string } : {}),
    ...(values.out ? { out: values.out as string } : {}),
    ...(values.seed !== undefined ? { seed: intFlag(values.seed as string, 'seed')! } : {}),
  };
  const cfg = resolveConfig('quick', overrides);
  const started = Date.now();
  const backend = await initBackend();
  out(`main job: preset quick on the synthetic market (${cfg.data.symbols.join(', ')}, ${cfg.data.bars} bars each), backend ${backend.name}`);
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
    interval: parseInterval(values.interval as string),
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
      name: { type: 'string' }, out: { type: 'string' }, 'no-progress': { type: 'boolean' },
    },
    'train',
  );
  if (values.help) return help('train');
  if (values.data && values.synthetic) throw new ConfigError('choose one of --data and --synthetic', 'data');
  if (Boolean(values['val-start']) !== Boolean(values['test-start'])) throw new ConfigError('--val-start and --test-start go together', 'split');
  const symbols = symbolsFlag(values.symbols as string | undefined);
  const epochs = intFlag(values.epochs as string | undefined, 'epochs');
  const data: Record<string, unknown> = {
    ...(values.data ? { source: 'csv', path: path.resolve(values.data as string) } : {}),
    ...(values.synthetic ? { source: 'synthetic' } : {}),
    ...(symbols ? { symbols } : {}),
    ...(values.interval ? { interval: values.interval } : {}),
    ...(values.exchange ? { exchange: values.exchange } : {}),
    ...(values['val-start'] ? { split: { valStart: values['val-start'], testStart: values['test-start'] } } : {}),
  };
  const overrides = {
    ...(Object.keys(data).length ? { data } : {}),
    ...(epochs !== undefined ? { training: { epochs } } : {}),
    ...(values.seed !== undefined ? { seed: intFlag(values.seed as string, 'seed') } : {}),
    ...(values.name ? { name: values.name } : {}),
    ...(values.out ? { out: values.out } : {}),
  } as TrainerConfigInput;
  const cfg: TrainerConfig = resolveConfig(values.config as string | undefined, overrides);
  const backend = await initBackend();
  out(`train '${cfg.name}': ${cfg.data.source} data (${cfg.data.symbols.join(', ')}), encoder ${typeof cfg.model.encoder === 'string' ? `${cfg.model.encoder} ${cfg.model.encoderType}` : 'custom'}, tasks ${cfg.model.tasks.map((t) => (typeof t === 'string' ? t : t.id)).join(', ')}, backend ${backend.name}`);
  const run = await trainStep(cfg, { log: out, progress: !values['no-progress'] });
  printTrainSummary(run, out);
  run.result.model.dispose();
  return 0;
}

function runDirArg(positionals: readonly string[], command: string): string {
  const dir = positionals[0];
  if (!dir) throw new ConfigError(`a run folder is required, e.g. trainer ${command} runs/quick\n\n${HELP[command]}`, 'run');
  if (!existsSync(dir)) throw new ConfigError(`run folder ${dir} does not exist (train one with 'trainer train')`, 'run');
  return path.resolve(dir);
}

async function cmdEvaluate(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, { data: { type: 'string' }, 'no-single-task': { type: 'boolean' }, 'no-transfer': { type: 'boolean' } }, 'evaluate');
  if (values.help) return help('evaluate');
  const dir = runDirArg(positionals, 'evaluate');
  await initBackend();
  const run = await loadRun(dir, {
    ...(values.data ? { dataPath: values.data as string } : {}),
    evaluate: { ...(values['no-single-task'] ? { singleTask: false } : {}), ...(values['no-transfer'] ? { transfer: false } : {}) },
  });
  printEvaluation(await evaluateStep(run, { log: out }), out);
  run.result.model.dispose();
  return 0;
}

async function cmdBacktest(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, { data: { type: 'string' }, fusion: { type: 'string' } }, 'backtest');
  if (values.help) return help('backtest');
  const dir = runDirArg(positionals, 'backtest');
  const fusion = values.fusion as string | undefined;
  if (fusion !== undefined && fusion !== 'consistency' && fusion !== 'weighted') throw new ConfigError(`--fusion must be consistency or weighted, got '${fusion}'`, 'fusion');
  await initBackend();
  const run = await loadRun(dir, { ...(values.data ? { dataPath: values.data as string } : {}), ...(fusion ? { fusion } : {}) });
  const summaries = await backtestStep(run, { log: out });
  await saveBacktestSummaries(run.paths, summaries);
  run.result.model.dispose();
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
  report: cmdReport,
};

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
