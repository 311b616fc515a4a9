import { describe, expect, it } from 'vitest';
import { INTERVALS, INTERVAL_MS, barsPerYear, intervalFromMs, parseInterval } from './interval.js';
import { ConfigError } from './errors.js';

describe('intervals', () => {
  it('knows every interval length', () => {
    expect(INTERVALS.length).toBe(11);
    expect(INTERVAL_MS['1m']).toBe(60_000);
    expect(INTERVAL_MS['15m']).toBe(900_000);
    expect(INTERVAL_MS['1h']).toBe(3_600_000);
    expect(INTERVAL_MS['12h']).toBe(43_200_000);
    expect(INTERVAL_MS['1d']).toBe(86_400_000);
    expect(intervalFromMs(14_400_000)).toBe('4h');
    expect(barsPerYear('1h')).toBe(8760);
  });
  it('rejects unknown names with the list of valid ones', () => {
    expect(parseInterval('5m')).toBe('5m');
    expect(() => parseInterval('7m')).toThrow(ConfigError);
    expect(() => parseInterval('7m')).toThrow(/1m, 3m, 5m/);
  });
});
