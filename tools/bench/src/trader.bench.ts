// End-to-end decision latency of the trader (issue 12): closed candle received -> order handed to
// the venue, through TradingEngine with the DEFAULT model preset (untrained: random weights, the
// same compute as a trained one): streaming features, encoder, heads, fusion, risk gate, and the
// journal transaction that must be durable before the order is sent, then the paper account.
// Baseline measured in the same run: StreamingPredictor.onCandle alone (the model's share).
// Goal (issue 12): p99 < 10 ms; the source design's budget is 100 ms including order placement.
// Two journal settings: synchronous=FULL (fsync per candle, the default) and NORMAL (survives kill -9,
// not power loss). The paper venue's "send" is in-process; a real Bybit order adds the network.
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { candleAt, generateSyntheticMarket, readCandlesCsvSync, sliceColumns, type CandleColumns } from '@task-agnostic/core';
import { StreamingPredictor } from '@task-agnostic/model';
import { initBackend } from '@task-agnostic/tf';
// The trader is an app: the bench package does not depend on it, so its build is imported by path
// (build it first: nx run @task-agnostic/trader:build).
import { Journal, createEngine, createLogger, createPortfolio, createUntrainedModel, parseTraderConfig } from '@task-agnostic/trader';
import { execSync } from 'node:child_process';
import { benchDataDir, percentiles, printTable } from './data-dir.js';

const DECISIONS = Number(process.env.TAT_BENCH_TRADER_N ?? 1000);
/** Time steps of the 5-symbol portfolio replay (x 5 candles), after 300 warm-up steps. */
const STEPS = Number(process.env.TAT_BENCH_PORTFOLIO_STEPS ?? 400);
/** 'single', 'portfolio' or both (default). */
const ONLY = process.env.TAT_BENCH_TRADER_ONLY ?? '';
const info = await initBackend({ quiet: true });

function loadCandles(): { label: string; candles: CandleColumns } {
  const dir = benchDataDir();
  if (dir) {
    try {
      return { label: 'bybit_BTCUSDT_1h.csv (real)', candles: readCandlesCsvSync(path.join(dir, 'candles', 'bybit_BTCUSDT_1h.csv'), { interval: '1h' }).candles };
    } catch {
      /* fall through */
    }
  }
  return { label: 'synthetic 1h', candles: generateSyntheticMarket({ bars: 6_000, seed: 1 }).candles };
}

const { label, candles } = loadCandles();
const FIT = 2000;
const model = createUntrainedModel(sliceColumns(candles, 0, FIT), { preset: 'default', seed: 1 });
const feed = sliceColumns(candles, FIT, Math.min(candles.length, FIT + DECISIONS + 300));

if (ONLY !== 'portfolio') {
  // Baseline: the predictor alone over the same candles.
  const predictor = new StreamingPredictor(model);
  const alone: number[] = [];
  for (let i = 0; i < feed.length; i++) {
    const t0 = performance.now();
    const r = predictor.onCandle(candleAt(feed, i));
    const t1 = performance.now();
    // The same candles as the engine rows below (after the first 300 of the feed).
    if (r && i >= 300) alone.push(t1 - t0);
  }
  predictor.dispose();

  const config = parseTraderConfig({ statusEvery: 0, fusion: 'consistency' });
  const quiet = createLogger({ level: 'silent' });
  const rows: (string | number)[][] = [['path', 'decisions', 'p50 ms', 'p99 ms', 'p99 / predictor p99', 'goal p99 < 10 ms']];
  const stagesOut: (string | number)[][] = [['stage (FULL journal)', 'p50 ms', 'p99 ms']];
  const base = percentiles(alone);
  rows.push(['baseline: StreamingPredictor.onCandle alone', alone.length, base.median, base.p99, 1, base.p99 < 10 ? 'yes' : 'no']);

  for (const sync of ['full', 'normal'] as const) {
    const journal = Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-bench-trader-')), 'j.db'), { synchronous: sync });
    const engine = createEngine({ symbol: 'BTCUSDT', config, journal, logger: quiet, model, runTag: 'bench' });
    const e2e: number[] = [];
    for (let i = 0; i < feed.length; i++) {
      const t0 = performance.now();
      const r = await engine.onCandle(candleAt(feed, i), t0);
      // Closed candle received -> order sent; candles without an order: the full decision path.
      if (engine.stats.candles > 300 && r) e2e.push(Number.isNaN(r.decisionToSendMs) ? performance.now() - t0 : r.decisionToSendMs);
    }
    engine.flush();
    const p = percentiles(e2e);
    rows.push([`TradingEngine, journal synchronous=${sync.toUpperCase()}`, e2e.length, p.median, p.p99, p.p99 / base.p99, p.p99 < 10 ? 'yes' : 'no']);
    if (sync === 'full') {
      for (const s of ['bar_wait', 'predict', 'features', 'encoder', 'heads', 'fusion', 'risk', 'journal', 'decision_to_send']) {
        const st = engine.latency.stats(s);
        if (st.n) stagesOut.push([s, st.p50, st.p99]);
      }
    }
    journal.close();
  }

  console.log(`trader decision latency: default preset (${model.config.encoder && (model.config.encoder as { type: string }).type}, window ${model.windowLength}, ${model.featureCount} features), ${label}, backend ${info.name}, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores, first 300 candles of the feed are warm-up`);
  printTable(rows);
  console.log('');
  printTable(stagesOut);
}

// ---- 5-symbol portfolio replay of 1m candles (issue 20) ------------------------------------------
// One account and one gate over BTC, ETH, SOL, BNB, DOGE: each time step's 5 closed candles arrive
// together and run in symbol order, so a candle's "closed -> order sent" includes waiting for the
// symbols before it in the step. FULL journal (one fsynced transaction per candle).
async function portfolioBench(): Promise<void> {
  const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'DOGEUSDT'];
  const dir = benchDataDir();
  let series: CandleColumns[];
  let src = 'real Bybit 1m';
  try {
    if (!dir) throw new Error('no data dir');
    const all = SYMBOLS.map((s) => readCandlesCsvSync(path.join(dir, 'candles', `bybit_${s}_1m.csv`), { interval: '1m' }).candles);
    const sets = all.map((c) => new Set(Array.from(c.tsMs)));
    const ts = Array.from(all[0]!.tsMs).filter((t) => sets.every((x) => x.has(t))).slice(FIT, FIT + STEPS + 300);
    series = all.map((c) => {
      const idx = new Map(Array.from(c.tsMs).map((t, i) => [t, i]));
      const rows = ts.map((t) => idx.get(t)!);
      const pick = (x: ArrayLike<number>): Float64Array => Float64Array.from(rows, (i) => x[i]!);
      return { length: rows.length, tsMs: pick(c.tsMs), open: pick(c.open), high: pick(c.high), low: pick(c.low), close: pick(c.close), volume: pick(c.volume), turnover: pick(c.volume) };
    });
  } catch {
    src = 'synthetic 1m';
    series = SYMBOLS.map((_s, k) => generateSyntheticMarket({ bars: STEPS + 300, seed: 7 + k, interval: '1m' }).candles);
  }
  // Lowered entry thresholds so the untrained model's low-confidence outputs become orders.
  const cfg = parseTraderConfig({
    symbols: SYMBOLS, interval: '1m', statusEvery: 0, fusion: 'consistency', fusionConfig: { minConfidence: 0.3, minAgreement: 0.3, baseSizeFraction: 1 },
    risk: { minConfidence: 0.25, minAgreement: 0.15, baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1 }, strategy: { maxConsecutiveLosses: 1000 } },
  });
  const journal = Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-bench-pf-')), 'j.db'), { synchronous: 'full' });
  const pf = createPortfolio({ config: cfg, journal, logger: createLogger({ level: 'silent' }), model, runTag: 'benchpf' });
  await pf.recover();
  const sent: number[] = [];
  const all: number[] = [];
  const n = series[0]!.length;
  let cpu0: NodeJS.CpuUsage | undefined;
  let wall0 = 0;
  for (let i = 0; i < n; i++) {
    if (i === 300) {
      cpu0 = process.cpuUsage();
      wall0 = performance.now();
    }
    const t0 = performance.now();
    const step = new Map(SYMBOLS.map((s, k) => [s, { candle: candleAt(series[k]!, i), receivedAt: t0 }]));
    const rs = await pf.step(step);
    if (i < 300) continue;
    for (const r of rs) {
      if (!r) continue;
      if (Number.isNaN(r.decisionToSendMs)) all.push(performance.now() - t0);
      else {
        sent.push(r.decisionToSendMs);
        all.push(r.decisionToSendMs);
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  const cpuPerCandle = (cpu.user + cpu.system) / 1000 / all.length;
  const uptime = (() => {
    try {
      return execSync('uptime', { encoding: 'utf8' }).trim();
    } catch {
      return `load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}`;
    }
  })();
  const ps = percentiles(sent);
  const pa = percentiles(all);
  console.log(`\n5-symbol portfolio replay (${src}, ${STEPS} steps x 5 symbols after 300 warm-up steps, default preset, journal FULL); uptime: ${uptime}`);
  printTable([
    ['path', 'candles', 'p50 ms', 'p99 ms', 'goal p99 < 10 ms'],
    ['closed candle -> order sent (candles with an order)', sent.length, ps.median, ps.p99, ps.p99 < 10 ? 'yes' : 'no'],
    ['closed candle -> decision done (every candle)', all.length, pa.median, pa.p99, pa.p99 < 10 ? 'yes' : 'no'],
    ['process CPU (user + sys) per candle, and wall per candle', all.length, cpuPerCandle, wall / all.length, 'CPU ms / wall ms'],
    ['journal transaction (fsync), per candle', pf.engines.get('BTCUSDT')!.latency.stats('journal').n, pf.engines.get('BTCUSDT')!.latency.stats('journal').p50, pf.engines.get('BTCUSDT')!.latency.stats('journal').p99, ''],
  ]);
  for (const e of pf.engines.values()) e.flush();
  journal.close();
}

if (ONLY !== 'single') await portfolioBench();
model.dispose();
