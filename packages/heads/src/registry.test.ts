/**
 * The recipe of the README, run: a task defined OUTSIDE the package (only public exports used)
 * and used through the registry like a built-in one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_TASK_IDS, ConfigError, sliceColumns, type CandleColumns } from '@task-agnostic/core';
import { initBackend, tf } from '@task-agnostic/tf';
import { z } from 'zod/v3';
import {
  assembleTaskOutputs,
  checkCandles,
  createMlpHead,
  gatherTargets,
  getTask,
  horizonSchema,
  listTasks,
  meanSquaredError,
  parseState,
  registerTask,
  regressionMetrics,
  unregisterTask,
  type Task,
  type TaskFactory,
  type TaskState,
} from './index.js';
import { candlesFrom } from './test-candles.js';

// --- the custom task: forward mean log range ln(high/low) over (t, t+h], minus its training mean ---
const rangeConfig = z.object({ horizon: horizonSchema(3) }).strict();
type RangeConfig = z.infer<typeof rangeConfig>;
const rangeState = z.object({ task: z.literal('range'), mean: z.number() });

function createRangeTask(config: RangeConfig): Task<{ expectedRange: number }> {
  const h = config.horizon;
  const fwd = (c: CandleColumns, t: number) => {
    let s = 0;
    for (let k = t + 1; k <= t + h; k++) s += Math.log(c.high[k]! / c.low[k]!);
    return s / h;
  };
  const labelsWith = (c: CandleColumns, mean: number) => {
    checkCandles(c, ['high', 'low']);
    const targets = new Float32Array(c.length);
    const valid = new Uint8Array(c.length);
    for (let t = 0; t + h < c.length; t++) {
      targets[t] = fwd(c, t) - mean;
      valid[t] = 1;
    }
    return { targets, targetDim: 1, valid };
  };
  const task: Task<{ expectedRange: number }> = {
    id: 'range',
    kind: 'regression',
    horizon: h,
    outputDim: 1,
    targetDim: 1,
    config,
    fit(c: CandleColumns, trainEnd: number): TaskState {
      const train = sliceColumns(c, 0, trainEnd);
      let s = 0;
      for (let t = 0; t + h < trainEnd; t++) s += fwd(train, t);
      return { task: 'range', mean: s / (trainEnd - h) };
    },
    labels: (c, state) => labelsWith(c, parseState(rangeState, state, 'range').mean),
    buildHead: (inputDim, seed) => createMlpHead({ inputDim, outputDim: 1, seed, name: 'heads/range' }),
    loss: (output, targets) => meanSquaredError(output, targets),
    metrics: (outputs, targets, n) => regressionMetrics(outputs, targets, n),
    baseline(c, state, rows) {
      const l = task.labels(c, state);
      const y = gatherTargets(l.targets, 1, rows);
      return [{ name: 'zero', description: 'the training mean', metrics: task.metrics(new Float32Array(rows.length), y, rows.length) }];
    },
    decode: (output, state) => ({ expectedRange: output[0]! + parseState(rangeState, state, 'range').mean }),
  };
  return task;
}

const rangeFactory: TaskFactory<RangeConfig> = { id: 'range', description: 'forward mean bar range', configSchema: rangeConfig, create: createRangeTask };

beforeAll(async () => {
  await initBackend({ quiet: true });
});
afterAll(() => {
  unregisterTask('range');
});

describe('registry', () => {
  it('lists the seven built-in tasks in TaskOutputs order', () => {
    expect(listTasks().slice(0, 7)).toEqual([...BUILTIN_TASK_IDS]);
  });

  it('validates configs with errors naming the field, and unknown ids', () => {
    expect(getTask('direction').horizon).toBe(24);
    expect(getTask('direction', { horizon: 6 }).horizon).toBe(6);
    expect(() => getTask('direction', { horizon: -1 })).toThrow(/direction\.horizon/);
    expect(() => getTask('risk', { quantiles: [0.9, 0.5] })).toThrow(/risk\.quantiles/);
    expect(() => getTask('volatility', { ewmaLambda: 2 })).toThrow(ConfigError);
    expect(() => getTask('nope')).toThrow(/unknown task 'nope': registered tasks are direction, volatility/);
  });

  it('a task defined outside the package registers and works through the registry end to end', () => {
    registerTask(rangeFactory);
    expect(listTasks()).toContain('range');
    expect(() => registerTask(rangeFactory)).toThrow(/already registered/);
    expect(() => registerTask({ ...rangeFactory, id: 'direction' } as TaskFactory<RangeConfig>)).toThrow(/built-in/);
    expect(() => registerTask({ ...rangeFactory, id: 'Bad Id' } as TaskFactory<RangeConfig>)).toThrow(/must match/);
    expect(() => getTask('range', { horizon: 0 })).toThrow(/range\.horizon/);

    const task = getTask('range', { horizon: 2 });
    const c = candlesFrom([100, 101, 102, 101, 100, 99, 100], { wick: 0.01 });
    const state = task.fit(c, 5);
    const labels = task.labels(c, state);
    expect(labels.valid[4]).toBe(1);
    expect(labels.valid[5]).toBe(0);
    const head = task.buildHead(4, 1);
    const x = tf.ones([3, 4]) as tf.Tensor2D;
    const out = head.apply(x);
    expect(out.shape).toEqual([3, 1]);
    const y = tf.zeros([3, 1]) as tf.Tensor2D;
    const loss = task.loss(out, y);
    expect(Number.isFinite(loss.dataSync()[0]!)).toBe(true);
    const row = out.dataSync();
    const decoded = task.decode([row[0]!], state);
    const outputs = assembleTaskOutputs([
      ['range', decoded],
      ['anomaly', { probability: 0.1 }],
    ]);
    expect(outputs.anomaly).toEqual({ probability: 0.1 });
    expect((outputs.custom as Record<string, { expectedRange: number }>).range!.expectedRange).toBeCloseTo(row[0]! + (state as { mean: number }).mean, 6);
    expect(task.baseline(c, state, [0, 1, 2])[0]!.metrics.n).toBe(3);
    tf.dispose([x, out, y, loss]);
    head.dispose();
  });
});
