import { ConfigError } from './errors.js';

/** Candle intervals supported across the toolkit (Bybit v5 offers each of them). */
export const INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d'] as const;
export type Interval = (typeof INTERVALS)[number];

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** Length of each interval in milliseconds. */
export const INTERVAL_MS: Readonly<Record<Interval, number>> = {
  '1m': MINUTE_MS,
  '3m': 3 * MINUTE_MS,
  '5m': 5 * MINUTE_MS,
  '15m': 15 * MINUTE_MS,
  '30m': 30 * MINUTE_MS,
  '1h': HOUR_MS,
  '2h': 2 * HOUR_MS,
  '4h': 4 * HOUR_MS,
  '6h': 6 * HOUR_MS,
  '12h': 12 * HOUR_MS,
  '1d': 24 * HOUR_MS,
};

export function isInterval(value: unknown): value is Interval {
  return typeof value === 'string' && (INTERVALS as readonly string[]).includes(value);
}

/** Parses an interval name, throwing a ConfigError that lists the valid names. */
export function parseInterval(value: string): Interval {
  if (isInterval(value)) return value;
  throw new ConfigError(`unknown interval '${value}': expected one of ${INTERVALS.join(', ')}`, 'interval');
}

export function intervalMs(interval: Interval): number {
  return INTERVAL_MS[interval];
}

/** The interval whose length is `ms`, or undefined. */
export function intervalFromMs(ms: number): Interval | undefined {
  return INTERVALS.find((i) => INTERVAL_MS[i] === ms);
}

/** Bars of `interval` in one year (365 days), for annualising returns and volatility. */
export function barsPerYear(interval: Interval): number {
  return (365 * 24 * HOUR_MS) / INTERVAL_MS[interval];
}
