import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatCandlesCsv, generateSyntheticMarket } from '@task-agnostic/core';
import { initBackend } from '@task-agnostic/tf';
import { resolveConfig } from './config.js';
import { foldSpans, parsePeriod, runWalkForward } from './walk-forward.js';

const D = Date.UTC;

describe('walk-forward schedule', () => {
  it('parses periods and names bad ones', () => {
    expect(parsePeriod('3mo')).toEqual({ months: 3, ms: 0, text: '3mo' });
    expect(parsePeriod('1y').months).toBe(12);
    expect(parsePeriod('2w').ms).toBe(14 * 86_400_000);
    expect(() => parsePeriod('3 months')).toThrow(/--test-length '3 months' is not a period/);
    expect(() => parsePeriod('0d')).toThrow(/not a period/);
  });
  it('ends the last test period at the data end; expanding keeps the start, rolling keeps the length', () => {
    const e = foldSpans(D(2022, 0, 1), D(2026, 0, 1), 4, parsePeriod('3mo'), 'expanding');
    expect(e.map((f) => [f.testStartMs, f.testEndMs])).toEqual([
      [D(2025, 0, 1), D(2025, 3, 1)],
      [D(2025, 3, 1), D(2025, 6, 1)],
      [D(2025, 6, 1), D(2025, 9, 1)],
      [D(2025, 9, 1), D(2026, 0, 1)],
    ]);
    expect(e.every((f) => f.trainStartMs === D(2022, 0, 1))).toBe(true);
    const r = foldSpans(D(2022, 0, 1), D(2026, 0, 1), 4, parsePeriod('3mo'), 'rolling');
    expect(r[3]!.trainStartMs).toBe(D(2022, 0, 1) + (D(2025, 9, 1) - D(2025, 0, 1)));
    for (const f of r) expect(f.testStartMs - f.trainStartMs).toBe(D(2025, 0, 1) - D(2022, 0, 1));
    expect(() => foldSpans(D(2025, 0, 1), D(2026, 0, 1), 4, parsePeriod('3mo'), 'expanding')).toThrow(/need data from before 2025-01-01 00:00 for training, but the data starts at 2025-01-01 00:00/);
    expect(() => foldSpans(0, 1e12, 0, parsePeriod('3mo'), 'expanding')).toThrow(/--folds must be a positive integer/);
  });
});

describe('walk-forward run', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-wf-'));
  const data = path.join(dir, 'data');
  beforeAll(async () => {
    await initBackend({ quiet: true });
    mkdirSync(data);
    const m = generateSyntheticMarket({ bars: 24 * 120, seed: 4, symbol: 'SYNAUSDT', interval: '1h', startMs: D(2024, 0, 1) });
    writeFileSync(path.join(data, 'SYNAUSDT_1h.csv'), formatCandlesCsv(m.candles));
  });

  it('trains per fold, stitches the test periods, and resumes after a kill from the last finished fold', async () => {
    const cfg = resolveConfig('quick', {
      name: 'wf',
      out: path.join(dir, 'runs'),
      seed: 2,
      data: { source: 'csv', path: data, symbols: ['SYNAUSDT'], stride: 3 },
      model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction'] },
      training: { epochs: 1, batchSize: 64 },
    } as never);
    const opts = { folds: 3, testLength: parsePeriod('2w'), retrain: 'expanding' as const, progress: false };
    const log1: string[] = [];
    const full = await runWalkForward(cfg, { ...opts, log: (l) => log1.push(l) });
    expect(log1.filter((l) => /^fold \d\/3 done/.test(l))).toHaveLength(3);
    const bt = full.backtests[0]!;
    expect(bt.bars).toBe(3 * 14 * 24); // the three test periods, back to back
    expect(full.tasks[0]!.comparison!.n).toBeGreaterThan(900);
    expect(full.perFold.map((f) => f.index)).toEqual([0, 1, 2]);

    // Simulate a kill during fold 3: keep fold 1, and a torn half line of fold 2.
    const file = path.join(dir, 'runs', 'wf', 'walk-forward', 'folds.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    writeFileSync(file, lines[0] + '\n' + lines[1]!.slice(0, 100));
    const log2: string[] = [];
    const resumed = await runWalkForward(cfg, { ...opts, log: (l) => log2.push(l) });
    expect(log2.some((l) => l.includes('resuming after fold 1/3'))).toBe(true);
    expect(log2.filter((l) => /^fold \d\/3 done/.test(l))).toEqual([expect.stringMatching(/^fold 2\/3/), expect.stringMatching(/^fold 3\/3/)]);
    // Deterministic: the resumed run ends where the uninterrupted one did.
    expect({ ...resumed, trainSecondsTotal: 0, perFold: [] }).toEqual({ ...full, trainSecondsTotal: 0, perFold: [] });

    // A different schedule does not reuse these folds.
    await expect(runWalkForward(cfg, { ...opts, retrain: 'rolling', log: () => {} })).rejects.toThrow(/different walk-forward/);
  });
});
