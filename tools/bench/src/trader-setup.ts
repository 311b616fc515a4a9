// Shared by trader.bench.ts and trader-dashboard.bench.ts: the candles, the DEFAULT-preset model
// (untrained: random weights, the same compute as a trained one), the feed, and the single-symbol
// decision latency (issue 12): closed candle received -> order handed to the venue, through
// TradingEngine (streaming features, encoder, heads, fusion, risk gate, the journal transaction that
// must be durable before the order is sent, the paper account), beside StreamingPredictor.onCandle
// alone (the model's share), with the journal at synchronous=FULL (fsync per candle, the default)
// and NORMAL (survives kill -9, not power loss). Goal (issue 12): p99 < 10 ms; the source design's
// budget is 100 ms including order placement. The paper venue's "send" is in-process; a real Bybit
// order adds the network.
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { candleAt, generateSyntheticMarket, readCandlesCsvSync, sliceColumns, type CandleColumns } from '@task-agnostic/core';
import { StreamingPredictor } from '@task-agnostic/model';
import { initBackend } from '@task-agnostic/tf';
// The trader is an app: the bench package does not depend on it, so its build is imported by path
// (build it first: nx run @task-agnostic/trader:build).
import { Journal, createEngine, createLogger, createUntrainedModel, parseTraderConfig } from '@task-agnostic/trader';
import { benchDataDir, percentiles, printTable } from './data-dir.js';

export const DECISIONS = Number(process.env.TAT_BENCH_TRADER_N ?? 1000);
/** Candles of the feed that only warm the model up (not measured). */
export const WARMUP = 300;
/** Candles the normaliser and task thresholds are fitted on (before the feed). */
export const FIT = 2000;

export const backend = await initBackend({ quiet: true });

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

export const { label, candles } = loadCandles();
export const model = createUntrainedModel(sliceColumns(candles, 0, FIT), { preset: 'default', seed: 1 });
export const feed = sliceColumns(candles, FIT, Math.min(candles.length, FIT + DECISIONS + WARMUP));
export const config = parseTraderConfig({ statusEvery: 0, fusion: 'consistency' });
export const quiet: ReturnType<typeof createLogger> = createLogger({ level: 'silent' });

/** The single-symbol table: the predictor alone, then TradingEngine with a FULL and a NORMAL journal, and the stages of the FULL run. */
export async function singleSymbolLatency(): Promise<void> {
  const predictor = new StreamingPredictor(model);
  const alone: number[] = [];
  for (let i = 0; i < feed.length; i++) {
    const t0 = performance.now();
    const r = predictor.onCandle(candleAt(feed, i));
    const t1 = performance.now();
    // The same candles as the engine rows below (after the warm-up candles of the feed).
    if (r && i >= WARMUP) alone.push(t1 - t0);
  }
  predictor.dispose();

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
      if (engine.stats.candles > WARMUP && r) e2e.push(Number.isNaN(r.decisionToSendMs) ? performance.now() - t0 : r.decisionToSendMs);
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
  console.log(`trader decision latency: default preset (${model.config.encoder && (model.config.encoder as { type: string }).type}, window ${model.windowLength}, ${model.featureCount} features), ${label}, backend ${backend.name}, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores, first ${WARMUP} candles of the feed are warm-up`);
  printTable(rows);
  console.log('');
  printTable(stagesOut);
}
