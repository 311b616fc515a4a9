/** The commands behind the CLI: paper / live trading runs, init-model, status. */
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, INTERVAL_MS, readCandlesCsvSync, sliceColumns, type SymbolId } from '@task-agnostic/core';
import { BybitClient } from '@task-agnostic/bybit';
import { initBackend } from '@task-agnostic/tf';
import { idleMinorGc } from '@task-agnostic/model';
import type { Logger } from 'pino';
import type { InitModelArgs, RunArgs, StatusArgs } from './cli-args.js';
import { parseTraderConfig, type TraderConfig } from './config.js';
import { loadCredentials, maskKey, type Credentials } from './credentials.js';
import type { TradingEngine } from './engine.js';
import { Journal } from './journal.js';
import { createLogger } from './logger.js';
import { loadTraderModel, writeUntrainedModel } from './model-factory.js';
import { createEngine } from './setup.js';
import { replayCsv } from './sources.js';
import { ExchangeVenue } from './venue.js';

export interface RunIo {
  readonly out: (line: string) => void;
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
  }
  const account = { ...((file.account as Record<string, unknown> | undefined) ?? {}), ...(a.equity !== undefined ? { initialEquity: a.equity } : {}) };
  return parseTraderConfig({
    ...file,
    ...(a.symbols ? { symbols: a.symbols } : {}),
    ...(a.interval ? { interval: a.interval } : {}),
    ...(a.fusion ? { fusion: a.fusion } : {}),
    ...(a.statusEvery !== undefined ? { statusEvery: a.statusEvery } : {}),
    account,
  });
}

function wsUrlOf(base: string): string {
  const u = new URL(base);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost' && u.hostname !== '::1') {
    throw new ConfigError(`--base-url is for a local simulator (127.0.0.1 / localhost), got ${u.hostname}`, 'base-url');
  }
  return `${u.protocol === 'https:' ? 'wss' : 'ws'}://${u.host}/v5/public/linear`;
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
  const logger: Logger = createLogger({ ...(a.logFile ? { file: a.logFile } : {}), level: a.logLevel, secrets: creds ? [creds.apiSecret, creds.apiKey] : [] });
  if (a.replay && cfg.symbols.length !== 1) throw new ConfigError('--replay plays one CSV: give exactly one symbol', 'symbols');
  const journal = Journal.open(a.journal, { synchronous: a.journalSync });
  const engines: TradingEngine[] = [];
  let client: BybitClient | undefined;
  try {
    const backend = await initBackend();
    const model = await loadTraderModel(a.model);
    logger.info({ command: a.command, model: a.model, symbols: cfg.symbols, interval: cfg.interval, journal: a.journal, backend, keys: creds ? maskKey(creds.apiKey) : null }, 'trader starting');
    if (a.baseUrl || !a.replay) {
      const mode = a.baseUrl ? 'custom' : a.command === 'live' ? a.venue! : 'mainnet';
      client = new BybitClient({
        mode,
        ...(a.baseUrl ? { restUrl: a.baseUrl, wsPublicUrl: wsUrlOf(a.baseUrl) } : {}),
        ...(a.command === 'live' && creds ? { apiKey: creds.apiKey, apiSecret: creds.apiSecret, allowMainnetTrading: a.venue === 'mainnet' } : {}),
      });
    }
    const iv = INTERVAL_MS[cfg.interval];
    // On a stream, candles older than the one closing now only warm the model up.
    const now = client ? await client.serverTime() : undefined;
    const liveCfg: TraderConfig = now !== undefined ? { ...cfg, tradeFromMs: now - 2 * iv } : cfg;
    for (const symbol of cfg.symbols) {
      const venue = a.command === 'live' ? new ExchangeVenue(symbol, client!) : undefined;
      const engine = createEngine({
        symbol, config: liveCfg, journal, logger, model, killFile: a.killFile, onStatus: io.out,
        ...(venue ? { venue } : {}), ...(a.runTag ? { runTag: a.runTag } : {}),
      });
      // recover() replays the journal and, on an exchange, reconciles with it before any trading.
      const n = await engine.recover();
      if (n) io.out(`resumed ${symbol} from ${a.journal}: ${n} candles replayed, ${engine.statusLine()}`);
      engines.push(engine);
    }
    io.onKillHandle?.((reason) => engines.forEach((e) => e.requestKill(reason)));

    if (a.replay) {
      const e = engines[0]!;
      const after = Number.isFinite(e.lastCandleTs) ? e.lastCandleTs : undefined;
      const sent = await replayCsv(
        { file: a.replay, interval: cfg.interval, speed: a.speed, ...(after !== undefined ? { afterMs: after } : {}), ...(a.limit !== undefined ? { limit: a.limit } : {}), signal: io.signal },
        async (c, at) => {
          const r = await e.onCandle(c, at);
          idleMinorGc(); // between candles, off the decision path: keeps GC pauses out of the next decision
          return r;
        },
      );
      logger.info({ candles: sent }, 'replay finished');
    } else {
      const byS = new Map<SymbolId, TradingEngine>(engines.map((e) => [e.o.symbol, e]));
      const resumeFrom = Math.min(...engines.map((e) => (Number.isFinite(e.lastCandleTs) ? e.lastCandleTs + iv : now! - a.warmupBars * iv)));
      const stop = await client!.streamCandles(cfg.symbols, cfg.interval, (c) => void byS.get(c.symbol)?.onCandle(c.candle).then(() => idleMinorGc()), {
        fromMs: resumeFrom,
        onError: (err: Error) => logger.warn({ err: err.message }, 'stream error (recovering)'),
      });
      await new Promise<void>((resolve) => (io.signal.aborted ? resolve() : io.signal.addEventListener('abort', () => resolve(), { once: true })));
      await stop();
    }
    for (const e of engines) {
      await e.shutdown({ flatten: a.flattenOnExit, reason: io.signal.aborted ? 'signal' : 'source finished' });
      io.out(`final ${e.statusLine()}`);
      const trades = e.o.venue.trades();
      if (e.o.venue.kind === 'paper') io.out(`trades ${trades.length}, net pnl ${trades.reduce((s, t) => s + t.pnl, 0).toFixed(2)}, fills ${journal.counts().fills}`);
    }
    const stats = journal.latencyStats();
    const order = ['decision_to_send', 'queue', 'bar_wait', 'predict', 'features', 'encoder', 'heads', 'fusion', 'risk', 'journal'];
    io.out(order.filter((s) => stats[s]).map((s) => `${s} p50 ${stats[s]!.p50.toFixed(3)} ms p99 ${stats[s]!.p99.toFixed(3)} ms`).join('\n'));
    logger.info({ counts: journal.counts() }, 'trader stopped');
    return 0;
  } finally {
    client?.close();
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
  const j = Journal.open(a.journal);
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
