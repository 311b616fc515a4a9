/**
 * `trainer backtest`: model -> fusion -> risk gate -> the backtest engine, over each symbol's test
 * range (the rows after validation and the purge gap, as in the evaluation). The decision step
 * is the trader's: the same fusion, the same RiskGate fed the same account view (risk's
 * AccountTracker), and risk's applyVerdict, so a paper run over the same candles trades alike.
 */
import { runBacktest, type BacktestResult, type SimulatedAccount } from '@task-agnostic/backtest';
import { AccountTracker, RiskGate, applyVerdict, type RiskState } from '@task-agnostic/risk';
import { riskConfigOf } from './risk-config.js';
import { sliceColumns, INTERVAL_MS, type TaskOutputs, type TradingDecision } from '@task-agnostic/core';
import type { TaskAgnosticModel } from '@task-agnostic/model';
import type { TrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';
import { decisionOf, type ThresholdsMode } from './decision-setup.js';
import type { Fuse } from '@task-agnostic/fusion';
import type { Log } from './train-run.js';

export interface SymbolBacktest {
  readonly symbol: string;
  readonly startRow: number;
  readonly result: BacktestResult;
  /** Decisions by action before the gate, and how many the gate vetoed or shrank. */
  readonly decisions: { buy: number; sell: number; hold: number; vetoed: number; shrunk: number };
  /** The most frequent veto/shrink reasons. */
  readonly topReasons: readonly { reason: string; count: number }[];
  /** The model's outputs for every bar of the range (for the per-head diagnostics). */
  readonly outputs: readonly TaskOutputs[];
}

/**
 * Backtests one symbol from `startRow` to the end of its candles, with the model's predictions for
 * every bar of that range, through the fusion and risk gate of the model's decision policy (the
 * fitted thresholds, or the source's with `thresholds: 'seed'`).
 */
export function backtestSymbol(cfg: TrainerConfig, model: TaskAgnosticModel, d: SymbolData, startRow: number, log: Log = () => {}, thresholds: ThresholdsMode = 'fitted', endRow = d.candles.length): SymbolBacktest {
  const n = Math.min(endRow, d.candles.length);
  if (startRow + 2 > n) throw new RangeError(`${d.symbol}: the range is too short to backtest (rows ${startRow} to ${n} of ${d.candles.length})`);
  const rows = Array.from({ length: n - startRow }, (_, i) => startRow + i);
  log(`backtest ${d.symbol}: predicting ${rows.length} bars`);
  // the symbol picks its own normaliser and task states where the model has them (per-symbol models)
  const outputs: TaskOutputs[] = model.predictCandles(d.candles, rows, { symbol: d.symbol });
  const decision = decisionOf(cfg, model, thresholds);
  return backtestOutputs(cfg, d, startRow, n, outputs, decision.fuse, decision.risk);
}

/**
 * Runs rows [startRow, endRow) of one symbol through `fuse`, a RiskGate with `risk` and the backtest
 * engine, given the model's outputs for exactly those rows. Reads no candle at or after endRow.
 */
export function backtestOutputs(cfg: TrainerConfig, d: SymbolData, startRow: number, endRow: number, outputs: readonly TaskOutputs[], fuse: Fuse, risk: unknown): SymbolBacktest {
  if (outputs.length !== endRow - startRow) throw new RangeError(`${d.symbol}: ${outputs.length} outputs for ${endRow - startRow} rows`);
  const candles = sliceColumns(d.candles, startRow, endRow);
  // cfg.risk with the policy's entry thresholds, over the trainer's default profile (volTarget), sized for the interval
  const gate = new RiskGate(riskConfigOf({ ...cfg, risk: (risk ?? {}) as Record<string, unknown> }, d.interval));
  const tracker = new AccountTracker();
  const barMs = INTERVAL_MS[d.interval];
  const counts = { buy: 0, sell: 0, hold: 0, vetoed: 0, shrunk: 0 };
  const reasons = new Map<string, number>();
  const decide = (t: number, acct: SimulatedAccount): TradingDecision | null => {
    const ts = candles.tsMs[t]!;
    const closeTs = ts + barMs;
    tracker.update(closeTs, acct.equity);
    const pos = acct.position();
    // the exposure held at the close (signed qty x close / equity): what a policy's no-trade band compares with, as in the trader
    const heldExposure = pos && acct.equity > 0 ? ((pos.side === 'long' ? pos.qty : -pos.qty) * candles.close[t]!) / acct.equity : 0;
    const decision = { ...fuse(outputs[t]!, { tsMs: ts, symbol: d.symbol, heldExposure }), tsMs: ts, symbol: d.symbol };
    counts[decision.action]++;
    const state: RiskState = {
      nowMs: closeTs,
      account: tracker.state(),
      positions: pos ? [{ symbol: d.symbol, side: pos.side, qty: pos.qty, markPrice: candles.close[t]! }] : [],
      exchange: { connected: true, lastDataMs: closeTs },
      strategy: { recentTradeReturns: acct.trades.slice(-20).map((x) => x.returnPct), ...(acct.trades.length ? { lastTradeExitMs: acct.trades[acct.trades.length - 1]!.exitMs } : {}) },
      system: { latencyMs: 0, errorRate: 0 },
    };
    const verdict = gate.check(decision, state);
    if (decision.action !== 'hold') {
      if (!verdict.approved) counts.vetoed++;
      else if (verdict.sizeFraction < decision.sizeFraction) counts.shrunk++;
      for (const r of verdict.reasons) {
        const key = r.replace(/[-+]?\d[\d.,%e-]*/g, '#');
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
      }
    }
    const target = applyVerdict(decision, verdict, pos?.side);
    if (!target) return null;
    return { ...decision, action: target.side === 'flat' ? 'sell' : decision.action, side: target.side, sizeFraction: target.sizeFraction, stopLossPct: target.stopLossPct, takeProfitPct: target.takeProfitPct };
  };
  const result = runBacktest(candles, decide, { ...(cfg.backtest as object), symbol: d.symbol, interval: d.interval });
  const topReasons = [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([reason, count]) => ({ reason, count }));
  return { symbol: d.symbol, startRow, result, decisions: counts, topReasons, outputs };
}
