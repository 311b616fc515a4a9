// Decision fusion speed: one TaskOutputs record (all five heads) -> TradingDecision with its
// reasoning string, for both fusions. Baseline: the source design's budget, decision fusion < 2 ms.
import { createRng, REGIMES } from '@task-agnostic/core';
import type { Regime, TaskOutputs } from '@task-agnostic/core';
import { consistencyFusion, weightedSignalFusion } from '@task-agnostic/fusion';
import { percentiles, printTable } from './data-dir.js';

const rng = createRng(9);
const N = 20_000;
const inputs: TaskOutputs[] = Array.from({ length: 512 }, () => {
  const a = rng.next() + 1e-6, b = rng.next(), c = rng.next();
  const s = a + b + c;
  const label = REGIMES[rng.int(REGIMES.length)]!;
  const probs = Object.fromEntries(REGIMES.map((r) => [r, r === label ? 0.6 : 0.1])) as Record<Regime, number>;
  return {
    direction: { up: a / s, down: b / s, sideways: c / s },
    volatility: { expected: 0.01 * rng.next(), percentile: rng.next() },
    regime: { label, probs, confidence: 0.6 },
    return: { expected: rng.normal(0, 0.005), std: 0.01 },
    risk: { level: 'low', probs: { low: 0.6, medium: 0.3, high: 0.1 } },
  };
});

function time(fn: (o: TaskOutputs, i: number) => unknown): number[] {
  const out: number[] = [];
  for (let i = 0; i < N + 2_000; i++) {
    const o = inputs[i % inputs.length]!;
    const t = process.hrtime.bigint();
    fn(o, i);
    const dt = Number(process.hrtime.bigint() - t) / 1000;
    if (i >= 2_000) out.push(dt);
  }
  return out;
}

const cons = percentiles(time((o, i) => consistencyFusion(o, undefined, { tsMs: i, symbol: 'BTCUSDT' })));
const wsig = percentiles(time((o, i) => weightedSignalFusion(o, undefined, { tsMs: i, symbol: 'BTCUSDT' })));
const budgetUs = 2_000;
printTable([
  ['fusion (5 heads, with reasoning)', 'median us', 'p99 us', 'budget / median', 'goal'],
  ['consistencyFusion', cons.median, cons.p99, budgetUs / cons.median, cons.median < budgetUs ? '< 2 ms: met' : '< 2 ms: MISSED'],
  ['weightedSignalFusion', wsig.median, wsig.p99, budgetUs / wsig.median, wsig.median < budgetUs ? '< 2 ms: met' : '< 2 ms: MISSED'],
  ['source budget: decision fusion', budgetUs, '', 1, 'baseline'],
]);
