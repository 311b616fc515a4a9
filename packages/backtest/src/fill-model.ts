import type { SlippageConfig } from './config.js';

/**
 * The fill model's price rules, as plain functions. The simulated account is the only caller, and
 * both the backtest engine and the paper account drive that one account, so these rules hold for
 * every simulated fill.
 *
 * Conventions: `dir` is +1 for a buy and -1 for a sell. Market-type fills (market orders, triggered
 * stops and take-profits) pay the taker fee and slippage; resting limit orders pay the maker fee and
 * no slippage; liquidations close at the bankruptcy price (no slippage, taker fee).
 */

/** Slippage as a fraction of price for a market fill, given the last closed bar's (high - low) / close. */
export function slippageRate(s: SlippageConfig, lastRangePct: number): number {
  switch (s.model) {
    case 'fixed':
      return s.rate;
    case 'spread':
      return s.spreadPct / 2;
    case 'volatility': {
      const r = Number.isFinite(lastRangePct) ? s.rangeMultiple * lastRangePct : 0;
      return r > s.minRate ? r : s.minRate;
    }
  }
}

/** The price a market-type fill gets: moved against the trader by `slip`. */
export function marketFillPrice(refPrice: number, dir: number, slip: number): number {
  return refPrice * (1 + dir * slip);
}

/**
 * Isolated-margin liquidation price of a linear perpetual position (Bybit's formula with the
 * maintenance margin taken on entry value): long E x (1 - 1/L + mmr), short E x (1 + 1/L - mmr).
 */
export function liquidationPrice(entryPrice: number, sign: number, leverage: number, mmr: number): number {
  return sign > 0 ? entryPrice * (1 - 1 / leverage + mmr) : entryPrice * (1 + 1 / leverage - mmr);
}

/**
 * Bankruptcy price: where the position's loss equals its whole initial margin. A liquidation closes
 * there (the maintenance margin between the two goes to the venue's insurance fund, as on Bybit), so
 * a liquidated position loses exactly its margin plus the fee, even when the bar gaps through.
 */
export function bankruptcyPrice(entryPrice: number, sign: number, leverage: number): number {
  return sign > 0 ? entryPrice * (1 - 1 / leverage) : entryPrice * (1 + 1 / leverage);
}

/** Rounds a quantity toward zero to a multiple of `step` (no-op for step 0). */
export function roundQty(qty: number, step: number): number {
  if (step <= 0) return qty;
  const n = Math.trunc(qty / step + (qty >= 0 ? 1e-9 : -1e-9));
  return n * step;
}
