/** Walk-forward folds as executor jobs: two local worker processes give the in-process result. */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatCandlesCsv, generateSyntheticMarket } from '@task-agnostic/core';
import { initBackend } from '@task-agnostic/tf';
import { resolveConfig } from './config.js';
import { LocalPool } from './local-pool.js';
import { parsePeriod, runWalkForward } from './walk-forward.js';

const D = (y: number, m: number, d: number) => Date.UTC(y, m, d);

describe('walk-forward on an executor', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-wf-exec-'));
  const data = path.join(dir, 'data');
  beforeAll(async () => {
    await initBackend({ quiet: true });
    mkdirSync(data);
    const m = generateSyntheticMarket({ bars: 24 * 100, seed: 4, symbol: 'SYNAUSDT', interval: '1h', startMs: D(2024, 0, 1) });
    writeFileSync(path.join(data, 'SYNAUSDT_1h.csv'), formatCandlesCsv(m.candles));
  });
  const config = (name: string) =>
    resolveConfig('quick', {
      name,
      out: path.join(dir, 'runs'),
      seed: 2,
      data: { source: 'csv', path: data, symbols: ['SYNAUSDT'] },
      model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction'] },
      training: { epochs: 1, batchSize: 64 },
      policy: { thresholds: 'seed' },
    } as never);

  it('runs the folds in two worker processes with the figures of the in-process run', async () => {
    const opts = { folds: 2, testLength: parsePeriod('2w'), retrain: 'expanding' as const, progress: false };
    const local = await runWalkForward(config('wf-here'), { ...opts, log: () => {} });
    const pool = new LocalPool({ processes: 2 });
    const lines: string[] = [];
    try {
      const pooled = await runWalkForward(config('wf-pool'), { ...opts, log: (l) => lines.push(l), executor: pool });
      const untimed = (x: typeof local) => ({ ...x, trainSecondsTotal: 0, wallSecondsTotal: 0, cpuSecondsTotal: 0, perFold: x.perFold.map((f) => ({ ...f, trainSeconds: 0, wallSeconds: 0, cpuSeconds: 0 })) });
      expect(untimed(pooled)).toEqual(untimed(local));
      expect(lines.filter((l) => /^fold \d\/2 done/.test(l))).toHaveLength(2);
    } finally {
      await pool.close();
    }
  });
});
