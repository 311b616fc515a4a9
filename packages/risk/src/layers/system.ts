import type { LayerContext, LayerResult } from './types.js';
import { approve, pct, shrinkTo, veto } from './types.js';

/** System layer: error rate and latency (source budget: < 100 ms end to end). */
export function systemLayer(ctx: LayerContext): LayerResult {
  const s = ctx.state.system;
  const p = ctx.config.system;
  if (!s) return approve('system', ctx.sizeFraction, 'no system state: not checked');
  if (s.errorRate > p.maxErrorRate) return veto('system', `error rate ${pct(s.errorRate, 1)} > ${pct(p.maxErrorRate, 0)}`);
  if (s.latencyMs > p.maxLatencyMs) return veto('system', `latency ${s.latencyMs.toFixed(0)} ms > ${p.maxLatencyMs} ms`);
  if (s.latencyMs > p.latencyBudgetMs) {
    return shrinkTo('system', ctx.sizeFraction, ctx.sizeFraction * p.latencySizeFactor, `latency ${s.latencyMs.toFixed(0)} ms over the ${p.latencyBudgetMs} ms budget: size x${p.latencySizeFactor}`);
  }
  return approve('system', ctx.sizeFraction, `latency ${s.latencyMs.toFixed(0)} ms`);
}
