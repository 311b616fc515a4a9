// A TypeScript project that compiles to CommonJS: the packages' .d.cts types must resolve.
import { generateSyntheticMarket, type CandleColumns } from '@task-agnostic/core';
import { runSignalBacktest, type BacktestResult } from '@task-agnostic/backtest';

const candles: CandleColumns = generateSyntheticMarket({ bars: 1_000, seed: 5 }).candles;
const longOnly = new Float64Array(candles.length).fill(1);
const result: BacktestResult = runSignalBacktest(candles, longOnly);
console.log(`buy and hold via the engine: ${(result.metrics.totalReturn * 100).toFixed(2)}% over ${candles.length} bars`);
