// Trader latency. First the single-symbol decision latency (trader-setup.ts, shared with
// trader-dashboard.bench.ts); then (issues 20 and 24) a 5-symbol portfolio replay of 1m candles with
// the fsynced journal: closed candle -> order sent. Two ways to run a time step, in lockstep over the
// same candles (which one goes first alternates each step, so both see the same machine load):
//   before: each symbol decided, journaled (its own transaction, one fsync) and sent before the next;
//   after:  every symbol decided first, the step's rows in ONE transaction (one fsync), then the sends;
//           latency rows batched after the sends and the WAL checkpoint run between candles.
// On a loaded machine compare the CPU per candle and the fsync (commit) counts; the latency columns
// need a quiet machine. TAT_BENCH_PORTFOLIO_STEPS=30000 is the 150,000-candle replay (p99 by
// fifth of the run shows any drift).
import { execSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { candleAt, generateSyntheticMarket, readCandlesCsvSync, type CandleColumns } from '@task-agnostic/core';
import { Journal, createLogger, createPortfolio, parseTraderConfig, type Portfolio } from '@task-agnostic/trader';
import { benchDataDir, percentiles, printTable } from './data-dir.js';
import { FIT, WARMUP, model, singleSymbolLatency } from './trader-setup.js';

/** Time steps of the 5-symbol portfolio replay (x 5 candles), after the warm-up steps. */
const STEPS = Number(process.env.TAT_BENCH_PORTFOLIO_STEPS ?? 400);
/** 'single', 'portfolio' or both (default). */
const ONLY = process.env.TAT_BENCH_TRADER_ONLY ?? '';

if (ONLY !== 'portfolio') await singleSymbolLatency();

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'DOGEUSDT'];

function portfolioSeries(): { src: string; series: CandleColumns[] } {
  const dir = benchDataDir();
  try {
    if (!dir) throw new Error('no data dir');
    const all = SYMBOLS.map((s) => readCandlesCsvSync(path.join(dir, 'candles', `bybit_${s}_1m.csv`), { interval: '1m' }).candles);
    const sets = all.map((c) => new Set(Array.from(c.tsMs)));
    const ts = Array.from(all[0]!.tsMs).filter((t) => sets.every((x) => x.has(t))).slice(FIT, FIT + STEPS + WARMUP);
    if (ts.length < STEPS + WARMUP) throw new Error(`only ${ts.length} common 1m timestamps`);
    const series = all.map((c) => {
      const idx = new Map(Array.from(c.tsMs).map((t, i) => [t, i]));
      const rows = ts.map((t) => idx.get(t)!);
      const pick = (x: ArrayLike<number>): Float64Array => Float64Array.from(rows, (i) => x[i]!);
      return { length: rows.length, tsMs: pick(c.tsMs), open: pick(c.open), high: pick(c.high), low: pick(c.low), close: pick(c.close), volume: pick(c.volume), turnover: pick(c.volume) };
    });
    return { src: 'real Bybit 1m', series };
  } catch {
    return { src: 'synthetic 1m', series: SYMBOLS.map((_s, k) => generateSyntheticMarket({ bars: STEPS + WARMUP, seed: 7 + k, interval: '1m' }).candles) };
  }
}

interface Run {
  readonly name: string;
  readonly pf: Portfolio;
  readonly journal: Journal;
  readonly sent: number[];
  readonly all: number[];
  cpuUs: number;
  wallMs: number;
  commits0: number;
  checkpoints0: number;
}

async function portfolioBench(): Promise<void> {
  const { src, series } = portfolioSeries();
  // Lowered entry thresholds so the untrained model's low-confidence outputs become orders.
  const cfg = parseTraderConfig({
    symbols: SYMBOLS, interval: '1m', statusEvery: 0, fusion: 'consistency', fusionConfig: { minConfidence: 0.3, minAgreement: 0.3, baseSizeFraction: 1 },
    risk: { minConfidence: 0.25, minAgreement: 0.15, baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1 }, strategy: { maxConsecutiveLosses: 1000 } },
  });
  const make = (name: string, batch: boolean): Run => {
    const journal = Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-bench-pf-')), 'j.db'), { synchronous: 'full' });
    const pf = createPortfolio({ config: cfg, journal, logger: createLogger({ level: 'silent' }), model, runTag: 'benchpf' });
    pf.batchSteps = batch;
    return { name, pf, journal, sent: [], all: [], cpuUs: 0, wallMs: 0, commits0: 0, checkpoints0: 0 };
  };
  const runs = [make('before: one transaction (fsync) per symbol, each symbol sent before the next is decided', false), make('after: one transaction per step, every symbol decided before the first send', true)];
  for (const r of runs) await r.pf.recover();
  const n = series[0]!.length;
  const stepOf = async (r: Run, i: number): Promise<void> => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const step = new Map(SYMBOLS.map((s, k) => [s, { candle: candleAt(series[k]!, i), receivedAt: t0 }]));
    const rs = await r.pf.step(step);
    const c = process.cpuUsage(c0);
    const t1 = performance.now();
    if (i < WARMUP) return;
    r.cpuUs += c.user + c.system;
    r.wallMs += t1 - t0;
    for (const x of rs) {
      if (!x) continue;
      if (Number.isNaN(x.decisionToSendMs)) r.all.push(t1 - t0);
      else {
        r.sent.push(x.decisionToSendMs);
        r.all.push(x.decisionToSendMs);
      }
    }
  };
  for (let i = 0; i < n; i++) {
    if (i === WARMUP) for (const r of runs) [r.commits0, r.checkpoints0] = [r.journal.writeStats.commits, r.journal.writeStats.checkpoints];
    const order = i % 2 === 0 ? runs : [...runs].reverse();
    for (const r of order) {
      await stepOf(r, i);
      await new Promise<void>((res) => setImmediate(res)); // between steps, as the replay and the stream yield
    }
  }
  const uptime = (() => {
    try {
      return execSync('uptime', { encoding: 'utf8' }).trim();
    } catch {
      return `load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}`;
    }
  })();
  console.log(`\n5-symbol portfolio replay (${src}, ${STEPS} steps x 5 symbols after ${WARMUP} warm-up steps, default preset, journal FULL), both ways in lockstep; uptime: ${uptime}`);
  const rows: (string | number)[][] = [['way', 'candles', 'candle -> order sent p50 ms', 'p99 ms', 'candle -> decided p99 ms', 'goal p99 < 10 ms', 'CPU ms / candle', 'commits (fsyncs) / step', 'WAL checkpoints']];
  for (const r of runs) {
    const ps = percentiles(r.sent);
    const pa = percentiles(r.all);
    const w = r.journal.writeStats;
    rows.push([r.name, r.all.length, ps.median, ps.p99, pa.p99, ps.p99 < 10 ? 'yes' : 'no', r.cpuUs / 1000 / r.all.length, (w.commits - r.commits0) / STEPS, w.checkpoints - r.checkpoints0]);
  }
  printTable(rows);
  // Drift over the run: p99 of closed candle -> decided by fifth of the run.
  const fifths: (string | number)[][] = [['p99 ms by fifth of the run', '1st', '2nd', '3rd', '4th', '5th']];
  for (const r of runs) {
    const k = Math.floor(r.all.length / 5);
    fifths.push([r.name.split(':')[0]!, ...[0, 1, 2, 3, 4].map((q) => percentiles(r.all.slice(q * k, (q + 1) * k)).p99)]);
  }
  console.log('');
  printTable(fifths);
  const stages: (string | number)[][] = [['stage (BTCUSDT engine)', ...runs.map((r) => `${r.name.split(':')[0]} p50 / p99 ms`)]];
  for (const s of ['predict', 'risk', 'journal', 'decision_to_send']) {
    stages.push([s, ...runs.map((r) => {
      const st = r.pf.engines.get('BTCUSDT')!.latency.stats(s);
      return `${st.p50.toFixed(2)} / ${st.p99.toFixed(2)}`;
    })]);
  }
  console.log('');
  printTable(stages);
  for (const r of runs) {
    for (const e of r.pf.engines.values()) e.flush();
    r.journal.close();
  }
}

if (ONLY !== 'single') await portfolioBench();
model.dispose();
