import { describe, expect, it } from 'vitest';
import { DataError } from '@task-agnostic/core';
import { accountStateFromEquityCurve, nextUtcDay, utcDayStart, utcWeekStart } from './account.js';

const t = (iso: string): number => Date.parse(iso);

describe('UTC calendar helpers', () => {
  it('day, next day and ISO week start', () => {
    expect(utcDayStart(t('2026-11-22T13:45:00Z'))).toBe(t('2026-11-22T00:00:00Z'));
    expect(nextUtcDay(t('2026-11-22T23:59:59Z'))).toBe(t('2026-11-23T00:00:00Z'));
    // 2026-11-22 is a Sunday: its ISO week started Monday 2026-11-16.
    expect(utcWeekStart(t('2026-11-22T13:00:00Z'))).toBe(t('2026-11-16T00:00:00Z'));
    expect(utcWeekStart(t('2026-11-23T00:00:00Z'))).toBe(t('2026-11-23T00:00:00Z'));
  });
});

describe('accountStateFromEquityCurve', () => {
  const ts = ['2026-11-15T20:00Z', '2026-11-16T08:00Z', '2026-11-18T12:00Z', '2026-11-21T23:00Z', '2026-11-22T01:00Z', '2026-11-22T05:00Z'].map((s) => t(s.replace('Z', ':00Z')));
  const eq = [1000, 990, 1100, 1050, 1040, 1020];
  it('day start, week high and peak by hand', () => {
    const s = accountStateFromEquityCurve(ts, eq);
    expect(s.equity).toBe(1020);
    expect(s.dayStartEquity).toBe(1050); // last value before 2026-11-22 00:00
    expect(s.weekHighEquity).toBe(1100);
    expect(s.peakEquity).toBe(1100);
  });
  it('as of an earlier time, and the value in force at the week start counts', () => {
    const s = accountStateFromEquityCurve(ts, eq, t('2026-11-16T09:00:00Z'));
    expect(s.equity).toBe(990);
    expect(s.dayStartEquity).toBe(1000);
    expect(s.weekHighEquity).toBe(1000); // 1000 was the equity when the week opened
  });
  it('rejects bad curves', () => {
    expect(() => accountStateFromEquityCurve([], [])).toThrow(DataError);
    expect(() => accountStateFromEquityCurve([2, 1], [1, 1])).toThrow(/sorted/);
    expect(() => accountStateFromEquityCurve([1, 2], [1, NaN])).toThrow(/not finite/);
  });
});
