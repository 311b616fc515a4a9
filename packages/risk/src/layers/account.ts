import { nextUtcDay } from '../account.js';
import type { LayerContext, LayerResult } from './types.js';
import { approve, pct, shrinkTo, veto } from './types.js';

/**
 * Account layer: daily loss >= 3% of the day's opening equity -> veto and no new trades until
 * the next UTC day (haltUntilMs); drawdown from the week's high >= 5% -> half size (source).
 */
export function accountLayer(ctx: LayerContext): LayerResult {
  const a = ctx.state.account;
  const p = ctx.config;
  if (!(a.equity > 0)) return veto('account', `equity ${a.equity} <= 0`);
  const dayLoss = a.dayStartEquity > 0 ? (a.dayStartEquity - a.equity) / a.dayStartEquity : 0;
  if (dayLoss >= p.dailyLossLimit) {
    const until = nextUtcDay(ctx.state.nowMs);
    return {
      ...veto('account', `daily loss ${pct(dayLoss)} reached the ${pct(p.dailyLossLimit, 0)} limit: no new trades until ${new Date(until).toISOString()}`),
      haltUntilMs: until,
    };
  }
  const weekDd = a.weekHighEquity > 0 ? (a.weekHighEquity - a.equity) / a.weekHighEquity : 0;
  if (weekDd >= p.weeklyDrawdownLimit) {
    const to = ctx.sizeFraction * p.weeklyDrawdownSizeFactor;
    return shrinkTo('account', ctx.sizeFraction, to, `weekly drawdown ${pct(weekDd)} >= ${pct(p.weeklyDrawdownLimit, 0)}: size x${p.weeklyDrawdownSizeFactor}`);
  }
  return approve('account', ctx.sizeFraction, `day ${pct(-dayLoss)}, week drawdown ${pct(weekDd)}`);
}
