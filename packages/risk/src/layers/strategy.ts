import type { LayerContext, LayerResult } from './types.js';
import { approve, shrinkTo, veto } from './types.js';

/**
 * Strategy layer: recent performance -> allocation. Over the last `lookbackTrades` trades:
 * a run of `maxConsecutiveLosses` losses vetoes (for `lossStreakPauseMs` after the last one's exit,
 * when the state says when that was; then one trade may try again); otherwise allocation = clamp(profit factor,
 * minAllocation, 1) (gross wins / gross losses; a losing strategy trades smaller).
 */
export function strategyLayer(ctx: LayerContext): LayerResult {
  const s = ctx.state.strategy;
  const p = ctx.config.strategy;
  if (!s) return approve('strategy', ctx.sizeFraction, 'no trade history: not checked');
  const r = s.recentTradeReturns;
  const n = Math.min(r.length, p.lookbackTrades);
  if (n < p.minTrades) return approve('strategy', ctx.sizeFraction, `${n} trades < ${p.minTrades}: not judged yet`);
  let streak = 0;
  for (let i = r.length - 1; i >= 0 && r[i]! < 0; i--) streak++;
  if (streak >= p.maxConsecutiveLosses) {
    const last = s.lastTradeExitMs;
    const paused = last === undefined || p.lossStreakPauseMs === 0 || ctx.state.nowMs - last < p.lossStreakPauseMs;
    if (paused) {
      const until = last !== undefined && p.lossStreakPauseMs > 0 ? ` until ${new Date(last + p.lossStreakPauseMs).toISOString().slice(0, 16)}` : '';
      return veto('strategy', `${streak} consecutive losing trades (limit ${p.maxConsecutiveLosses})${until}`);
    }
  }
  let win = 0;
  let loss = 0;
  for (let i = r.length - n; i < r.length; i++) {
    const x = r[i]!;
    if (x > 0) win += x;
    else loss -= x;
  }
  const pf = loss > 0 ? win / loss : Infinity;
  const alloc = Math.max(p.minAllocation, Math.min(1, pf));
  if (alloc < 1) return shrinkTo('strategy', ctx.sizeFraction, ctx.sizeFraction * alloc, `profit factor ${pf.toFixed(2)} over the last ${n} trades: allocation x${alloc.toFixed(2)}`);
  return approve('strategy', ctx.sizeFraction, `profit factor ${Number.isFinite(pf) ? pf.toFixed(2) : 'inf'} over ${n} trades`);
}
