import { describe, expect, it } from 'vitest';
import { ConfigError, Rng } from '@task-agnostic/core';
import { configFor, decode, encode, parseSpace, samplePoint } from './sweep-space.js';

const good = {
  base: 'quick',
  overrides: { training: { epochs: 2 } },
  params: {
    'training.learningRate': { type: 'float', low: 1e-4, high: 1e-2, log: true },
    'training.batchSize': { type: 'int', low: 32, high: 128, step: 32 },
    'fusion.method': { type: 'choice', values: ['consistency', 'weighted'] },
  },
};

describe('search space', () => {
  it('parses a space and puts a trial\'s parameters into the base config', () => {
    const s = parseSpace(good);
    expect(s.names).toEqual(['training.learningRate', 'training.batchSize', 'fusion.method']);
    const cfg = configFor(s, { 'training.learningRate': 0.003, 'training.batchSize': 96, 'fusion.method': 'weighted' });
    expect(cfg.training).toMatchObject({ learningRate: 0.003, batchSize: 96, epochs: 2 });
    expect(cfg.fusion.method).toBe('weighted');
    expect(cfg.model.encoder).toBe('tiny'); // from the quick preset, untouched
  });

  it('names every bad field of a malformed space', () => {
    let err: unknown;
    try {
      parseSpace({
        params: {
          'training.learningRate': { type: 'float', low: 0.1, high: 0.01 },
          'training.weightDecay': { type: 'float', low: 0, high: 0.1, log: true },
          'model.encoderType': { type: 'choice', values: [] },
          'data.bars': { type: 'int', low: 1000, high: 2000 },
          'training.epochs': { type: 'range', low: 1, high: 3 },
        },
        extra: 1,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('params.training.learningRate.high: must be greater than low (0.1)');
    expect(msg).toContain('params.training.weightDecay.low: must be > 0 for a log range');
    expect(msg).toContain('params.model.encoderType.values: needs at least one value');
    expect(msg).toContain('params.data.bars: only model, training, pretrain, fusion, risk settings can be searched');
    expect(msg).toContain("params.training.epochs.type: must be 'float', 'int' or 'choice'");
    expect(msg).toMatch(/Unrecognized key\(s\) in object: 'extra'/);
  });

  it('refuses a parameter whose values the run config rejects, naming it', () => {
    expect(() => parseSpace({ params: { 'model.windowLength': { type: 'int', low: 1, high: 8 } } })).toThrow(/params\.model\.windowLength: .*model\.windowLength/);
  });

  it('decodes linear, log, stepped-int and choice parameters (hand-computed)', () => {
    expect(decode({ type: 'float', low: 2, high: 4, log: false }, 0.25)).toBeCloseTo(2.5, 12);
    expect(decode({ type: 'float', low: 1e-4, high: 1e-2, log: true }, 0.5)).toBeCloseTo(1e-3, 12);
    const int = { type: 'int' as const, low: 32, high: 128, step: 32, log: false };
    // four values, each a quarter of [0, 1)
    expect([0, 0.24, 0.25, 0.5, 0.74, 0.75, 0.999, 1].map((u) => decode(int, u))).toEqual([32, 32, 64, 96, 96, 128, 128, 128]);
    const ch = { type: 'choice' as const, values: ['a', 'b', 'c'] };
    expect([0, 0.34, 0.67, 1].map((u) => decode(ch, u))).toEqual(['a', 'b', 'c', 'c']);
    for (const v of [32, 64, 96, 128]) expect(decode(int, encode(int, v))).toBe(v);
    for (const v of ['a', 'b', 'c']) expect(decode(ch, encode(ch, v))).toBe(v);
    expect(encode({ type: 'float', low: 1e-4, high: 1e-2, log: true }, 1e-3)).toBeCloseTo(0.5, 12);
  });

  it('samples ints uniformly, ends included, and log ranges uniformly in the log', () => {
    const s = parseSpace(good);
    const rng = new Rng(1);
    const counts = new Map<number, number>();
    let below = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const p = samplePoint(s, rng);
      counts.set(p['training.batchSize'] as number, (counts.get(p['training.batchSize'] as number) ?? 0) + 1);
      if ((p['training.learningRate'] as number) < 1e-3) below++;
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([32, 64, 96, 128]);
    for (const c of counts.values()) expect(Math.abs(c / n - 0.25)).toBeLessThan(0.03);
    expect(Math.abs(below / n - 0.5)).toBeLessThan(0.03);
  });
});
