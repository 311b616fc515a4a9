// The single-symbol decision latency and what the dashboard adds to it (issue 21); the 5-symbol portfolio replay is trader.bench.ts.
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
import { DashboardServer, Journal, LogAlerts, TraderMetrics, TradingMonitor, createEngine, createLogger, createUntrainedModel, parseTraderConfig } from '@task-agnostic/trader';
import { benchDataDir, percentiles, printTable } from './data-dir.js';

const DECISIONS = Number(process.env.TAT_BENCH_TRADER_N ?? 1000);
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

// Issue 21: what the dashboard adds. Two engines over the same candles in lockstep (which goes
// first alternates each candle, so both see the same machine load): one plain, one with the
// dashboard's observer (Prometheus metrics, alert checks, live events) and a browser-like SSE client
// reading the stream. Between candles the loop yields (as the replay and the stream do), which is
// when the events are serialised and written. Goal: < 0.2 ms added to the closed candle -> order
// sent p99.
{
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-bench-dash-'));
  // NORMAL: the fsync per candle (FULL) is the noisiest stage on a loaded machine and not the dashboard's.
  const jA = Journal.open(path.join(dir, 'plain.db'), { synchronous: 'normal' });
  const jB = Journal.open(path.join(dir, 'dash.db'), { synchronous: 'normal' });
  const server = new DashboardServer({ host: '127.0.0.1', port: 0, logger: quiet, mode: 'paper' });
  await server.listen();
  const metrics = new TraderMetrics();
  const monitor = new TradingMonitor(metrics, new LogAlerts(quiet));
  monitor.sink = server;
  server.attach({ journal: jB, metrics, kill: () => undefined });
  const a = createEngine({ symbol: 'BTCUSDT', config, journal: jA, logger: quiet, model, runTag: 'plain' });
  // The dashboard's own work, timed directly: the observer call (after the send, on the candle's
  // path) and the flush between candles (serialising the event, writing it to the SSE client).
  const inPath: number[] = [];
  const between: number[] = [];
  const timed = {
    onCandle: (e: Parameters<typeof monitor.onCandle>[0]) => {
      const t = performance.now();
      monitor.onCandle(e);
      inPath.push(performance.now() - t);
    },
  };
  const flush = monitor.flush.bind(monitor);
  monitor.flush = () => {
    const t = performance.now();
    flush();
    between.push(performance.now() - t);
  };
  const b = createEngine({ symbol: 'BTCUSDT', config, journal: jB, logger: quiet, model, runTag: 'dash', observer: timed });
  const ac = new AbortController();
  let received = 0;
  const res = await fetch(`http://127.0.0.1:${server.port}/api/stream`, { signal: ac.signal });
  const reader = res.body!.getReader();
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      received += value?.length ?? 0;
    }
  })();
  while (server.clients === 0) await new Promise((r) => setTimeout(r, 10));
  const send: Record<'plain' | 'dash', number[]> = { plain: [], dash: [] };
  const whole: Record<'plain' | 'dash', number[]> = { plain: [], dash: [] };
  const step = async (name: 'plain' | 'dash', e: typeof a, i: number): Promise<void> => {
    const t0 = performance.now();
    const r = await e.onCandle(candleAt(feed, i), t0);
    const t1 = performance.now();
    if (e.stats.candles > 300 && r) {
      send[name].push(Number.isNaN(r.decisionToSendMs) ? t1 - t0 : r.decisionToSendMs);
      whole[name].push(t1 - t0);
    }
    await new Promise<void>((r2) => setImmediate(r2));
  };
  for (let i = 0; i < feed.length; i++) {
    if (i % 2 === 0) {
      await step('plain', a, i);
      await step('dash', b, i);
    } else {
      await step('dash', b, i);
      await step('plain', a, i);
    }
  }
  const pa = percentiles(send.plain);
  const pb = percentiles(send.dash);
  const wa = percentiles(whole.plain);
  const wb = percentiles(whole.dash);
  const dashRows: (string | number)[][] = [['path (lockstep, NORMAL journal)', 'decisions', 'candle->send p50 ms', 'candle->send p99 ms', 'whole onCandle p50 ms', 'whole onCandle p99 ms']];
  dashRows.push(['TradingEngine, no dashboard (baseline)', send.plain.length, pa.median, pa.p99, wa.median, wa.p99]);
  dashRows.push(['TradingEngine + dashboard observer, metrics, 1 SSE client', send.dash.length, pb.median, pb.p99, wb.median, wb.p99]);
  dashRows.push(['added by the dashboard (goal p99 < 0.2 ms)', '', pb.median - pa.median, pb.p99 - pa.p99, wb.median - wa.median, wb.p99 - wa.p99]);
  console.log('');
  console.log(`dashboard overhead: ${received} bytes of live events streamed to the SSE client`);
  printTable(dashRows);
  const pi = percentiles(inPath.slice(300));
  const pf = percentiles(between.slice(300));
  console.log('');
  printTable([
    ['dashboard work per candle', 'n', 'p50 ms', 'p99 ms', 'where'],
    ['observer.onCandle (metrics, alert checks, queue)', inPath.length - 300, pi.median, pi.p99, 'after the send: never delays that order'],
    ['flush (JSON of the event, write to 1 SSE client)', between.length - 300, pf.median, pf.p99, 'between candles (setImmediate)'],
    ['sum (upper bound on what the next candle can wait)', '', pi.median + pf.median, pi.p99 + pf.p99, 'goal < 0.2 ms'],
  ]);
  ac.abort();
  await reading;
  await server.close();
  jA.close();
  jB.close();
}
model.dispose();
