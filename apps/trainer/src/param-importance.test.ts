import { describe, expect, it } from 'vitest';
import { Rng } from '@task-agnostic/core';
import { paramImportance } from './param-importance.js';
import { parseSpace } from './sweep-space.js';

const space = parseSpace({
  params: {
    'training.learningRate': { type: 'float', low: 0.001, high: 0.01 },
    'fusion.method': { type: 'choice', values: ['consistency', 'weighted'] },
  },
});

describe('parameter importance', () => {
  it('is eta squared of a one-way ANOVA (hand-computed)', () => {
    // choice groups: consistency {1, 3} (mean 2), weighted {5, 7} (mean 6); grand mean 4
    // total SS = 9+1+1+9 = 20; between = 2*(2-4)^2 + 2*(6-4)^2 = 16 -> 0.8
    // learning rate ranks 1,5 | 3,7 (two bins by rank): means 3 and 5 -> between 2*1 + 2*1 = 4 -> 0.2
    const rows = [
      { params: { 'training.learningRate': 0.002, 'fusion.method': 'consistency' }, value: 1 },
      { params: { 'training.learningRate': 0.004, 'fusion.method': 'weighted' }, value: 5 },
      { params: { 'training.learningRate': 0.006, 'fusion.method': 'consistency' }, value: 3 },
      { params: { 'training.learningRate': 0.008, 'fusion.method': 'weighted' }, value: 7 },
    ];
    const imp = paramImportance(space, rows);
    expect(imp[1]!.etaSquared).toBeCloseTo(0.8, 12);
    expect(imp[0]!.etaSquared).toBeCloseTo(0.2, 12);
    expect(imp[0]!.share + imp[1]!.share).toBeCloseTo(1, 12);
  });

  it('ranks the parameter that drives the objective first', () => {
    const rng = new Rng(3);
    const rows = Array.from({ length: 40 }, () => {
      const lr = rng.uniform(0.001, 0.01);
      return { params: { 'training.learningRate': lr, 'fusion.method': rng.next() < 0.5 ? 'consistency' : 'weighted' }, value: (lr - 0.004) ** 2 * 1e5 + 0.01 * rng.normal() };
    });
    const [lr, method] = paramImportance(space, rows);
    expect(lr!.share).toBeGreaterThan(0.8);
    expect(method!.share).toBeLessThan(0.2);
  });
});
