// Risk gate speed: a full seven-layer check of one decision against a 20-position portfolio
// (each position with a 2,000-bar returns history, correlation window 100), one new bar per check.
// Goal: median <= 50 us. Baselines in the same run: the same check with the correlation window
// recomputed every time (no cache), and a naive correlation over the full histories; beside them the
// source design's budget of 10 ms per position (< 50 ms per portfolio update).
import { correlation, createRng } from '@task-agnostic/core';
import type { TradingDecision } from '@task-agnostic/core';
import { RiskGate } from '@task-agnostic/risk';
import type { OpenPosition, RiskState } from '@task-agnostic/risk';
import { percentiles, printTable } from './data-dir.js';

const POSITIONS = 20;
const HISTORY = 2_000;
const CHECKS = 20_000;
const WARMUP = 2_000;
const rng = createRng(42);

function series(n: number): number[] {
  return Array.from({ length: n }, () => rng.normal(0, 0.01));
}

const decision: TradingDecision = {
  tsMs: 0,
  symbol: 'CANDUSDT',
  action: 'buy',
  side: 'long',
  confidence: 0.8,
  agreement: 0.9,
  sizeFraction: 0.02,
  stopLossPct: 0.015,
  takeProfitPct: 0.03,
  reasoning: 'bench',
  outputs: { volatility: { expected: 0.01, percentile: 0.5 } },
};

/** mode 'cached': append-only number[] (the cache slides); 'recompute': a fresh view each check (cache misses). */
function run(mode: 'cached' | 'recompute'): number[] {
  const cap = HISTORY + WARMUP + CHECKS + 1;
  const cand = new Float64Array(cap);
  const bufs = Array.from({ length: POSITIONS }, () => new Float64Array(cap));
  const arrays = Array.from({ length: POSITIONS }, () => series(HISTORY));
  const candArr = series(HISTORY);
  for (let i = 0; i < HISTORY; i++) {
    cand[i] = candArr[i]!;
    for (let p = 0; p < POSITIONS; p++) bufs[p]![i] = arrays[p]![i]!;
  }
  let len = HISTORY;
  const gate = new RiskGate();
  const times: number[] = [];
  let approved = 0;
  for (let k = 0; k < WARMUP + CHECKS; k++) {
    const r = rng.normal(0, 0.01);
    candArr.push(r);
    cand[len] = r;
    for (let p = 0; p < POSITIONS; p++) {
      const x = 0.2 * r + rng.normal(0, 0.01);
      arrays[p]!.push(x);
      bufs[p]![len] = x;
    }
    len++;
    const positions: OpenPosition[] = [];
    for (let p = 0; p < POSITIONS; p++) {
      positions.push({
        symbol: `SYM${p}USDT`,
        side: p % 2 ? 'short' : 'long',
        qty: 0.01,
        markPrice: 200,
        returns: mode === 'cached' ? arrays[p]! : bufs[p]!.subarray(0, len),
      });
    }
    const nowMs = 1_700_000_000_000 + k * 60_000;
    const state: RiskState = {
      nowMs,
      account: { equity: 100_000, dayStartEquity: 100_500, weekHighEquity: 101_000, peakEquity: 102_000 },
      positions,
      returns: mode === 'cached' ? candArr : cand.subarray(0, len),
      exchange: { connected: true, lastDataMs: nowMs - 300, rateLimitRemaining: 80 },
      market: { spreadPct: 0.0003, depthNotional: 2_000_000, lastBarMovePct: 0.004 },
      strategy: { recentTradeReturns: [0.01, -0.005, 0.012, -0.008, 0.004, 0.006, -0.002] },
      system: { latencyMs: 25, errorRate: 0.01 },
    };
    const t = process.hrtime.bigint();
    const v = gate.check({ ...decision, tsMs: nowMs }, state);
    const dt = Number(process.hrtime.bigint() - t) / 1000;
    if (v.approved) approved++;
    if (k >= WARMUP) times.push(dt);
  }
  if (approved === 0) throw new Error('benchmark setup vetoes every check; it would not measure the full path');
  const s = gate.correlationStats;
  console.log(`${mode}: ${approved} approved of ${WARMUP + CHECKS}; correlation full=${s.full} slid=${s.slid} hits=${s.hits}`);
  return times;
}

function naiveCorrelationTimes(): number[] {
  const hist = Array.from({ length: POSITIONS }, () => series(HISTORY));
  const cand = series(HISTORY);
  const times: number[] = [];
  let sink = 0;
  for (let k = 0; k < 2_000; k++) {
    const t = process.hrtime.bigint();
    for (let p = 0; p < POSITIONS; p++) sink += correlation(cand, hist[p]!);
    times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  if (!Number.isFinite(sink)) throw new Error('unreachable');
  return times;
}

const cached = percentiles(run('cached'));
const recompute = percentiles(run('recompute'));
const naive = percentiles(naiveCorrelationTimes());
const budgetUs = 10_000 * POSITIONS; // source: < 10 ms per position
const portfolioBudgetUs = 50_000; // source: < 50 ms per portfolio update

printTable([
  ['what (20 positions, 2,000-bar histories)', 'median us', 'p99 us', 'budget / median', 'goal'],
  ['seven-layer check, correlation cache (ours)', cached.median, cached.p99, portfolioBudgetUs / cached.median, cached.median <= 50 ? 'median <= 50 us: met' : 'median <= 50 us: MISSED'],
  ['seven-layer check, window recomputed (no cache)', recompute.median, recompute.p99, portfolioBudgetUs / recompute.median, ''],
  ['naive: correlation only, full 2,000-bar histories', naive.median, naive.p99, portfolioBudgetUs / naive.median, ''],
  ['source budget: 10 ms / position x 20', budgetUs, '', '', 'baseline'],
  ['source budget: 50 ms / portfolio update', portfolioBudgetUs, '', 1, 'baseline'],
]);
