import { z } from 'zod/v3';
import { ConfigError, INTERVALS } from '@task-agnostic/core';

/**
 * How market fills are moved against the trader.
 * - fixed: price x (1 +/- rate); the source design's default is 0.05% ("Slippage: Execution price
 *   deviation (default 0.05%)", chapter-87 variant, Backtesting Framework).
 * - spread: half of a quoted spread, price x (1 +/- spreadPct / 2).
 * - volatility: rangeMultiple x (high - low) / close of the last CLOSED bar, floored at minRate.
 */
export const SlippageSchema = z.discriminatedUnion('model', [
  z.object({ model: z.literal('fixed'), rate: z.number().min(0).max(0.1).default(0.0005) }).strict(),
  z.object({ model: z.literal('spread'), spreadPct: z.number().min(0).max(0.2) }).strict(),
  z
    .object({
      model: z.literal('volatility'),
      rangeMultiple: z.number().min(0).max(10).default(0.1),
      minRate: z.number().min(0).max(0.1).default(0),
    })
    .strict(),
]);
export type SlippageConfig = z.infer<typeof SlippageSchema>;

/** The simulated venue: one wallet, one symbol, isolated margin (Bybit linear perpetual style). */
export const AccountConfigSchema = z
  .object({
    symbol: z.string().min(1).default('SIM'),
    currency: z.string().min(1).default('USDT'),
    initialEquity: z.number().positive().finite().default(10_000),
    /** Fee per fill as a fraction of notional. Source design: "Transaction costs ... (default 0.1%)". */
    takerFeeRate: z.number().min(-0.01).max(0.05).default(0.001),
    makerFeeRate: z.number().min(-0.01).max(0.05).default(0.001),
    slippage: SlippageSchema.default({ model: 'fixed', rate: 0.0005 }),
    /** Isolated-margin leverage; position margin = notional / leverage. */
    leverage: z.number().min(1).max(100).default(1),
    /** Maintenance margin rate (Bybit BTCUSDT risk-limit tier 1 is 0.5%). */
    maintenanceMarginRate: z.number().min(0).max(0.5).default(0.005),
    /**
     * next_open: an order decided at the close of bar t fills at bar t+1's open (default, no look-ahead).
     * same_close: it fills at bar t's close (optimistic; for comparison only).
     */
    fillTiming: z.enum(['next_open', 'same_close']).default('next_open'),
    /**
     * A changed target on the same side as the open position is only re-sized when the size change
     * exceeds this fraction of the target size. (Repeating the same target is a no-op anyway.)
     */
    rebalanceThreshold: z.number().min(0).max(10).default(0.1),
    /** Quantity step (Bybit qtyStep); 0 = no rounding. Target quantities are rounded toward zero. */
    qtyStep: z.number().min(0).default(0),
    /** 'keep': a decision with action 'hold' leaves the position as it is; 'target': it is a target like any other. */
    holdMeans: z.enum(['keep', 'target']).default('keep'),
  })
  .strict();
export type AccountConfig = z.infer<typeof AccountConfigSchema>;
export type AccountConfigInput = z.input<typeof AccountConfigSchema>;

export const BacktestConfigSchema = AccountConfigSchema.extend({
  /** Candle interval; sets bars per year for annualising. Inferred from timestamps when absent. */
  interval: z.enum(INTERVALS).optional(),
  /** Overrides the annualisation factor (e.g. 252 * 24 for an equity market). */
  barsPerYear: z.number().positive().optional(),
  /** Close any open position at the last close (a 'flatten' fill with fees) so every trade is counted. */
  closeAtEnd: z.boolean().default(true),
  /** Stop-loss / take-profit pct used by the precomputed-signal path (decisions carry their own). */
  stopLossPct: z.number().min(0).max(1).default(0),
  takeProfitPct: z.number().min(0).max(10).default(0),
}).strict();
export type BacktestConfig = z.infer<typeof BacktestConfigSchema>;
export type BacktestConfigInput = z.input<typeof BacktestConfigSchema>;

function toConfigError(err: z.ZodError, what: string): ConfigError {
  const issue = err.issues[0]!;
  const field = issue.path.join('.') || what;
  return new ConfigError(`${what}.${field}: ${issue.message}`, field);
}

/** Validates an account config (unknown input, e.g. parsed JSON); errors name the field. */
export function parseAccountConfig(input: unknown = {}): AccountConfig {
  const r = AccountConfigSchema.safeParse(input ?? {});
  if (!r.success) throw toConfigError(r.error, 'account');
  return r.data;
}

/** Validates a backtest config (unknown input, e.g. parsed JSON); errors name the field. */
export function parseBacktestConfig(input: unknown = {}): BacktestConfig {
  const r = BacktestConfigSchema.safeParse(input ?? {});
  if (!r.success) throw toConfigError(r.error, 'backtest');
  return r.data;
}

/** The account part of a backtest config. */
export function accountPart(c: BacktestConfig): AccountConfig {
  const { interval: _i, barsPerYear: _b, closeAtEnd: _c, stopLossPct: _s, takeProfitPct: _t, ...rest } = c;
  return rest;
}
