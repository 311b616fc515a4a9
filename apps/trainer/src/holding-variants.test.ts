import { describe, expect, it } from 'vitest';
import { parseRiskConfig, withRiskOverrides } from '@task-agnostic/risk';
import { holdingHorizon, holdingVariants } from './holding-variants.js';

describe('holding variants of the decision policy', () => {
  it('are valid risk overrides over the trainer profile, the configured risk first', () => {
    const vs = holdingVariants(24);
    expect(vs.map((v) => v.name)).toEqual([
      'configured',
      'resize-band',
      'vol-exits-2x3',
      'vol-exits-3x5',
      'configured+long-only',
      'resize-band+long-only',
      'vol-exits-2x3+long-only',
      'vol-exits-3x5+long-only',
    ]);
    expect(vs.map((v) => v.sides ?? 'both')).toEqual(['both', 'both', 'both', 'both', 'long-only', 'long-only', 'long-only', 'long-only']);
    expect(vs[7]!.risk).toEqual(vs[3]!.risk);
    expect(vs[0]!.risk).toBeUndefined();
    const base = { profile: 'volTarget', sizing: { barsPerYear: 8760 } };
    const p = parseRiskConfig(withRiskOverrides(base, vs[3]!.risk));
    expect(p.exits).toMatchObject({ mode: 'volatility', stopVolMultiple: 3, takeProfitVolMultiple: 5, horizonBars: 24 });
    expect(p.sizing).toMatchObject({ mode: 'volTarget', barsPerYear: 8760, resizeBand: 0.5 });
    expect(parseRiskConfig(withRiskOverrides(base, vs[1]!.risk)).exits.mode).toBe('regime');
    expect(() => holdingVariants(0)).toThrow(/positive whole number/);
  });
  it('scale to the direction head horizon', () => {
    expect(holdingHorizon([{ id: 'volatility', horizon: 64 }, { id: 'direction', horizon: 12 }])).toBe(12);
    expect(holdingHorizon([{ id: 'volatility', horizon: 64 }, { id: 'return', horizon: 24 }])).toBe(64);
  });
});
