/**
 * Command-line parsing for `trader` (node:util parseArgs), validated here so a bad flag fails before
 * anything connects or trades. Live trading is never the default: `live` needs exactly one of
 * --testnet / --demo / --mainnet (or --base-url for a local simulator), and --mainnet also needs
 * --i-accept-real-money-risk.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '@task-agnostic/core';
import { parseSpeed, type ReplaySpeed } from './sources.js';
import { checkToken } from './dashboard/auth.js';
import { parseListen } from './dashboard/server.js';

export type Command = 'paper' | 'live' | 'init-model' | 'status' | 'dashboard' | 'help';

/** Where the dashboard listens (`--dashboard [host:port]`, default 127.0.0.1:8080). */
export interface ListenArgs {
  readonly host: string;
  readonly port: number;
}

/** Operations flags shared by paper and live: the dashboard, its token, webhook alerts. */
export interface OpsArgs {
  readonly dashboard?: ListenArgs;
  /** Else TRADER_DASHBOARD_TOKEN; required when the dashboard binds beyond loopback. */
  readonly dashboardToken?: string;
  readonly alertWebhook?: string;
  /** A market-data disconnect longer than this raises an alert (seconds). */
  readonly alertDisconnectS: number;
}

export const DEFAULT_DASHBOARD = '127.0.0.1:8080';

export interface RunArgs extends OpsArgs {
  readonly command: 'paper' | 'live';
  readonly model: string;
  readonly symbols?: string[];
  readonly interval?: string;
  readonly replay?: string;
  readonly speed: ReplaySpeed;
  readonly limit?: number;
  readonly baseUrl?: string;
  readonly journal: string;
  readonly configFile?: string;
  readonly fusion?: string;
  readonly policy?: 'fused' | 'tilt';
  readonly thresholds?: 'fitted' | 'seed';
  readonly equity?: number;
  readonly statusEvery?: number;
  readonly killFile: string;
  readonly flattenOnExit: boolean;
  readonly logFile?: string;
  readonly logLevel: string;
  readonly runTag?: string;
  readonly warmupBars: number;
  readonly journalSync: 'full' | 'normal';
  /** Trade live a model that has not beaten the naive strategies on validation (never an untrained one). */
  readonly allowUnprovenModel: boolean;
  /** live only */
  readonly venue?: 'testnet' | 'demo' | 'mainnet' | 'custom';
  readonly keyFile?: string;
}

export interface InitModelArgs {
  readonly command: 'init-model';
  readonly out: string;
  readonly csv: string;
  readonly preset: 'tiny' | 'default';
  readonly rows: number;
  readonly seed: number;
}

export interface StatusArgs {
  readonly command: 'status';
  readonly journal: string;
}

export interface HelpArgs {
  readonly command: 'help';
  /** The command whose usage was asked for (`trader paper --help`); none: the overview. */
  readonly topic?: 'paper' | 'live' | 'init-model' | 'status' | 'dashboard';
}

/** `trader dashboard --journal x.db`: the page for a past (or running) journal, read-only. */
export interface DashboardArgs {
  readonly command: 'dashboard';
  readonly journal: string;
  readonly listen: ListenArgs;
  readonly dashboardToken?: string;
}

export type CliArgs = RunArgs | InitModelArgs | StatusArgs | DashboardArgs | HelpArgs;

/** `--dashboard` takes an optional value: with none (last, or before another flag) it is the default address. */
function withDashboardDefault(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    out.push(args[i]!);
    if (args[i] === '--dashboard' && (i + 1 >= args.length || args[i + 1]!.startsWith('--'))) out.push(DEFAULT_DASHBOARD);
  }
  return out;
}

/**
 * A flag the command does not know, a missing flag value or a stray argument: the CLI prints the
 * message and the command's usage, and exits with 2 (never a stack trace).
 */
export class UsageError extends ConfigError {
  constructor(message: string, readonly usage: string) {
    super(message, 'usage');
  }
}

type ParseOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** node:util parseArgs with its TypeErrors (ERR_PARSE_ARGS_*) turned into a UsageError with the command's usage. */
function parseFlags<O extends ParseOptions>(command: keyof typeof USAGE, args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], strict: true, allowPositionals: false, options: options as NonNullable<O> });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw err;
    // parseArgs' message already names the flag; drop its advice about '--' (not how this CLI reads files).
    const msg = (err as Error).message.split('. To specify a positional')[0]!.replace(/\.$/, '');
    throw new UsageError(`${command}: ${msg}`, USAGE[command]);
  }
}

const wantsHelp = (args: readonly string[]): boolean => args.some((a) => a === '--help' || a === '-h');

const num = (v: string | undefined, flag: string, int = false): number | undefined => {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || (int && !Number.isInteger(x))) throw new ConfigError(`--${flag} must be a${int ? 'n integer' : ' number'}, got '${v}'`, flag);
  return x;
};

/** pino's levels (anything else would be a TypeError deep in the logger). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A numeric flag that must be >= `min` (> `min` with `strict`): else a usage error naming it (exit 2). */
function bounded(command: keyof typeof USAGE, v: string, flag: string, o: { min: number; strict?: boolean; int?: boolean }): number {
  const x = Number(v);
  const ok = v.trim() !== '' && Number.isFinite(x) && (!o.int || Number.isInteger(x)) && (o.strict ? x > o.min : x >= o.min);
  if (!ok) throw new UsageError(`${command}: --${flag} must be ${o.int ? 'a whole number' : 'a number'} ${o.strict ? '>' : '>='} ${o.min}, got '${v}'`, USAGE[command]);
  return x;
}

function positive(v: string, flag: string): number {
  const x = num(v, flag)!;
  if (!(x > 0)) throw new ConfigError(`--${flag} must be > 0, got '${v}'`, flag);
  return x;
}

function webhookUrl(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError('--alert-webhook is not a URL', 'alert-webhook');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`--alert-webhook must be http(s), got ${u.protocol}`, 'alert-webhook');
  return v;
}

export function parseCli(argv: readonly string[]): CliArgs {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    const topic = rest[0];
    return topic && topic in USAGE ? { command: 'help', topic: topic as HelpArgs['topic'] & string } : { command: 'help' };
  }
  if (command in USAGE && wantsHelp(rest)) return { command: 'help', topic: command as NonNullable<HelpArgs['topic']> };
  if (command === 'init-model') {
    const { values } = parseFlags('init-model', rest, {
      out: { type: 'string' }, csv: { type: 'string' }, preset: { type: 'string', default: 'tiny' },
      rows: { type: 'string', default: '1500' }, seed: { type: 'string', default: '7' },
    });
    if (!values.out) throw new ConfigError('init-model needs --out <dir>', 'out');
    if (!values.csv) throw new ConfigError('init-model needs --csv <candles.csv> (the normaliser and task thresholds are fitted on it)', 'csv');
    if (values.preset !== 'tiny' && values.preset !== 'default') throw new ConfigError(`--preset must be tiny or default, got '${values.preset}'`, 'preset');
    return { command, out: values.out, csv: values.csv, preset: values.preset, rows: num(values.rows, 'rows', true)!, seed: num(values.seed, 'seed', true)! };
  }
  if (command === 'status') {
    const { values } = parseFlags('status', rest, { journal: { type: 'string', default: 'trader.db' } });
    return { command, journal: values.journal! };
  }
  if (command === 'dashboard') {
    const { values } = parseFlags('dashboard', rest, {
      journal: { type: 'string' }, listen: { type: 'string', default: DEFAULT_DASHBOARD }, 'dashboard-token': { type: 'string' },
    });
    if (!values.journal) throw new ConfigError('dashboard needs --journal <file> (an existing journal, opened read-only)', 'journal');
    return {
      command, journal: values.journal, listen: parseListen(values.listen!),
      ...(values['dashboard-token'] ? { dashboardToken: checkToken(values['dashboard-token']) } : {}),
    };
  }
  if (command !== 'paper' && command !== 'live') throw new UsageError(`unknown command '${command}' (paper, live, init-model, status, dashboard, help)`, HELP);
  const { values } = parseFlags(command, withDashboardDefault(rest), {
    dashboard: { type: 'string' }, 'dashboard-token': { type: 'string' }, 'alert-webhook': { type: 'string' }, 'alert-disconnect-s': { type: 'string', default: '60' },
    model: { type: 'string' }, symbols: { type: 'string' }, interval: { type: 'string' },
    replay: { type: 'string' }, speed: { type: 'string', default: 'max' }, limit: { type: 'string' },
    'base-url': { type: 'string' }, journal: { type: 'string', default: 'trader.db' }, config: { type: 'string' },
    fusion: { type: 'string' }, policy: { type: 'string' }, thresholds: { type: 'string' }, equity: { type: 'string' }, 'status-every': { type: 'string' },
    'kill-file': { type: 'string' }, 'flatten-on-exit': { type: 'boolean', default: false },
    'log-file': { type: 'string' }, 'log-level': { type: 'string', default: 'info' }, 'run-tag': { type: 'string' },
    'warmup-bars': { type: 'string', default: '400' }, 'journal-sync': { type: 'string', default: 'full' },
    testnet: { type: 'boolean', default: false }, demo: { type: 'boolean', default: false }, mainnet: { type: 'boolean', default: false },
    'i-accept-real-money-risk': { type: 'boolean', default: false }, 'key-file': { type: 'string' },
    'allow-unproven-model': { type: 'boolean', default: false },
  });
  if (!values.model) throw new ConfigError(`${command} needs --model <artifact dir> (trader init-model makes an untrained one for trials)`, 'model');
  if (values.replay && values['base-url']) throw new ConfigError('use either --replay <csv> or --base-url <simulator>, not both', 'replay');
  if (values['base-url']) {
    let host = '';
    try {
      host = new URL(values['base-url']).hostname;
    } catch {
      throw new ConfigError(`--base-url is not a URL: '${values['base-url']}'`, 'base-url');
    }
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) throw new ConfigError(`--base-url is for a local simulator (127.0.0.1 / localhost), got ${host}`, 'base-url');
  }
  if (values.thresholds !== undefined && values.thresholds !== 'fitted' && values.thresholds !== 'seed') {
    throw new ConfigError(`--thresholds must be fitted or seed, got '${values.thresholds}'`, 'thresholds');
  }
  if (values.policy !== undefined && values.policy !== 'fused' && values.policy !== 'tilt') {
    throw new ConfigError(`--policy must be fused or tilt, got '${values.policy}'`, 'policy');
  }
  const logLevel = values['log-level']!;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new UsageError(`${command}: --log-level must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`, USAGE[command]);
  const journal = values.journal!;
  const journalSync = values['journal-sync'] as 'full' | 'normal';
  if (journalSync !== 'full' && journalSync !== 'normal') throw new ConfigError(`--journal-sync must be full or normal, got '${journalSync}'`, 'journal-sync');
  const common = {
    journalSync,
    allowUnprovenModel: values['allow-unproven-model']!,
    model: values.model,
    ...(values.symbols ? { symbols: values.symbols.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    ...(values.interval ? { interval: values.interval } : {}),
    ...(values.replay ? { replay: values.replay } : {}),
    speed: parseSpeed(values.speed!),
    ...(values.limit !== undefined ? { limit: bounded(command, values.limit, 'limit', { min: 1, int: true }) } : {}),
    ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}),
    journal,
    ...(values.config ? { configFile: values.config } : {}),
    ...(values.fusion ? { fusion: values.fusion } : {}),
    ...(values.thresholds ? { thresholds: values.thresholds as 'fitted' | 'seed' } : {}),
    ...(values.policy ? { policy: values.policy as 'fused' | 'tilt' } : {}),
    ...(values.equity !== undefined ? { equity: bounded(command, values.equity, 'equity', { min: 0, strict: true }) } : {}),
    ...(values['status-every'] !== undefined ? { statusEvery: bounded(command, values['status-every'], 'status-every', { min: 0, int: true }) } : {}),
    killFile: values['kill-file'] ?? `${journal}.kill`,
    flattenOnExit: values['flatten-on-exit']!,
    ...(values['log-file'] ? { logFile: values['log-file'] } : {}),
    logLevel,
    ...(values['run-tag'] ? { runTag: values['run-tag'] } : {}),
    warmupBars: bounded(command, values['warmup-bars']!, 'warmup-bars', { min: 0, int: true }),
    ...(values.dashboard !== undefined ? { dashboard: parseListen(values.dashboard) } : {}),
    ...(values['dashboard-token'] ? { dashboardToken: checkToken(values['dashboard-token']) } : {}),
    ...(values['alert-webhook'] ? { alertWebhook: webhookUrl(values['alert-webhook']) } : {}),
    alertDisconnectS: positive(values['alert-disconnect-s']!, 'alert-disconnect-s'),
  };
  if (command === 'paper') {
    if (values.testnet || values.demo || values.mainnet || values['i-accept-real-money-risk'] || values['key-file']) {
      throw new ConfigError('paper trading takes no exchange account flags (--testnet/--demo/--mainnet/--key-file): use `trader live`', 'paper');
    }
    return { command, ...common };
  }
  // live
  if (values.replay) throw new ConfigError('live trading cannot replay a CSV: use `trader paper --replay`', 'replay');
  const picked = (['testnet', 'demo', 'mainnet'] as const).filter((m) => values[m]);
  if (picked.length > 1) throw new ConfigError(`choose one venue, got --${picked.join(' --')}`, 'venue');
  if (picked.length === 0 && !values['base-url']) {
    throw new ConfigError('live trading needs a venue: --testnet, --demo, or --mainnet --i-accept-real-money-risk (or --base-url <local simulator>)', 'venue');
  }
  if (picked.length === 1 && values['base-url']) throw new ConfigError('--base-url is for a local simulator; do not combine it with --testnet/--demo/--mainnet', 'base-url');
  if (picked[0] === 'mainnet' && !values['i-accept-real-money-risk']) {
    throw new ConfigError('--mainnet trades real money: add --i-accept-real-money-risk to confirm', 'mainnet');
  }
  return { command, ...common, venue: picked[0] ?? 'custom', ...(values['key-file'] ? { keyFile: values['key-file'] } : {}) };
}

const RUN_OPTIONS = `  --model <dir>             model artifact folder (model.json + weights.bin)       [required]
  --symbols BTCUSDT[,...]   symbols to trade as one portfolio (default BTCUSDT)
  --interval 1h             candle interval (default 1h)
  --base-url <url>          market data (and, for live, orders) from a local Bybit simulator
  --journal <file>          SQLite journal (default trader.db); a restart resumes from it
  --journal-sync full|normal  full (default): fsync per candle; normal: survives kill -9, not power loss
  --config <file.json>      trader settings: fusion, fusionConfig, risk, account, statusEvery
  --policy fused|tilt       fused (default): fusion -> risk gate; tilt: the model's tilt policy (vol-targeted
                            long x the heads' view, fitted on validation), sized by the gate's 'decision' mode
  --fusion consistency|weighted    --equity <USDT>    --status-every <candles>
  --thresholds fitted|seed  fitted (default): the model's decision policy, fitted on validation;
                            seed: the source design's thresholds (confidence 0.50, agreement 0.60)
  --kill-file <file>        the kill switch engages when this file exists (default <journal>.kill)
  --flatten-on-exit         close positions on SIGINT/SIGTERM
  --log-file <file>         JSON logs there instead of stderr    --log-level info|debug|warn|error|trace|silent
  --warmup-bars N           history fetched before trading on a stream (default 400)
  --run-tag <id>            part of every client order id (default: random, kept in the journal)
  --dashboard [host:port]   web dashboard, metrics (/metrics) and kill switch (default 127.0.0.1:8080);
                            beyond loopback it needs --dashboard-token <16+ chars> (or TRADER_DASHBOARD_TOKEN)
  --alert-webhook <url>     POST JSON alerts there (kill switch, daily-loss halt, disconnect, rejected order,
                            deployment gate), retried with backoff    --alert-disconnect-s N (default 60)
  -h, --help                this usage`;

/** Usage of each command (printed by `trader <command> --help`, and with a flag error). */
export const USAGE = {
  paper: `Usage: trader paper --model <dir> [options]

The trading loop on a paper account (the backtest's fill model).

Options:
${RUN_OPTIONS}
  --replay <csv>[,<csv>...] [--speed 60x|max] [--limit N]   replay candle CSVs (one per symbol, in --symbols order)
`,
  live: `Usage: trader live --model <dir> (--testnet | --demo | --mainnet --i-accept-real-money-risk | --base-url <url>) [options]

The trading loop with real orders on Bybit. Instrument rules (qty step, min qty, min notional,
tick size, max leverage) are loaded for every symbol before the first order; leverage and margin
mode are set at start.

Options:
${RUN_OPTIONS}
  --testnet | --demo | --mainnet --i-accept-real-money-risk    (one is required)
  --allow-unproven-model    trade a model whose artifact does not show it beat buy-and-hold and the
                            best naive strategy on validation (the deployment gate; paper only warns).
                            An untrained model (init-model) is refused live regardless
  --key-file <file>         {"apiKey","apiSecret"}, mode 600; else BYBIT_API_KEY / BYBIT_API_SECRET
`,
  'init-model': `Usage: trader init-model --out <dir> --csv <file> [--preset tiny|default] [--rows 1500] [--seed 7]

Writes an UNTRAINED model artifact (random weights) for trials and tests; the normaliser and task
thresholds are fitted on the first --rows candles of --csv.
`,
  status: `Usage: trader status [--journal trader.db]

Prints a journal's counts, positions, last decision, unsettled orders and latencies.
`,
  dashboard: `Usage: trader dashboard --journal <file> [--listen host:port] [--dashboard-token <token>]

Serves the web dashboard of a past or running journal, read-only (the journal must exist).
Beyond loopback it needs --dashboard-token <16+ chars> (or TRADER_DASHBOARD_TOKEN).
`,
} as const;

export const HELP = `trader: paper and live trading of task-agnostic models on Bybit

Usage: trader <command> [options]        trader <command> --help for its options

Commands:
  paper       the trading loop on a paper account (the backtest's fill model)
  live        the trading loop with real orders on Bybit (testnet, demo or mainnet)
  init-model  write an UNTRAINED model artifact (random weights) for trials and tests
  status      print a journal's counts, positions, last decision and latencies
  dashboard   serve the web dashboard of a journal, read-only (a past or running trader)

Signals: SIGINT/SIGTERM stop gracefully; SIGUSR2 engages the kill switch (flatten, no new trades).
`;
