/** TEST HELPERS for the dashboard tests: a paper engine with a test-double predictor, a log capture. */
import { Writable } from 'node:stream';
import { holdDecision, type Candle, type TaskOutputs, type TradingDecision } from '@task-agnostic/core';
import { RiskGate } from '@task-agnostic/risk';
import { pino, type Logger } from 'pino';
import { TradingEngine, type CandlePredictor } from '../engine.js';
import type { EngineObserver } from '../engine-events.js';
import type { Journal } from '../journal.js';
import { PaperVenue } from '../venue.js';

export const H = 3_600_000;
export const T0 = Date.UTC(2024, 0, 1);

/** Deterministic zig-zag candles. */
export const candle = (i: number): Candle => {
  const p = 100 + 10 * Math.sin(i / 5);
  const q = 100 + 10 * Math.sin((i + 1) / 5);
  return { tsMs: T0 + i * H, open: p, high: Math.max(p, q) + 0.5, low: Math.min(p, q) - 0.5, close: q, volume: 1 };
};

/** TEST DOUBLE predictor: fixed head outputs, so the dashboard has something to draw. */
export const fixedPredictor: CandlePredictor = {
  onCandle: (c) => ({
    outputs: { direction: { up: 0.5 + 0.4 * Math.sin(c.tsMs / H / 5), down: 0.3, sideways: 0.2 }, volatility: { expected: 0.01, percentile: 0.4 }, regime: { label: 'bull', probs: { bull: 0.6, bear: 0.1, sideways: 0.1, high_volatility: 0.1, low_volatility: 0.1 }, confidence: 0.6 } },
    latency: { featuresMs: 0.1, encoderMs: 0.2, headsMs: 0.1 },
  }),
};

/** TEST DOUBLE fusion: long when the close rose, short when it fell, every 4th candle; else hold. */
export function trendFusion(): (o: TaskOutputs, ctx: { tsMs: number }) => TradingDecision {
  let prev = NaN;
  let n = 0;
  return (outputs, ctx) => {
    const c = candle(Math.round((ctx.tsMs - T0) / H)).close;
    const up = c > prev;
    prev = c;
    // Like the real fusions, the decision carries the outputs it was made from.
    if (++n % 4 !== 0) return { ...holdDecision(ctx.tsMs, 'test double: hold'), outputs };
    return { ...holdDecision(ctx.tsMs, 'test double: trend'), outputs, action: up ? 'buy' : 'sell', side: up ? 'long' : 'short', confidence: 0.9, agreement: 0.9, sizeFraction: 0.4, stopLossPct: 0.03, takeProfitPct: 0.05 };
  };
}

export function testEngine(journal: Journal, observer?: EngineObserver): TradingEngine {
  return new TradingEngine({
    symbol: 'BTCUSDT', interval: '1h', journal, venue: new PaperVenue('BTCUSDT', { initialEquity: 10_000 }, H), predictor: fixedPredictor,
    fuse: trendFusion(), gate: new RiskGate({ baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1 }, strategy: { maxConsecutiveLosses: 1000 } }),
    runTag: 'dash', logger: pino({ level: 'silent' }), ...(observer ? { observer } : {}),
  });
}

/** A logger whose JSON lines are kept in `lines`. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}
