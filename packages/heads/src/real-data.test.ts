/** The tasks on real exchange candles (skipped with a printed reason where the data folder is absent). */
import { describe, expect, it } from 'vitest';
import { readCandlesCsvSync } from '@task-agnostic/core';
import { candleFile } from '@task-agnostic/test-utils';
import { getTask, listTasks } from './registry.js';

const file = candleFile('bybit_BTCUSDT_1h.csv');

describe('tasks on BTCUSDT 1h', () => {
  it.skipIf(!file)('every task fits on the first 80%, labels all rows with finite targets, and every class occurs', () => {
    const candles = readCandlesCsvSync(file!, { interval: '1h' }).candles;
    const trainEnd = Math.floor(candles.length * 0.8);
    for (const id of listTasks().slice(0, 7)) {
      const task = getTask(id, id === 'volatility' ? { garch: false } : undefined);
      const state = task.fit(candles, trainEnd);
      const l = task.labels(candles, state);
      let valid = 0;
      const seen = new Set<number>();
      for (let t = 0; t < candles.length; t++) {
        if (!l.valid[t]) continue;
        valid++;
        for (let d = 0; d < l.targetDim; d++) expect(Number.isFinite(l.targets[t * l.targetDim + d]!)).toBe(true);
        if (task.kind === 'classification') seen.add(l.targets[t]!);
      }
      expect(valid, id).toBe(candles.length - task.horizon);
      if (task.kind === 'classification') expect(seen.size, id).toBe(task.outputDim === 1 ? 2 : task.outputDim);
      const rows = [trainEnd + 10, trainEnd + 500, trainEnd + 5000];
      for (const b of task.baseline(candles, state, rows)) expect(b.metrics.n, `${id} ${b.name}`).toBe(3);
    }
  });
});
