import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket, SEPARATED_MARKET } from './synthetic.js';
import { filterSyntheticRegimes } from './synthetic-oracle.js';
import { REGIMES } from './task-outputs.js';

const K = REGIMES.length;

describe('the oracle regime filter of the synthetic market', () => {
  const m = generateSyntheticMarket({ ...SEPARATED_MARKET, bars: 6000, seed: 3 });
  const f = filterSyntheticRegimes(m);

  it('gives a probability distribution per bar, and map is its argmax', () => {
    for (let i = 0; i < m.candles.length; i += 97) {
      let s = 0;
      let best = 0;
      for (let k = 0; k < K; k++) {
        s += f.probs[i * K + k]!;
        if (f.probs[i * K + k]! > f.probs[i * K + best]!) best = k;
      }
      expect(s).toBeCloseTo(1, 9);
      expect(f.map[i]).toBe(best);
    }
  });

  it('is causal: changing every bar after t leaves the filter at t unchanged', () => {
    const t = 3000;
    const other = generateSyntheticMarket({ ...SEPARATED_MARKET, bars: 6000, seed: 3 });
    for (let i = t + 1; i < other.candles.length; i++) {
      other.candles.close[i] = other.candles.close[i]! * (1 + 0.05 * Math.sin(i));
    }
    const g = filterSyntheticRegimes(other);
    expect(Array.from(g.probs.subarray(0, (t + 1) * K))).toEqual(Array.from(f.probs.subarray(0, (t + 1) * K)));
    expect(Array.from(g.probs.subarray((t + 2) * K, (t + 3) * K))).not.toEqual(Array.from(f.probs.subarray((t + 2) * K, (t + 3) * K)));
  });

  it('recovers the regimes of a clearly separated market far above chance (1/5), and better when it knows the volatility', () => {
    const acc = (map: Uint8Array) => {
      let ok = 0;
      for (let i = 200; i < map.length; i++) if (map[i] === m.regimes[i]) ok++;
      return ok / (map.length - 200);
    };
    const a = acc(f.map);
    expect(a).toBeGreaterThan(0.7);
    expect(acc(filterSyntheticRegimes(m, { knownVolatility: true }).map)).toBeGreaterThanOrEqual(a - 0.02);
  });

  it('reads flat prices as the lowest-volatility regime', () => {
    const flat = generateSyntheticMarket({ bars: 50, seed: 1 });
    flat.candles.close.fill(100);
    const g = filterSyntheticRegimes(flat);
    // zero returns favour the lowest-volatility regime; the filter must still be a distribution
    let s = 0;
    for (let k = 0; k < K; k++) s += g.probs[49 * K + k]!;
    expect(s).toBeCloseTo(1, 9);
    expect(REGIMES[g.map[49]!]).toBe('low_volatility');
  });
});
