import { describe, expect, it } from 'vitest';
import { accountStateFromEquityCurve } from '@task-agnostic/risk';
import { createRng } from '@task-agnostic/core';
import { AccountTracker } from './account-tracker.js';

describe('AccountTracker', () => {
  it('matches risk.accountStateFromEquityCurve at every point of a random 20-day hourly curve', () => {
    const rng = createRng(3);
    const ts: number[] = [];
    const eq: number[] = [];
    const start = Date.UTC(2024, 0, 3, 5); // a Wednesday
    let e = 10_000;
    const t = new AccountTracker();
    for (let i = 0; i < 24 * 20; i++) {
      e *= 1 + (rng.next() - 0.5) * 0.02;
      ts.push(start + i * 3_600_000);
      eq.push(e);
      t.update(ts[i]!, e);
      expect(t.state()).toEqual(accountStateFromEquityCurve(ts, eq));
    }
  });
});
