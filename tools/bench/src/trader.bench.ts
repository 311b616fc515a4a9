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
import { Journal, createLogger, createPortfolio, parseTraderConfig, type EngineObserver, type Portfolio } from '@task-agnostic/trader';
import { benchDataDir, percentiles, printTable } from './data-dir.js';
import { FIT, WARMUP, model, singleSymbolLatency } from './trader-setup.js';

/** Time steps of the 5-symbol portfolio replay (x 5 candles), after the warm-up steps. */
const STEPS = Number(process.env.TAT_BENCH_PORTFOLIO_STEPS ?? 400);
/** 'single', 'portfolio' or both (default). */
const ONLY = process.env.TAT_BENCH_TRADER_ONLY ?? '';
/** Which ways of the portfolio replay run: 'before', 'after' or both (default; in lockstep). */
const WAYS = process.env.TAT_BENCH_PORTFOLIO_WAYS ?? 'both';
if (!['before', 'after', 'both'].includes(WAYS)) {
  console.error(`TAT_BENCH_PORTFOLIO_WAYS must be before, after or both, got '${WAYS}'`);
  process.exit(2);
}

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

/** What is summed per fifth of the measured steps (drift: what grows with the length of the run). */
interface Fifth {
  candles: number;
  cpuUs: number;
  wallMs: number;
  /** Per-stage samples of every candle (the engine's stages: predict, risk, journal, decision_to_send, ...). */
  readonly stages: Map<string, number[]>;
  /** Work after the sends, outside the stages: latency-row batches (flush) and WAL checkpoints, ms per step. */
  postMs: number;
  postMax: number;
  commits: number;
  checkpoints: number;
}

interface Run {
  readonly name: string;
  pf: Portfolio;
  readonly journal: Journal;
  readonly sent: number[];
  readonly all: number[];
  cpuUs: number;
  wallMs: number;
  commits0: number;
  checkpoints0: number;
  readonly fifths: Fifth[];
  /** The fifth being measured (-1: warm-up). */
  cur: number;
  post: number;
}

const STAGES = ['predict', 'fusion', 'risk', 'journal', 'decision_to_send'] as const;

async function portfolioBench(): Promise<void> {
  const { src, series } = portfolioSeries();
  // Lowered entry thresholds so the untrained model's low-confidence outputs become orders.
  const cfg = parseTraderConfig({
    symbols: SYMBOLS, interval: '1m', statusEvery: 0, fusion: 'consistency', fusionConfig: { minConfidence: 0.3, minAgreement: 0.3, baseSizeFraction: 1 },
    risk: { minConfidence: 0.25, minAgreement: 0.15, baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1 }, strategy: { maxConsecutiveLosses: 1000 } },
  });
  const make = (name: string, batch: boolean): Run => {
    const journal = Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-bench-pf-')), 'j.db'), { synchronous: 'full' });
    const fifths: Fifth[] = [0, 1, 2, 3, 4].map(() => ({ candles: 0, cpuUs: 0, wallMs: 0, stages: new Map(STAGES.map((s) => [s, []])), postMs: 0, postMax: 0, commits: 0, checkpoints: 0 }));
    const run: Run = { name, pf: undefined as unknown as Portfolio, journal, sent: [], all: [], cpuUs: 0, wallMs: 0, commits0: 0, checkpoints0: 0, fifths, cur: -1, post: 0 };
    // Every candle's stages, by fifth of the run (the engine's own window keeps only the last 10,000).
    const observer: EngineObserver = {
      onCandle: (e) => {
        if (run.cur < 0) return;
        for (const [s, ms] of e.stages) fifths[run.cur]!.stages.get(s)?.push(ms);
      },
    };
    const pf = createPortfolio({ config: cfg, journal, logger: createLogger({ level: 'silent' }), model, runTag: 'benchpf', observer });
    pf.batchSteps = batch;
    // The work after the sends (latency batches, WAL checkpoints) is in no stage: timed here.
    const timed = <A extends unknown[], R>(f: (...a: A) => R) => (...a: A): R => {
      const t = performance.now();
      try {
        return f(...a);
      } finally {
        run.post += performance.now() - t;
      }
    };
    journal.checkpoint = timed(journal.checkpoint.bind(journal));
    for (const e of pf.engines.values()) e.flush = timed(e.flush.bind(e));
    run.pf = pf;
    return run;
  };
  const runs: Run[] = [];
  if (WAYS !== 'after') runs.push(make('before: one transaction (fsync) per symbol, each symbol sent before the next is decided', false));
  if (WAYS !== 'before') runs.push(make('after: one transaction per step, every symbol decided before the first send', true));
  for (const r of runs) await r.pf.recover();
  const n = series[0]!.length;
  const stepOf = async (r: Run, i: number): Promise<void> => {
    r.cur = i < WARMUP ? -1 : Math.min(4, Math.floor(((i - WARMUP) * 5) / STEPS));
    const w0 = r.journal.writeStats;
    r.post = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const step = new Map(SYMBOLS.map((s, k) => [s, { candle: candleAt(series[k]!, i), receivedAt: t0 }]));
    const rs = await r.pf.step(step);
    const c = process.cpuUsage(c0);
    const t1 = performance.now();
    if (i < WARMUP) return;
    r.cpuUs += c.user + c.system;
    r.wallMs += t1 - t0;
    const f = r.fifths[r.cur]!;
    const w1 = r.journal.writeStats;
    f.cpuUs += c.user + c.system;
    f.wallMs += t1 - t0;
    f.postMs += r.post;
    f.postMax = Math.max(f.postMax, r.post);
    f.commits += w1.commits - w0.commits;
    f.checkpoints += w1.checkpoints - w0.checkpoints;
    for (const x of rs) {
      if (!x) continue;
      f.candles++;
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
  console.log(`\n5-symbol portfolio replay (${src}, ${STEPS} steps x 5 symbols after ${WARMUP} warm-up steps, default preset, journal FULL), ${runs.length === 2 ? 'both ways in lockstep' : 'one way'}; uptime: ${uptime}`);
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
  // What grows: per fifth, the process CPU per candle, each stage's p50 / p99 (every symbol), the work
  // after the sends (latency batches + WAL checkpoints) per step, and the fsyncs and checkpoints.
  for (const r of runs) {
    const by: (string | number)[][] = [[`${r.name.split(':')[0]}, by fifth of the run`, '1st', '2nd', '3rd', '4th', '5th']];
    const row = (label: string, f: (x: Fifth) => string | number) => by.push([label, ...r.fifths.map(f)]);
    row('process CPU ms / candle', (x) => x.cpuUs / 1000 / Math.max(1, x.candles));
    row('wall ms / step', (x) => (x.wallMs * 5) / STEPS);
    for (const s of STAGES) {
      row(`${s} p50 / p99 ms`, (x) => {
        const p = percentiles(x.stages.get(s)!);
        return `${p.median.toFixed(3)} / ${p.p99.toFixed(3)}`;
      });
    }
    row('after the sends (latency rows, checkpoint) ms / step, max', (x) => `${((x.postMs * 5) / STEPS).toFixed(3)}, ${x.postMax.toFixed(1)}`);
    row('commits / step', (x) => (x.commits * 5) / STEPS);
    row('WAL checkpoints', (x) => x.checkpoints);
    console.log('');
    printTable(by);
  }
  for (const r of runs) {
    for (const e of r.pf.engines.values()) e.flush();
    r.journal.close();
  }
}

if (ONLY !== 'single') await portfolioBench();
model.dispose();
