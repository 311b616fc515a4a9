import path from 'node:path';
import { ConfigError, generateSyntheticMarket, readCandlesCsv, type Interval, type SymbolId, type SyntheticMarketOptions } from '@task-agnostic/core';
import type { SimFeed } from './market.js';

/**
 * A simulator feed from a candle CSV in core's format (validated: gaps and invalid rows reported
 * by core's reader). Symbol and interval default to the parts of a name like bybit_BTCUSDT_1h.csv.
 */
export async function feedFromCsv(file: string, symbol?: SymbolId, interval?: Interval): Promise<SimFeed> {
  const m = /^(?:[a-z]+_)?([A-Z0-9]+)_(\d+[mhd])\.csv$/.exec(path.basename(file));
  const sym = symbol ?? m?.[1];
  const iv = (interval ?? m?.[2]) as Interval | undefined;
  if (!sym || !iv) throw new ConfigError(`cannot tell symbol and interval from '${path.basename(file)}': pass them`, 'symbol');
  const { candles } = await readCandlesCsv(file, { interval: iv, policy: 'drop' });
  return { symbol: sym, interval: iv, candles };
}

/** A simulator feed from core's regime-switching synthetic market. */
export function feedFromSynthetic(options: SyntheticMarketOptions & { symbol?: SymbolId } = {}): SimFeed {
  const m = generateSyntheticMarket(options);
  return { symbol: m.symbol, interval: m.interval, candles: m.candles };
}
