import { rollingCorrelation } from '../correlation.js';
import type { LayerContext, LayerResult } from './types.js';
import { approve, pct, shrinkTo, veto } from './types.js';

/**
 * Portfolio layer: a per-symbol cap (concentration) and the correlation limit: a new position
 * whose returns correlate >= maxCorrelation with an open position on the same side (or <= -max
 * on the opposite side: the same bet) is vetoed ("don't trade highly correlated assets together").
 */
export function portfolioLayer(ctx: LayerContext): LayerResult {
  const p = ctx.config.portfolio;
  const d = ctx.decision;
  let size = ctx.sizeFraction;
  const out: LayerResult[] = [];
  if (size > p.maxSymbolExposure) {
    out.push(shrinkTo('portfolio', size, p.maxSymbolExposure, `concentration: one symbol at most ${pct(p.maxSymbolExposure)}`));
    size = p.maxSymbolExposure;
  }
  const ret = ctx.state.returns;
  let checked = 0;
  if (ret) {
    for (const pos of ctx.state.positions) {
      if (pos.symbol === d.symbol || !pos.returns) continue;
      const key = `${d.symbol ?? '?'}|${pos.symbol}`;
      const { correlation, samples } = ctx.correlations
        ? ctx.correlations.correlation(key, ret, pos.returns, p.correlationWindow)
        : rollingCorrelation(ret, pos.returns, p.correlationWindow);
      if (samples < p.minCorrelationSamples) continue;
      checked++;
      const same = (d.side === 'long') === (pos.side === 'long');
      const effective = same ? correlation : -correlation;
      if (effective >= p.maxCorrelation) {
        return veto(
          'portfolio',
          `${d.symbol ?? 'the symbol'} ${d.side} correlates ${correlation.toFixed(2)} with open ${pos.symbol} ${pos.side} over ${samples} bars (limit ${p.maxCorrelation})`,
        );
      }
    }
  }
  const note = ret ? `correlation checked against ${checked} position(s)` : 'no returns for the symbol: correlation not checked';
  return out[0] ? { ...out[0], note } : approve('portfolio', size, note);
}
