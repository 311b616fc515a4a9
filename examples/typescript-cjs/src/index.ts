// A TypeScript project that compiles to CommonJS: the packages' .d.cts types must resolve, zod's
// among them. This project pins zod 3.25.76, the lowest zod 3 the packages' peer range admits.
import { generateSyntheticMarket, isConfigError, parseWithSchema, type CandleColumns } from '@task-agnostic/core';
import { parseBacktestConfig, runSignalBacktest, type BacktestConfig, type BacktestResult } from '@task-agnostic/backtest';
import { z } from 'zod/v3';

const candles: CandleColumns = generateSyntheticMarket({ bars: 1_000, seed: 5 }).candles;
const longOnly = new Float64Array(candles.length).fill(1);
const result: BacktestResult = runSignalBacktest(candles, longOnly);
console.log(`buy and hold via the engine: ${(result.metrics.totalReturn * 100).toFixed(2)}% over ${candles.length} bars`);

// A schema of this project's zod goes into core's parseWithSchema; its output type is inferred.
const settings = z.object({ bars: z.number().int().min(100).default(1_000), symbol: z.string().default('SYNTH') });
const parsed: { bars: number; symbol: string } = parseWithSchema(settings, { bars: 250 }, 'settings');
const config: BacktestConfig = parseBacktestConfig({});
try {
  parseWithSchema(settings, { bars: 5 }, 'settings');
  throw new Error('bars: 5 was accepted');
} catch (err) {
  if (!isConfigError(err) || err.field !== 'bars') throw err;
  console.log(`${parsed.symbol} x ${parsed.bars}; taker fee ${config.takerFeeRate}; rejected: ${err.message}`);
}
