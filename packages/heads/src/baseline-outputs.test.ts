import { describe, expect, it } from 'vitest';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { getTask, listTasks } from './registry.js';

// Every task's baselines carry their raw outputs (for paired comparisons with the model), and the
// reported metrics are exactly the task's metrics of those outputs; JSON stays without them.
describe('baseline outputs', () => {
  const c = generateSyntheticMarket({ bars: 1500, seed: 3 }).candles;
  for (const id of listTasks()) {
    it(id, () => {
      const task = getTask(id);
      const state = task.fit(c, 1000);
      const l = task.labels(c, state);
      const rows: number[] = [];
      for (let t = 1100; t < 1400; t++) if (l.valid[t]) rows.push(t);
      const y = new Float32Array(rows.length * task.targetDim);
      rows.forEach((t, i) => y.set(l.targets.subarray(t * task.targetDim, (t + 1) * task.targetDim), i * task.targetDim));
      const reports = task.baseline(c, state, rows);
      expect(reports.length).toBeGreaterThan(0);
      for (const b of reports) {
        expect(b.outputs, b.name).toBeInstanceOf(Float32Array);
        expect(b.outputs!.length).toBe(rows.length * task.outputDim);
        expect(task.metrics(b.outputs!, y, rows.length)).toEqual(b.metrics);
        expect(JSON.stringify(b)).not.toContain('outputs');
      }
    });
  }
});
