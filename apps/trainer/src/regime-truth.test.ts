import { describe, expect, it } from 'vitest';
import type { REGIMES, TaskOutputs } from '@task-agnostic/core';
import { forwardTrueRegime, regimeTruthAccuracy, wilsonInterval } from './regime-truth.js';

const out = (label: (typeof REGIMES)[number]): TaskOutputs => ({ regime: { label, probs: {} as never, confidence: 1 } }) as TaskOutputs;

describe('regime truth', () => {
  it('forward regime = the most frequent true regime of bars t+1..t+h, ties to the lower index', () => {
    const r = Uint8Array.from([0, 1, 1, 2, 2, 2, 3]);
    expect(forwardTrueRegime(r, 0, 3)).toBe(1); // bars 1..3: 1,1,2
    expect(forwardTrueRegime(r, 2, 4)).toBe(2); // bars 3..6: 2,2,2,3
    expect(forwardTrueRegime(r, 0, 2)).toBe(1); // bars 1,2
    expect(forwardTrueRegime(Uint8Array.from([4, 3, 0]), 0, 2)).toBe(0); // tie 3 vs 0 -> 0
  });

  it('scores predictions against the truth by hand, per symbol and pooled', () => {
    // series 0: regimes 0 0 0 1 1 1 1 1 ; h = 2
    const a = { symbol: 'A', truth: { regimes: Uint8Array.from([0, 0, 0, 1, 1, 1, 1, 1]), sigma: new Float64Array(8) } };
    const b = { symbol: 'B' }; // no truth: skipped
    // rows (series, t): A t=0 fwd {0,0}=0; A t=2 fwd {1,1}=1 (now 0); A t=4 fwd 1; B t=1 (skipped)
    const rep = regimeTruthAccuracy({
      seriesIds: Int32Array.from([0, 0, 0, 1]),
      endRows: Int32Array.from([0, 2, 4, 1]),
      outputs: [out('bull'), out('bull'), out('bear'), out('bull')],
      series: [a, b],
      horizon: 2,
    })!;
    expect(rep.n).toBe(3);
    expect(rep.accuracy).toBeCloseTo(2 / 3, 12); // t=0 right, t=2 wrong (bull vs bear), t=4 right
    expect(rep.accuracyNow).toBeCloseTo(3 / 3, 12); // now: 0, 0, 1
    expect(rep.bySymbol.A!.confusion[1]![0]).toBe(1);
    expect(rep.spells).toBe(2); // bars 0..6 hold regimes 0 then 1
    expect(rep.bySymbol.B).toBeUndefined();
    expect(rep.blockInterval!.estimate).toBeCloseTo(2 / 3, 12);
    expect(rep.blockInterval!.lo).toBeLessThanOrEqual(2 / 3);
    expect(rep.blockInterval!.hi).toBeGreaterThanOrEqual(2 / 3);
    // every prediction right: a degenerate (constant) hit series still gets an interval at 1
    const all = regimeTruthAccuracy({ seriesIds: Int32Array.from([0, 0]), endRows: Int32Array.from([0, 4]), outputs: [out('bull'), out('bear')], series: [a], horizon: 2 })!;
    expect(all.accuracy).toBe(1);
    expect([all.blockInterval!.lo, all.blockInterval!.hi]).toEqual([1, 1]);
    expect(regimeTruthAccuracy({ seriesIds: Int32Array.from([0]), endRows: Int32Array.from([0]), outputs: [out('bull')], series: [b], horizon: 2 })).toBeNull();
  });

  it('scores the oracle on the same rows against the same forward truth, by hand', () => {
    // regimes 0 0 0 1 1 1 1 1, h = 2; the oracle says 0 0 0 0 1 1 1 1 (one bar late)
    const a = { symbol: 'A', truth: { regimes: Uint8Array.from([0, 0, 0, 1, 1, 1, 1, 1]), sigma: new Float64Array(8), oracle: Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 1]) } };
    // rows t = 0 (fwd 0, oracle 0: hit), 2 (fwd 1, oracle 0: miss), 3 (fwd 1, oracle 0: miss), 4 (fwd 1, oracle 1: hit)
    const rep = regimeTruthAccuracy({ seriesIds: Int32Array.from([0, 0, 0, 0]), endRows: Int32Array.from([0, 2, 3, 4]), outputs: [out('bull'), out('bull'), out('bull'), out('bull')], series: [a], horizon: 2 })!;
    expect(rep.oracleAccuracy).toBeCloseTo(2 / 4, 12);
    expect(rep.bySymbol.A!.oracleAccuracy).toBeCloseTo(2 / 4, 12);
    expect(rep.accuracy).toBeCloseTo(1 / 4, 12); // the head said bull (0) every time: right at t = 0 only
    // series without an oracle report none
    const b = { symbol: 'B', truth: { regimes: a.truth.regimes, sigma: a.truth.sigma } };
    expect(regimeTruthAccuracy({ seriesIds: Int32Array.from([0]), endRows: Int32Array.from([0]), outputs: [out('bull')], series: [b], horizon: 2 })!.oracleAccuracy).toBeUndefined();
  });

  it('Wilson interval matches the published formula (Wilson 1927): 8 of 10 -> [0.490, 0.943]', () => {
    const [lo, hi] = wilsonInterval(8, 10);
    expect(lo).toBeCloseTo(0.4902, 3);
    expect(hi).toBeCloseTo(0.9433, 3);
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
  });
});
