// Backtest loop speed: 1,000,000 bars with a precomputed signal through the full engine
// (SimulatedAccount: fees, slippage, rebalance threshold, stop/take-profit, liquidation checks,
// fill and trade records), against a bare loop doing only the equity arithmetic (fill the target at
// the next open with fee and slippage, mark to market at the close) in the same run.
// Goal (issue 10): >= 5,000,000 bars/s and within 3x of the bare loop.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { allocColumns } from '@task-agnostic/core';
import type { CandleColumns } from '@task-agnostic/core';
import { runSignalBacktest, simulateSignals } from '@task-agnostic/backtest';
import { percentiles, printTable } from './data-dir.js';

const N = 1_000_000;

/** A seeded random walk (LCG) with consistent OHLC; synthetic so the figure needs no data files. */
function randomWalk(n: number): CandleColumns {
  const c = allocColumns(n);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  let p = 100;
  for (let i = 0; i < n; i++) {
    const o = p;
    const cl = o * (1 + (rnd() - 0.5) * 0.01);
    c.tsMs[i] = i * 60_000;
    c.open[i] = o;
    c.close[i] = cl;
    c.high[i] = Math.max(o, cl) * (1 + rnd() * 0.002);
    c.low[i] = Math.min(o, cl) * (1 - rnd() * 0.002);
    c.volume[i] = 1;
    p = cl;
  }
  return c;
}

/** Momentum sign over 24 bars, 0.5 of equity: flips every few dozen bars. */
function momentumSignal(c: CandleColumns): Float64Array {
  const s = new Float64Array(c.length).fill(NaN);
  for (let t = 24; t < c.length; t++) s[t] = c.close[t]! > c.close[t - 24]! ? 0.5 : -0.5;
  return s;
}

/**
 * The baseline: only the equity arithmetic of the same strategy (no stops, no records, no checks).
 * Like the engine it returns a fresh equity curve.
 */
function bareLoop(c: CandleColumns, signal: Float64Array, fee: number, slip: number): Float64Array {
  const equity = new Float64Array(c.length);
  const { open, close } = c;
  let cash = 10_000;
  let qty = 0;
  let pending = NaN;
  for (let t = 0; t < c.length; t++) {
    if (pending === pending) {
      const o = open[t]!;
      const target = (pending * (cash + qty * o)) / o;
      const d = target - qty;
      if (d !== 0) {
        const px = o * (1 + (d > 0 ? slip : -slip));
        cash -= d * px + Math.abs(d) * px * fee;
        qty = target;
      }
      pending = NaN;
    }
    const s = signal[t]!;
    if (s === s) pending = s;
    equity[t] = cash + qty * close[t]!;
  }
  return equity;
}

// A full collection before each timed run, so no case pays for the garbage of the one before it.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Times every case once per round, rounds interleaved (so load from other processes hits all
 * alike), with a full GC before each timed run.
 */
function timeInterleaved(cases: readonly (() => unknown)[], rounds: number): number[][] {
  const out: number[][] = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    cases.forEach((fn, i) => {
      gc();
      const t = performance.now();
      fn();
      out[i]!.push(performance.now() - t);
    });
  }
  return out;
}

const candles = randomWalk(N);
const signal = momentumSignal(candles);
const reps = 11;
// stop 1.5% / take-profit 2.5%: the source design's risk defaults
const stopCfg = { interval: '1m' as const, stopLossPct: 0.015, takeProfitPct: 0.025, leverage: 3 };
// warm-up so every loop is optimised before timing
bareLoop(candles, signal, 0.001, 0.0005);
runSignalBacktest(candles, signal, { interval: '1m' });
runSignalBacktest(candles, signal, stopCfg);
const times = timeInterleaved(
  [
    () => bareLoop(candles, signal, 0.001, 0.0005),
    () => simulateSignals(candles, signal, { interval: '1m' }),
    () => simulateSignals(candles, signal, stopCfg),
    () => runSignalBacktest(candles, signal, { interval: '1m' }),
    () => runSignalBacktest(candles, signal, stopCfg),
  ],
  reps,
);
const [bare, loop, loopStops, full, fullStops] = times.map((xs) => percentiles(xs).median) as [number, number, number, number, number];
// The ratio is the median over rounds of (case / bare loop in the same round): robust to the load of
// other processes changing between rounds.
const ratio = (k: number) => percentiles(times[k]!.map((x, r) => x / times[0]![r]!)).median;
const fills = simulateSignals(candles, signal, { interval: '1m' }).account.fillLog.length;
const fillsStops = simulateSignals(candles, signal, stopCfg).account.fillLog.length;

const rate = (ms: number) => (N / ms) * 1000;
const goal = (ms: number, k: number) => (rate(ms) >= 5e6 && ratio(k) <= 3 ? 'met' : 'MISSED');
console.log(`${N.toLocaleString('en')} bars; ${fills.toLocaleString('en')} fills (${fillsStops.toLocaleString('en')} with stops); median of ${reps} interleaved rounds`);
printTable([
  ['loop', 'median ms', 'bars/s', 'ratio to bare loop', 'goal (>= 5M bars/s, <= 3x bare)'],
  ['bare loop: equity arithmetic only (baseline)', bare, rate(bare), 1, '-'],
  ['simulateSignals: SimulatedAccount loop (fees, slippage, checks, fill records)', loop, rate(loop), ratio(1), goal(loop, 1)],
  ['simulateSignals + stop 1.5% / take-profit 2.5%, 3x leverage', loopStops, rate(loopStops), ratio(2), goal(loopStops, 2)],
  ['runSignalBacktest: loop + metrics + buy-and-hold + monthly', full, rate(full), ratio(3), 'for reference'],
  ['runSignalBacktest with stops', fullStops, rate(fullStops), ratio(4), 'for reference'],
]);
