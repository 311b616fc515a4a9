import { ConfigError, type Interval } from '@task-agnostic/core';

/**
 * A model runs on the candle interval it was trained on: a 1h model fed 1m candles would read
 * minutes as hours (its features, horizons and risk sizing all count bars). Refused at start-up,
 * before anything connects. Models without a training range (trader init-model) are not checked.
 */
export function checkModelInterval(training: { readonly interval?: string | undefined } | null | undefined, interval: Interval, modelDir: string): void {
  const trained = training?.interval;
  if (trained !== undefined && trained !== interval) {
    throw new ConfigError(`the model in ${modelDir} was trained on ${trained} candles but the trader runs --interval ${interval}: pass --interval ${trained} (or config interval), or use a model trained on ${interval}`, 'interval');
  }
}
