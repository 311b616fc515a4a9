import { describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { parseSpace, samplePoint, type Params } from './sweep-space.js';
import { parzen, parzenDensity, suggestTpe, type Observation } from './sweep-tpe.js';

const space = parseSpace({
  params: {
    'training.learningRate': { type: 'float', low: 1e-4, high: 1e-1, log: true },
    'training.weightDecay': { type: 'float', low: 0, high: 1 },
    'fusion.method': { type: 'choice', values: ['consistency', 'weighted'] },
  },
});

/** A toy objective with its minimum at lr 1e-3, decay 0.7, weighted fusion. */
function loss(p: Params): number {
  const a = Math.log10(p['training.learningRate'] as number) + 3;
  const b = (p['training.weightDecay'] as number) - 0.7;
  return a * a + 4 * b * b + (p['fusion.method'] === 'weighted' ? 0 : 0.5);
}

function bestAfter(n: number, seed: number, tpe: boolean): number {
  const rng = new Rng(`toy:${seed}`);
  const hist: Observation[] = [];
  for (let i = 0; i < n; i++) {
    const p = tpe ? suggestTpe(space, hist, rng) : samplePoint(space, rng);
    hist.push({ params: p, loss: loss(p) });
  }
  return Math.min(...hist.map((h) => h.loss!));
}

describe('TPE', () => {
  it('the truncated Parzen mixture integrates to 1 on [0, 1]', () => {
    const ks = parzen([0.05, 0.1, 0.9]);
    let s = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) s += parzenDensity(ks, (i + 0.5) / n) / n;
    expect(s).toBeCloseTo(1, 3);
  });

  it('finds better points than random search with the same budget (20 seeds, 40 trials)', () => {
    const seeds = Array.from({ length: 20 }, (_, i) => i);
    const tpe = seeds.map((s) => bestAfter(40, s, true));
    const rnd = seeds.map((s) => bestAfter(40, s, false));
    const median = (x: number[]) => {
      const y = [...x].sort((a, b) => a - b);
      return (y[9]! + y[10]!) / 2;
    };
    // measured: median best 0.035 (TPE) vs 0.082 (random); TPE can stick with the worse choice
    // of the categorical parameter when the random start-up trials favour it (2 of 20 seeds here)
    expect(median(tpe)).toBeLessThan(0.6 * median(rnd));
    expect(seeds.filter((_, i) => tpe[i]! < rnd[i]!).length).toBeGreaterThanOrEqual(11);
  });

  it('is random for the startup trials and repeatable for a seed', () => {
    const hist: Observation[] = [{ params: samplePoint(space, new Rng(1)), loss: 1 }];
    expect(suggestTpe(space, hist, new Rng(5))).toEqual(samplePoint(space, new Rng(5)));
    const many: Observation[] = Array.from({ length: 15 }, (_, i) => {
      const p = samplePoint(space, new Rng(`h${i}`));
      return { params: p, loss: i === 3 ? null : loss(p) };
    });
    expect(suggestTpe(space, many, new Rng(9))).toEqual(suggestTpe(space, many, new Rng(9)));
  });
});
