/**
 * The instrument rules the simulator advertises (GET /v5/market/instruments-info) and enforces on
 * every order: quantity step, minimum and maximum quantity, minimum notional, price tick and
 * maximum leverage. BTCUSDT and ETHUSDT are the values of the recorded responses in
 * ../shared/fixtures/bybit (rest_market_instruments_info.json, rest_market_instruments_info_linear_multi.json);
 * the other five were added here for the simulator (the fixtures hold no more linear symbols), in
 * the same format, with the steps and ticks that the real 1m/5m candles in ../shared/data/candles
 * are quoted in (prices and volumes carry exactly these decimals).
 */
import type { SymbolId } from '@task-agnostic/core';

export interface SimInstrument {
  readonly tickSize: number;
  readonly qtyStep: number;
  readonly minOrderQty: number;
  readonly maxOrderQty: number;
  /** Market orders above this size are rejected (Bybit maxMktOrderQty). */
  readonly maxMktOrderQty: number;
  /** Orders below this notional (qty x price, USDT) are rejected, reduce-only ones excepted (110094). */
  readonly minNotional: number;
  readonly maxLeverage: number;
}

export const SIM_INSTRUMENTS: Readonly<Record<SymbolId, SimInstrument>> = {
  // recorded: rest_market_instruments_info.json (lotSizeFilter, priceFilter, leverageFilter)
  BTCUSDT: { tickSize: 0.1, qtyStep: 0.001, minOrderQty: 0.001, maxOrderQty: 1190, maxMktOrderQty: 500, minNotional: 5, maxLeverage: 100 },
  // recorded: rest_market_instruments_info_linear_multi.json
  ETHUSDT: { tickSize: 0.01, qtyStep: 0.01, minOrderQty: 0.01, maxOrderQty: 1500, maxMktOrderQty: 500, minNotional: 5, maxLeverage: 100 },
  // added for the simulator (see above)
  SOLUSDT: { tickSize: 0.01, qtyStep: 0.1, minOrderQty: 0.1, maxOrderQty: 79_770, maxMktOrderQty: 6_600, minNotional: 5, maxLeverage: 100 },
  BNBUSDT: { tickSize: 0.1, qtyStep: 0.01, minOrderQty: 0.01, maxOrderQty: 1_650, maxMktOrderQty: 330, minNotional: 5, maxLeverage: 75 },
  DOGEUSDT: { tickSize: 0.00001, qtyStep: 1, minOrderQty: 1, maxOrderQty: 27_670_000, maxMktOrderQty: 2_760_000, minNotional: 5, maxLeverage: 75 },
  DOTUSDT: { tickSize: 0.0001, qtyStep: 0.1, minOrderQty: 0.1, maxOrderQty: 285_000, maxMktOrderQty: 57_000, minNotional: 5, maxLeverage: 50 },
  XRPUSDT: { tickSize: 0.0001, qtyStep: 1, minOrderQty: 1, maxOrderQty: 2_780_000, maxMktOrderQty: 555_000, minNotional: 5, maxLeverage: 75 },
};

/** Rules for a feed: the table's, else the old defaults (qty step 0.001, a tick of ~1e-6 of the price, no minimum notional). */
export function simInstrumentFor(symbol: SymbolId, tickSize: number, override?: Partial<SimInstrument>): SimInstrument {
  const known = SIM_INSTRUMENTS[symbol];
  const base: SimInstrument = known ?? { tickSize, qtyStep: 0.001, minOrderQty: 0.001, maxOrderQty: 1_000_000, maxMktOrderQty: 1_000_000, minNotional: 0, maxLeverage: 100 };
  return { ...base, ...override };
}

/** Digits a step such as 0.001 or 0.00001 is written with. */
export function stepDecimals(step: number): number {
  let d = 0;
  while (d < 12 && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-9) d++;
  return d;
}

/** True when x is a whole multiple of step (to 1e-9 of a step). */
export function onStep(x: number, step: number): boolean {
  const k = x / step;
  return Math.abs(k - Math.round(k)) < 1e-6;
}
