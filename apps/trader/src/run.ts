/** The commands behind the CLI: paper / live trading runs, init-model, status. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, INTERVAL_MS, readCandlesCsvSync, sliceColumns, type SymbolId } from '@task-agnostic/core';
import { BybitClient, InstrumentCatalog, InstrumentInfoError, leverageFor } from '@task-agnostic/bybit';
import { initBackend } from '@task-agnostic/tf';
import { idleMinorGc, readModelJson } from '@task-agnostic/model';
import type { Logger } from 'pino';
import type { DashboardArgs, InitModelArgs, RunArgs, StatusArgs } from './cli-args.js';
import { Operations } from './dashboard/operations.js';
import { DashboardServer } from './dashboard/server.js';
import { TOKEN_ENV, checkToken } from './dashboard/auth.js';
import { checkDecisionConfig, parseTraderConfig, type TraderConfig } from './config.js';
import { loadCredentials, maskKey, type Credentials } from './credentials.js';
import { Journal } from './journal.js';
import { checkDeployment, deploymentAllows, describeDeployment } from './deployment-gate.js';
import { createLogger } from './logger.js';
import { checkModelInterval } from './model-interval.js';
import { loadTraderModel, writeUntrainedModel } from './model-factory.js';
import { LiveMarketFeed } from './market-feed.js';
import { createPortfolio, decisionOf } from './setup.js';
import { replayCsvs } from './sources.js';
import { ExchangeVenue } from './venue.js';
import { LoopGuard } from './loop-guard.js';

export interface RunIo {
  readonly out: (line: string) => void;
  /** Error lines (default: stderr). */
  readonly err?: (line: string) => void;
  /** Aborted by SIGINT / SIGTERM (the CLI wires it). */
  readonly signal: AbortSignal;
  /** Called with a function that engages the kill switch on every engine (SIGUSR2). */
  readonly onKillHandle?: (kill: (reason: string) => void) => void;
}

function loadConfig(a: RunArgs): TraderConfig {
  let file: Record<string, unknown> = {};
  if (a.configFile) {
    try {
      file = JSON.parse(readFileSync(a.configFile, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`cannot read --config ${a.configFile}: ${(err as Error).message}`, 'config');
    }
    if (file === null || typeof file !== 'object' || Array.isArray(file)) {
      throw new ConfigError(`--config ${a.configFile} must hold a JSON object of settings, got ${file === null ? 'null' : Array.isArray(file) ? 'an array' : typeof file}`, 'config');
    }
  }
  const account = { ...((file.account as Record<string, unknown> | undefined) ?? {}), ...(a.equity !== undefined ? { initialEquity: a.equity } : {}) };
  const cfg = parseTraderConfig({
    ...file,
    ...(a.symbols ? { symbols: a.symbols } : {}),
    ...(a.interval ? { interval: a.interval } : {}),
    ...(a.fusion ? { fusion: a.fusion } : {}),
    ...(a.policy ? { policy: a.policy } : {}),
    ...(a.thresholds ? { thresholds: a.thresholds } : {}),
    ...(a.statusEvery !== undefined ? { statusEvery: a.statusEvery } : {}),
    account,
  });
  checkDecisionConfig(cfg); // a fusion or risk typo stops here, before anything connects
  return cfg;
}

function wsUrlOf(base: string): string {
  const u = new URL(base);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost' && u.hostname !== '::1') {
    throw new ConfigError(`--base-url is for a local simulator (127.0.0.1 / localhost), got ${u.hostname}`, 'base-url');
  }
  return `${u.protocol === 'https:' ? 'wss' : 'ws'}://${u.host}/v5/public/linear`;
}

/** The CSV of each symbol: `--replay a.csv[,b.csv...]`, one per symbol in --symbols order. */
function replayFiles(replay: string, symbols: readonly SymbolId[]): Record<SymbolId, string> {
  const files = replay.split(',').map((f) => f.trim()).filter(Boolean);
  if (files.length !== symbols.length) {
    throw new ConfigError(`--replay has ${files.length} CSV file(s) for ${symbols.length} symbol(s) (${symbols.join(', ')}): give one per symbol, in the same order`, 'replay');
  }
  return Object.fromEntries(symbols.map((s, k) => [s, files[k]!]));
}

/**
 * Live start-up, before any order: the instrument rules of every symbol (an unknown symbol is
 * refused by name; info that cannot be loaded stops here), isolated margin, and each symbol's
 * leverage (the config's, capped at the instrument's maximum).
 */
async function prepareLive(client: BybitClient, symbols: readonly SymbolId[], leverage: number, logger: Logger): Promise<InstrumentCatalog> {
  const catalog = await new InstrumentCatalog().load(client, symbols);
  try {
    await client.setMarginMode('isolated');
    for (const s of symbols) {
      const lev = leverageFor(leverage, catalog.get(s));
      const changed = await client.setLeverage(s, lev);
      logger.info({ symbol: s, leverage: lev, changed, rules: catalog.get(s) }, 'instrument rules loaded, leverage set');
    }
  } catch (err) {
    throw new InstrumentInfoError(`cannot set margin mode / leverage before trading: ${(err as Error).message}`, { cause: err });
  }
  return catalog;
}

/** paper or live: recover from the journal, then trade candles until the source ends or a signal stops it. */
export async function runTrading(a: RunArgs, io: RunIo): Promise<number> {
  const cfg = loadConfig(a);
  let creds: Credentials | undefined;
  if (a.command === 'live' && a.venue !== 'custom') creds = loadCredentials(a.keyFile ? { file: a.keyFile } : {});
  if (a.command === 'live' && a.venue === 'custom') {
    creds = process.env.BYBIT_API_KEY || a.keyFile ? loadCredentials(a.keyFile ? { file: a.keyFile } : {}) : undefined;
    if (!creds) throw new ConfigError('live trading against a simulator still needs keys (BYBIT_API_KEY / BYBIT_API_SECRET or --key-file)', 'keys');
  }
  // The deployment gate, before anything connects or a journal opens.
  // (A folder with no model.json is refused when the model loads, after the exchange's rules are checked.)
  const modelJson = existsSync(path.join(a.model, 'model.json')) ? await readModelJson(a.model) : undefined;
  checkModelInterval(modelJson?.training, cfg.interval, a.model);
  const deployment = modelJson ? checkDeployment(modelJson, { fusion: cfg.fusion, symbols: cfg.symbols, policy: cfg.policy }) : undefined;
  const gateNote = deployment ? describeDeployment(deployment, a.command, a.allowUnprovenModel) : '';
  if (deployment && !deploymentAllows(deployment, a.command, a.allowUnprovenModel)) throw new ConfigError(gateNote, 'model');
  if (deployment && !deployment.proven) io.out(gateNote);
  const logger: Logger = createLogger({ ...(a.logFile ? { file: a.logFile } : {}), level: a.logLevel, secrets: creds ? [creds.apiSecret, creds.apiKey] : [] });
  const files = a.replay ? replayFiles(a.replay, cfg.symbols) : undefined;
  // The dashboard's port is bound first: a port in use stops here, before anything is opened.
  const ops = await Operations.start(a, logger, io.out);
  if (deployment && !deployment.proven) ops.alerts.notify({ kind: 'deployment-gate', message: gateNote, data: { problems: deployment.problems } });
  let journal: Journal;
  try {
    journal = Journal.open(a.journal, { synchronous: a.journalSync });
  } catch (err) {
    await ops.close();
    throw err;
  }
  let client: BybitClient | undefined;
  let feed: LiveMarketFeed | undefined;
  try {
    if (a.baseUrl || !a.replay) {
      const mode = a.baseUrl ? 'custom' : a.command === 'live' ? a.venue! : 'mainnet';
      client = new BybitClient({
        mode,
        ...(a.baseUrl ? { restUrl: a.baseUrl, wsPublicUrl: wsUrlOf(a.baseUrl) } : {}),
        ...(a.command === 'live' && creds ? { apiKey: creds.apiKey, apiSecret: creds.apiSecret, allowMainnetTrading: a.venue === 'mainnet' } : {}),
      });
    }
    const iv = INTERVAL_MS[cfg.interval];
    // Live: the exchange's rules for every symbol first (an unknown symbol or missing info stops here, before anything else).
    const catalog = a.command === 'live' ? await prepareLive(client!, cfg.symbols, Number(cfg.account.leverage ?? 1), logger) : undefined;
    const backend = await initBackend();
    const model = await loadTraderModel(a.model);
    logger.info({ deploymentGate: deployment?.proven ? 'proven' : a.command === 'live' ? 'overridden' : 'warned', problems: deployment?.problems ?? [] }, 'deployment gate');
    logger.info({ command: a.command, model: a.model, symbols: cfg.symbols, interval: cfg.interval, journal: a.journal, backend, keys: creds ? maskKey(creds.apiKey) : null }, 'trader starting');
    const decision = decisionOf(cfg, model);
    logger.info({ fusion: cfg.fusion, thresholds: decision.policy?.thresholds ?? null, gate: decision.policy?.gate ?? null }, decision.note);
    io.out(`decisions: ${decision.note}`);
    // On a stream, candles older than the one closing now only warm the model up.
    const now = client ? await client.serverTime() : undefined;
    const liveCfg: TraderConfig = now !== undefined ? { ...cfg, tradeFromMs: now - 2 * iv } : cfg;
    // The gate's exchange and market layers: the stream's connection, the REST budget, every symbol's book.
    if (client) feed = new LiveMarketFeed(client).start(cfg.symbols);
    const pf = createPortfolio({
      config: liveCfg, journal, logger, model, killFile: a.killFile, onStatus: io.out, observer: ops.observer,
      ...(a.command === 'live' ? { venueFor: (s: SymbolId) => new ExchangeVenue(s, client!, { rules: catalog!.get(s) }) } : {}),
      ...(feed ? { marketFeed: feed.snapshot } : {}),
      ...(a.runTag ? { runTag: a.runTag } : {}),
    });
    // recover() replays the journal in time order and, on an exchange, reconciles with it before any trading.
    const resumed = await pf.recover();
    for (const [s, n] of resumed) if (n) io.out(`resumed ${s} from ${a.journal}: ${n} candles replayed, ${pf.engines.get(s)!.statusLine()}`);
    const engines = [...pf.engines.values()];
    const killAll = (reason: string): void => engines.forEach((e) => e.requestKill(reason));
    io.onKillHandle?.(killAll);
    ops.attach(journal, killAll, () => engines.map((e) => e.statusLine()));

    // A fatal error anywhere in the loop (the engines retry what is transient) stops it and runs the
    // shutdown path below: journaled, flattened with --flatten-on-exit, exit code 1.
    const loop = new LoopGuard(io.signal, (err) => {
      logger.error({ err: err.message }, 'fatal error in the trading loop: shutting down');
      journal.recordEvent('fatal', { error: err.message });
    });
    if (files) {
      const afterMs = Object.fromEntries(engines.filter((e) => Number.isFinite(e.lastCandleTs)).map((e) => [e.o.symbol, e.lastCandleTs]));
      await loop.run(async () => {
        const sent = await replayCsvs(
          { files, symbols: cfg.symbols, interval: cfg.interval, speed: a.speed, afterMs, ...(a.limit !== undefined ? { limit: a.limit } : {}), signal: loop.signal },
          async (step) => {
            const r = await pf.step(step);
            idleMinorGc(); // between steps, off the decision path: keeps GC pauses out of the next decision
            return r;
          },
        );
        logger.info({ steps: sent }, 'replay finished');
      });
    } else {
      const resumeFrom = Math.min(...engines.map((e) => (Number.isFinite(e.lastCandleTs) ? e.lastCandleTs + iv : now! - a.warmupBars * iv)));
      // every candle's promise is caught: a fatal error stops the loop instead of escaping as an unhandled rejection
      const stop = await client!.streamCandles(cfg.symbols, cfg.interval, (c) => loop.watch(pf.push(c.symbol, c.candle).then(() => idleMinorGc())), {
        fromMs: resumeFrom,
        onError: (err: Error) => logger.warn({ err: err.message }, 'stream error (recovering)'),
      });
      const socket = client!.streams.socket;
      ops.watchConnection(() => socket.isOpen);
      await loop.stopped();
      await stop();
    }
    const problems: string[] = [];
    const reason = loop.fatal ? `fatal: ${loop.fatal.message}` : io.signal.aborted ? 'signal' : 'source finished';
    for (const e of engines) {
      const problem = await e.shutdown({ flatten: a.flattenOnExit, reason });
      if (problem) problems.push(`${e.o.symbol}: ${problem}`);
      io.out(`final ${e.statusLine()}`);
    }
    if (pf.paper) {
      const trades = pf.paper.trades;
      io.out(`trades ${trades.length}, net pnl ${trades.reduce((s, t) => s + t.pnl, 0).toFixed(2)}, fills ${journal.counts().fills}, portfolio equity ${pf.paper.equity.toFixed(2)}`);
    }
    const stats = journal.latencyStats();
    const order = ['decision_to_send', 'queue', 'bar_wait', 'predict', 'features', 'encoder', 'heads', 'fusion', 'risk', 'journal'];
    io.out(order.filter((s) => stats[s]).map((s) => `${s} p50 ${stats[s]!.p50.toFixed(3)} ms p99 ${stats[s]!.p99.toFixed(3)} ms`).join('\n'));
    logger.info({ counts: journal.counts() }, 'trader stopped');
    const err = io.err ?? ((line: string) => void process.stderr.write(`${line}\n`));
    if (loop.fatal) err(`trader: fatal error, stopped after the shutdown path${a.flattenOnExit ? ' (flatten on exit)' : ''}: ${loop.fatal.message}`);
    for (const p of problems) err(`trader: ${p}`);
    return loop.fatal || problems.length ? 1 : 0;
  } finally {
    feed?.stop();
    client?.close();
    await ops.close();
    journal.close();
  }
}

/** `trader dashboard --journal x.db`: serves the page of a journal read-only until a signal stops it. */
export async function runDashboard(a: DashboardArgs, io: { out: (line: string) => void; signal: AbortSignal; logger?: Logger }): Promise<number> {
  const logger = io.logger ?? createLogger({ level: 'info' });
  const envToken = process.env[TOKEN_ENV];
  const token = a.dashboardToken ?? (envToken ? checkToken(envToken) : undefined);
  const server = new DashboardServer({ host: a.listen.host, port: a.listen.port, logger, mode: 'viewer', ...(token ? { token } : {}) });
  // Read-only: never creates a missing journal, never writes.
  const journal = Journal.openReadOnly(a.journal);
  try {
    await server.listen();
    server.attach({ journal });
    io.out(`dashboard (read-only) of ${a.journal} on ${server.url}`);
    await new Promise<void>((resolve) => (io.signal.aborted ? resolve() : io.signal.addEventListener('abort', () => resolve(), { once: true })));
    return 0;
  } finally {
    await server.close();
    journal.close();
  }
}

export async function runInitModel(a: InitModelArgs, out: (s: string) => void): Promise<number> {
  await initBackend();
  const { candles } = readCandlesCsvSync(a.csv);
  const rows = Math.min(a.rows, candles.length);
  const model = await writeUntrainedModel(a.out, sliceColumns(candles, 0, rows), { preset: a.preset, seed: a.seed });
  out(`wrote an UNTRAINED model (random weights, seed ${a.seed}, preset ${a.preset}, window ${model.windowLength}, ${model.featureCount} features, tasks ${model.tasks.map((t) => t.id).join(',')}) to ${a.out}; normaliser and task thresholds fitted on the first ${rows} candles of ${a.csv}`);
  model.dispose();
  return 0;
}

export function runStatus(a: StatusArgs, out: (s: string) => void): number {
  // Reading a status must never create a journal (a typo would leave an empty database behind).
  if (!existsSync(a.journal)) throw new ConfigError(`no journal at ${a.journal}: check the path (status only reads journals)`, 'journal');
  const j = Journal.open(a.journal, { readOnly: true });
  try {
    out(`journal ${a.journal}: ${Object.entries(j.counts()).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const pos = j.all<{ symbol: string; side: string | null; qty: number; entry_price: number | null; ts_ms: number }>(
      'SELECT symbol, side, qty, entry_price, ts_ms FROM position_changes WHERE id IN (SELECT MAX(id) FROM position_changes GROUP BY symbol)',
    );
    for (const p of pos) out(`position ${p.symbol}: ${p.side ? `${p.side} ${p.qty} @ ${p.entry_price}` : 'flat'} (since ${new Date(p.ts_ms).toISOString()})`);
    const last = j.all<{ symbol: string; ts_ms: number; action: string; side: string; confidence: number; reasoning: string }>(
      'SELECT symbol, ts_ms, action, side, confidence, reasoning FROM decisions ORDER BY id DESC LIMIT 1',
    )[0];
    if (last) out(`last decision ${last.symbol} ${new Date(last.ts_ms).toISOString()}: ${last.action}/${last.side} conf ${last.confidence.toFixed(2)}: ${last.reasoning}`);
    out(`unsettled orders: ${j.unsettledOrders().length}`);
    for (const [s, v] of Object.entries(j.latencyStats())) out(`latency ${s}: n ${v.n} p50 ${v.p50.toFixed(3)} ms p99 ${v.p99.toFixed(3)} ms`);
    return 0;
  } finally {
    j.close();
  }
}
