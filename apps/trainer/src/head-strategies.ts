/**
 * Diagnostics beside the naive strategies: each head traded on its own, with the same sizing and
 * rebalancing as the naive vol-targeted strategies, to show which head carries an edge and which
 * does not (the fused strategy mixes them). Not candidates for the deployment gate's "best naive".
 * - direction head: sign(p_up - p_down);
 * - return head: sign(expected return);
 * - volatility head: long, sized by the head's own forecast instead of GARCH's.
 */
import { thinSignal, volTargetFractions, type NaiveSignal, type VolTargetOptions } from '@task-agnostic/backtest';
import type { TaskOutputs } from '@task-agnostic/core';

export function headSignals(outputs: readonly TaskOutputs[], garchForecast: ArrayLike<number>, vt: VolTargetOptions, every: number): NaiveSignal[] {
  const n = outputs.length;
  const size = volTargetFractions(garchForecast, vt);
  const out: NaiveSignal[] = [];
  const tv = `sized like the vol-targeted strategies, rebalanced every ${every} bars`;
  if (outputs[0]?.direction) {
    const s = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      const d = outputs[t]!.direction!;
      s[t] = d.up > d.down ? size[t]! : d.up < d.down ? -size[t]! : 0;
    }
    out.push({ name: 'direction head alone', description: `sign(p_up - p_down), ${tv}`, signal: thinSignal(s, every) });
  }
  if (outputs[0]?.return) {
    const s = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      const e = outputs[t]!.return!.expected;
      s[t] = e > 0 ? size[t]! : e < 0 ? -size[t]! : 0;
    }
    out.push({ name: 'return head alone', description: `sign(expected return), ${tv}`, signal: thinSignal(s, every) });
  }
  if (outputs[0]?.volatility) {
    const f = Float64Array.from(outputs, (o) => o.volatility!.expected);
    out.push({ name: 'volatility head sizing', description: `long, sized by the volatility head's forecast instead of GARCH, rebalanced every ${every} bars`, signal: thinSignal(volTargetFractions(f, vt), every) });
  }
  return out;
}
