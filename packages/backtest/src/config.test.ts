import { describe, expect, it } from 'vitest';
import { ConfigError } from '@task-agnostic/core';
import { parseAccountConfig, parseBacktestConfig } from './config.js';

describe('config', () => {
  it('defaults are the source design numbers: 0.1% fees, 0.05% slippage, next-open fills', () => {
    const c = parseBacktestConfig({});
    expect([c.takerFeeRate, c.makerFeeRate, c.slippage, c.fillTiming, c.leverage, c.initialEquity]).toEqual([
      0.001, 0.001, { model: 'fixed', rate: 0.0005 }, 'next_open', 1, 10_000,
    ]);
  });
  it('parses JSON input and names the bad field, nested ones included', () => {
    expect(parseBacktestConfig(JSON.parse('{"interval":"5m","slippage":{"model":"volatility","rangeMultiple":0.2}}')).slippage).toEqual({ model: 'volatility', rangeMultiple: 0.2, minRate: 0 });
    const bad = (x: unknown, field: RegExp) => {
      let err: unknown;
      try {
        parseBacktestConfig(x);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(field);
    };
    bad({ slippage: { model: 'fixed', rate: 2 } }, /slippage\.rate/);
    bad({ slippage: { model: 'gaussian' } }, /slippage\.model/);
    bad({ interval: '7m' }, /interval/);
    bad({ leverage: 500 }, /leverage/);
    bad({ fillTiming: 'now' }, /fillTiming/);
    bad({ initialEquity: -1 }, /initialEquity/);
    expect(() => parseAccountConfig({ stopLossPct: 0.1 })).toThrow(/stopLossPct|Unrecognized/);
  });
});
