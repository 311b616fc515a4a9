/**
 * The evaluation the trader's deployment gate reads: on each symbol's validation rows, the model's
 * strategy against buy-and-hold and against the naive strategy with the best Sharpe there, as
 * paired Sharpe differences with intervals. A symbol passes when both intervals lie above 0.
 * Written into the artifact (model.json `evaluation`); test rows are never read.
 */
import { NAIVE_STRATEGY_NAMES, barReturns } from '@task-agnostic/backtest';
import type { DeploymentEvaluation, TaskAgnosticModel } from '@task-agnostic/model';
import type { TrainModelResult } from '@task-agnostic/training';
import type { TrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';
import { INTERVAL_METHOD, sharpeDifferenceInterval, sharpeInterval } from './edge-stats.js';
import { MODEL_STRATEGY, compareStrategies, type StrategyComparison } from './strategies.js';
import type { ThresholdsMode } from './decision-setup.js';
import type { Log } from './train-run.js';

export const GATE_LEVEL = 0.9;

/** Rows [trainEnd + purge gap, valEnd) of series i: the validation range the windows came from. */
export function validationRange(r: Pick<TrainModelResult, 'dataset'>, i: number): { start: number; end: number; trainEnd: number } {
  const b = r.dataset.boundaries[i]!;
  return { start: b.trainEnd + r.dataset.purgeGap, end: b.valEnd, trainEnd: b.trainEnd };
}

type SymbolEvaluation = DeploymentEvaluation['symbols'][number];

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : String(x));

/** Judges one symbol's comparison (the model's run must be named MODEL_STRATEGY). */
export function judgeComparison(c: StrategyComparison, seed: number): SymbolEvaluation {
  const model = c.runs.find((r) => r.name === MODEL_STRATEGY);
  const bh = c.runs.find((r) => r.name === 'buy-and-hold');
  if (!model || !bh) throw new Error(`${c.symbol}: the comparison lacks the model's run or buy-and-hold`);
  const naive = c.runs.filter((r) => (NAIVE_STRATEGY_NAMES as readonly string[]).includes(r.name));
  const best = naive.reduce((a, b) => (b.result.metrics.sharpe > a.result.metrics.sharpe ? b : a));
  const rm = barReturns(model.result);
  const o = { seed, level: GATE_LEVEL };
  const vsBuyAndHold = sharpeDifferenceInterval(rm, barReturns(bh.result), c.barsPerYear, o);
  const vsBest = sharpeDifferenceInterval(rm, barReturns(best.result), c.barsPerYear, o);
  const passed = vsBuyAndHold.lo > 0 && vsBest.lo > 0;
  const why = (what: string, d: { estimate: number; lo: number; hi: number }) =>
    `Sharpe difference with ${what} ${f2(d.estimate)} [${f2(d.lo)}, ${f2(d.hi)}] (${d.lo > 0 ? 'better: interval above 0' : d.hi < 0 ? 'worse: interval below 0' : 'no significant difference: interval includes 0'})`;
  const candles = model.result.candles;
  return {
    symbol: c.symbol,
    fromMs: candles.tsMs[0]!,
    toMs: candles.tsMs[candles.length - 1]!,
    bars: candles.length,
    strategies: c.runs.map((r) => {
      const m = r.result.metrics;
      return { name: r.name, sharpe: sharpeInterval(barReturns(r.result), c.barsPerYear, o), totalReturn: m.totalReturn, maxDrawdown: m.maxDrawdown, trades: m.trades };
    }),
    vsBuyAndHold,
    vsBestNaive: { name: best.name, ...vsBest },
    passed,
    reason: `${passed ? 'beat' : 'not proven'}: ${why('buy-and-hold', vsBuyAndHold)}; ${why(`the best naive strategy (${best.name})`, vsBest)}`,
  };
}

/** Builds the artifact's evaluation from per-symbol validation comparisons. */
export function deploymentEvaluation(cfg: TrainerConfig, comparisons: readonly StrategyComparison[]): DeploymentEvaluation {
  const symbols = comparisons.map((c) => judgeComparison(c, cfg.seed));
  const ok = symbols.filter((s) => s.passed).length;
  return {
    version: 1,
    split: 'validation',
    fusion: cfg.fusion.method,
    level: GATE_LEVEL,
    method: INTERVAL_METHOD,
    symbols,
    passed: symbols.length > 0 && ok === symbols.length,
    summary: `the ${cfg.fusion.method} strategy beat buy-and-hold and the best naive strategy (${(GATE_LEVEL * 100).toFixed(0)}% intervals of the Sharpe difference above 0) on ${ok} of ${symbols.length} symbol(s) of the validation split`,
  };
}

/** Runs the comparison on every symbol's validation rows and judges it; null when no symbol has enough validation bars. */
export function validateStrategies(cfg: TrainerConfig, model: TaskAgnosticModel, data: readonly SymbolData[], r: Pick<TrainModelResult, 'dataset'>, log: Log = () => {}, thresholds: ThresholdsMode = 'fitted'): { evaluation: DeploymentEvaluation; comparisons: StrategyComparison[] } | null {
  const comparisons: StrategyComparison[] = [];
  for (const [i, d] of data.entries()) {
    const v = validationRange(r, i);
    if (v.end - v.start < 2) {
      log(`validation ${d.symbol}: only ${Math.max(0, v.end - v.start)} validation bars after the purge gap: no strategy evaluation (lengthen the validation split)`);
      continue;
    }
    comparisons.push(compareStrategies(cfg, model, d, v.trainEnd, v.start, v.end, () => {}, thresholds));
  }
  if (!comparisons.length) return null;
  const evaluation = deploymentEvaluation(cfg, comparisons);
  for (const s of evaluation.symbols) log(`validation ${s.symbol} (${s.bars} bars): ${s.reason}`);
  log(`deployment evaluation: ${evaluation.summary}`);
  return { evaluation, comparisons };
}
