import { describe, expect, it } from 'vitest';
import { LrSchedule } from './schedule.js';
import { parseTrainingConfig } from './config.js';

describe('learning-rate schedules', () => {
  it('cosine: linear warm-up, then cosine from lr to minLrRatio*lr', () => {
    const s = new LrSchedule({ type: 'cosine', warmupSteps: 4, minLrRatio: 0.1 }, 1, 14);
    expect([0, 1, 2, 3].map((i) => s.lrAt(i))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(s.lrAt(4)).toBeCloseTo(1, 12);
    // halfway through the 10 decay steps: min + (1-min)/2
    expect(s.lrAt(9)).toBeCloseTo(0.1 + 0.45, 12);
    expect(s.lrAt(14)).toBeCloseTo(0.1, 12);
    expect(s.lrAt(100)).toBeCloseTo(0.1, 12);
  });

  it('reduce-on-plateau halves after patience epochs without improvement, down to minLr', () => {
    const s = new LrSchedule({ type: 'plateau', warmupSteps: 0, factor: 0.5, patience: 1, minLr: 0.2 }, 1, 100);
    expect(s.onEpochEnd(1)).toBe(false);
    expect(s.onEpochEnd(1)).toBe(false); // 1 bad epoch = patience, no cut yet
    expect(s.onEpochEnd(1.1)).toBe(true);
    expect(s.lrAt(50)).toBe(0.5);
    s.onEpochEnd(2);
    s.onEpochEnd(2);
    expect(s.lrAt(50)).toBe(0.25);
    s.onEpochEnd(2);
    s.onEpochEnd(2);
    expect(s.lrAt(50)).toBe(0.2);
    const t = new LrSchedule(s.config, 1, 100);
    t.setState(JSON.parse(JSON.stringify(s.getState())));
    expect(t.lrAt(50)).toBe(0.2);
  });
});

describe('training config', () => {
  it('fills defaults and names the bad field', () => {
    const c = parseTrainingConfig({});
    expect(c.harmoniser.name).toBe('loss-ratio');
    expect(c.harmoniser.alpha).toBe(1.5);
    expect(c.gradientMode).toBe('parameter');
    expect(() => parseTrainingConfig({ batchSize: 0 })).toThrow(/training\.batchSize/);
    expect(() => parseTrainingConfig({ harmoniser: { name: 'magic' } })).toThrow(/training\.harmoniser\.name/);
    expect(() => parseTrainingConfig({ schedule: { type: 'cosine', warmupSteps: -1 } })).toThrow(/training\.schedule\.warmupSteps/);
    expect(() => parseTrainingConfig({ epochz: 3 })).toThrow(/training/);
  });
});
