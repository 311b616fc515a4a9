import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CTRL, DEFAULT_SPIN_MS, SharedCollective, collectiveBytes, spinUntilChange } from './collective.js';

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
