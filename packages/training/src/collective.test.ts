import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '@task-agnostic/tf';
import { Rng } from '@task-agnostic/core';
import { buildParts } from './dp-test-recipe.js';
import { Harmoniser } from './harmoniser.js';
import { gatherBatch } from './split.js';
import { computeStepGradients } from './step.js';
import { toySplit } from './toy-data.js';
import { CTRL, DEFAULT_SPIN_MS, SharedCollective, collectiveBytes, reduceGradients, spinUntilChange, type StepCollective } from './collective.js';

describe('spinUntilChange (polling before sleeping)', () => {
  it('returns true at once when the word already differs, false after about spinMs when it does not', () => {
    const ctrl = new Int32Array(new SharedArrayBuffer(16 * 4));
    Atomics.store(ctrl, CTRL.command, 3);
    expect(spinUntilChange(ctrl, CTRL.command, 2, 1000)).toBe(true);
    const t0 = performance.now();
    expect(spinUntilChange(ctrl, CTRL.command, 3, 30)).toBe(false);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(29);
    expect(ms).toBeLessThan(1000);
    // 0 = no polling: one look
    expect(spinUntilChange(ctrl, CTRL.command, 3, 0)).toBe(false);
    expect(spinUntilChange(ctrl, CTRL.command, 4, 0)).toBe(true);
  });

  it('stops early when a rank has failed', () => {
    const ctrl = new Int32Array(new SharedArrayBuffer(16 * 4));
    Atomics.store(ctrl, CTRL.failed, 2);
    const t0 = performance.now();
    expect(spinUntilChange(ctrl, CTRL.command, 0, 5000)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('sees a change another thread makes while it polls (no sleep, no notify needed)', async () => {
    const buf = new SharedArrayBuffer(16 * 4);
    const ctrl = new Int32Array(buf);
    // the other thread raises the word 20 ms after it starts, without Atomics.notify
    const w = new Worker(
      `const { workerData } = require('node:worker_threads');
       const c = new Int32Array(workerData);
       Atomics.store(c, 15, 1);
       const t = Date.now(); while (Date.now() - t < 20);
       Atomics.store(c, ${CTRL.command}, 7);`,
      { eval: true, workerData: buf },
    );
    try {
      // wait (sleeping) until the worker runs, then poll for its store
      while (Atomics.load(ctrl, 15) === 0) Atomics.wait(ctrl, 15, 0, 10);
      const t0 = performance.now();
      expect(spinUntilChange(ctrl, CTRL.command, 0, 5000)).toBe(true);
      expect(Atomics.load(ctrl, CTRL.command)).toBe(7);
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      await w.terminate();
    }
  });

  it('a rank that sees the failure flag before the message is written waits for the message (never an empty reason)', async () => {
    const layout = { ranks: 2, slotLen: 4 };
    const buf = new SharedArrayBuffer(collectiveBytes(layout));
    const c = new SharedCollective(buf, layout, 0, 5_000, 0);
    // another thread fails as fail() does: claims the flag (-1), takes 50 ms to write its message
    // (the text after the 16 control words, then its length), then names its rank (1 -> flag 2)
    const w = new Worker(
      `const { workerData } = require('node:worker_threads');
       const c = new Int32Array(workerData, 0, 16);
       Atomics.compareExchange(c, ${CTRL.failed}, 0, -1);
       const t = Date.now(); while (Date.now() - t < 50);
       const msg = new TextEncoder().encode('exited with code 3 mid-step');
       new Uint8Array(workerData, 16 * 4, msg.length).set(msg);
       Atomics.store(c, ${CTRL.failLen}, msg.length);
       Atomics.store(c, ${CTRL.failed}, 2);`,
      { eval: true, workerData: buf },
    );
    try {
      while (Atomics.load(c.ctrl, CTRL.failed) === 0) Atomics.wait(c.ctrl, CTRL.failed, 0, 5);
      expect(() => c.check()).toThrow(/^data-parallel step failed: worker 1: exited with code 3 mid-step$/);
    } finally {
      await w.terminate();
    }
    // fail() itself publishes the rank only with its message
    const c2 = new SharedCollective(new SharedArrayBuffer(collectiveBytes(layout)), layout, 0, 5_000, 0);
    c2.fail(1, 'boom');
    expect(Atomics.load(c2.ctrl, CTRL.failed)).toBe(2);
    expect(() => c2.check()).toThrow(/worker 1: boom$/);
    c2.fail(0, 'second');
    expect(() => c2.check()).toThrow(/worker 1: boom$/);
    // a writer that never finishes: a bounded wait and a message that says so
    const c3 = new SharedCollective(new SharedArrayBuffer(collectiveBytes(layout)), layout, 0, 5_000, 0);
    Atomics.store(c3.ctrl, CTRL.failed, -1);
    expect(() => c3.check()).toThrow(/a rank failed without writing its reason within 1 s/);
  });

  it("the collective's waits poll for spinMs (default DEFAULT_SPIN_MS), then sleep, and still time out with a message", () => {
    const layout = { ranks: 2, slotLen: 4 };
    const buf = new SharedArrayBuffer(collectiveBytes(layout));
    expect(new SharedCollective(buf, layout, 0, 1000).spinMs).toBe(DEFAULT_SPIN_MS);
    const c = new SharedCollective(buf, layout, 0, 80, 20);
    expect(c.spinMs).toBe(20);
    const t0 = performance.now();
    // rank 1 never arrives
    expect(() => c.barrier()).toThrow(/no answer from the other ranks within 80 ms/);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(79);
  });
});

describe('reduceGradients with extra values', () => {
  it('reduces extra values (slice losses) in the same pass, scaled like the gradients, and writes the sums back', async () => {
    await initBackend({ prefer: 'cpu', quiet: true });
    const layout = { ranks: 1, slotLen: 16 };
    const c = new SharedCollective(new SharedArrayBuffer(collectiveBytes(layout)), layout, 0, 1000);
    let reduces = 0;
    const coll: StepCollective = {
      fraction: 0.5,
      rowOffset: 0,
      totalRows: 4,
      rank: 0,
      allReduce: (v) => c.allReduce(v),
      allReduceScaled: (p, s, w) => {
        reduces++;
        return c.allReduceScaled(p, s, w);
      },
    };
    const losses = [3, 5];
    const out = reduceGradients(coll, [tf.tensor1d([2, 4]), null, tf.tensor1d([6])], 0.5, true, losses);
    // one reduce for gradients and losses together; one rank: the sums are 0.5 x the values
    expect(reduces).toBe(1);
    expect(Array.from(out[0]!.dataSync())).toEqual([1, 2]);
    expect(out[1]).toBeNull();
    expect(Array.from(out[2]!.dataSync())).toEqual([3]);
    expect(losses).toEqual([1.5, 2.5]);
    tf.dispose(out.filter((t): t is tf.Tensor => t !== null));
    // without allReduceScaled there is no combined form
    expect(() => reduceGradients({ ...coll, allReduceScaled: undefined }, [tf.tensor1d([1])], 1, true, [1])).toThrow(/allReduceScaled/);
  });
});

describe('the step on a collective', () => {
  it('reduces the losses with the final gradients (one reduce) unless the weights use this step\'s losses (loss-ratio)', async () => {
    await initBackend({ prefer: 'cpu', quiet: true });
    const parts = buildParts({ T: 6, F: 3, D: 8, seed: 1 });
    const batch = gatherBatch(toySplit(32, 6, 3, 'train'), Array.from({ length: 16 }, (_, i) => i));
    const layout = { ranks: 1, slotLen: 4096 };
    try {
      for (const [name, expected] of [['equal', { allReduce: 0, scaled: 1 }], ['uncertainty', { allReduce: 0, scaled: 1 }], ['loss-ratio', { allReduce: 1, scaled: 1 }]] as const) {
        const c = new SharedCollective(new SharedArrayBuffer(collectiveBytes(layout)), layout, 0, 1000);
        const calls = { allReduce: 0, scaled: 0 };
        const coll: StepCollective = {
          ...c.forSlice(0, 16, 16),
          allReduce: (v) => (calls.allReduce++, c.allReduce(v)),
          allReduceScaled: (p, sc, w) => (calls.scaled++, c.allReduceScaled(p, sc, w)),
        };
        const h = () => new Harmoniser({ name }, parts.tasks.map((t) => t.kind));
        const one = computeStepGradients(parts, batch, h(), 'parameter', new Rng('k'));
        const red = computeStepGradients(parts, batch, h(), 'parameter', new Rng('k'), coll);
        expect(calls, name).toEqual(expected);
        // one rank: the reduced losses are the slice's own (float32-rounded where they rode with the gradients)
        red.losses.forEach((l, i) => expect(l).toBeCloseTo(one.losses[i]!, 6));
        tf.dispose([...one.grads, ...red.grads].filter((g): g is tf.Tensor => g !== null));
      }
    } finally {
      parts.dispose();
    }
  });
});
