import { ConfigError, type Interval, INTERVAL_MS } from '@task-agnostic/core';

/** Toolkit interval -> Bybit v5 kline interval ('1','3','5','15','30','60','120','240','360','720','D'). */
export const BYBIT_INTERVAL: Readonly<Record<Interval, string>> = {
  '1m': '1',
  '3m': '3',
  '5m': '5',
  '15m': '15',
  '30m': '30',
  '1h': '60',
  '2h': '120',
  '4h': '240',
  '6h': '360',
  '12h': '720',
  '1d': 'D',
};

export function toBybitInterval(interval: Interval): string {
  const s = BYBIT_INTERVAL[interval];
  if (!s) throw new ConfigError(`interval '${interval}' has no Bybit kline equivalent`, 'interval');
  return s;
}

/** Bybit interval string -> toolkit interval, or undefined. */
export function fromBybitInterval(s: string): Interval | undefined {
  for (const [k, v] of Object.entries(BYBIT_INTERVAL)) if (v === s) return k as Interval;
  return undefined;
}

export function bybitIntervalMs(s: string): number | undefined {
  const i = fromBybitInterval(s);
  return i ? INTERVAL_MS[i] : undefined;
}
