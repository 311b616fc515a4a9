// The single-symbol decision latency and what the dashboard adds to it (issue 21); the 5-symbol portfolio replay is trader.bench.ts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { candleAt } from '@task-agnostic/core';
import { DashboardServer, Journal, LogAlerts, TraderMetrics, TradingMonitor, createEngine } from '@task-agnostic/trader';
import { percentiles, printTable } from './data-dir.js';
import { config, feed, model, quiet, singleSymbolLatency } from './trader-setup.js';

// The single-symbol decision latency first (trader-setup.ts, shared with trader.bench.ts).
await singleSymbolLatency();

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
