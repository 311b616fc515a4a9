import { describe, expect, it } from 'vitest';
import { ConfigError } from '@task-agnostic/core';
import { DEFAULT_RISK_CONFIG, parseRiskConfig } from './params.js';

describe('risk config', () => {
  it('defaults equal the source RiskParameters::default()', () => {
    const d = DEFAULT_RISK_CONFIG;
    expect([d.baseSize, d.maxPositionMultiplier, d.minConfidence, d.minAgreement, d.baseStopLoss, d.baseTakeProfit, d.maxTotalExposure, d.dailyLossLimit, d.weeklyDrawdownLimit]).toEqual([
      0.02, 1.5, 0.5, 0.6, 0.015, 0.025, 0.1, 0.03, 0.05,
    ]);
    expect(d.weeklyDrawdownSizeFactor).toBe(0.5);
    expect([d.volatility.elevatedPercentile, d.volatility.highPercentile, d.volatility.elevatedFactor, d.volatility.highFactor]).toEqual([0.6, 0.8, 0.75, 0.5]);
    expect([d.volatility.stopWidening, d.volatility.takeProfitWidening]).toEqual([1.5, 1.3]);
  });
  it('fills nested defaults around partial input', () => {
    const c = parseRiskConfig({ dailyLossLimit: 0.02, portfolio: { maxCorrelation: 0.5 } });
    expect(c.dailyLossLimit).toBe(0.02);
    expect(c.portfolio.maxCorrelation).toBe(0.5);
    expect(c.portfolio.correlationWindow).toBe(100);
  });
  it.each([
    [{ baseSize: 2 }, 'baseSize'],
    [{ maxTotalExposure: -0.1 }, 'maxTotalExposure'],
    [{ volatility: { highFactor: 'half' } }, 'volatility.highFactor'],
    [{ kelly: { brakeStartDrawdown: 0.2, brakeFullDrawdown: 0.1 } }, 'kelly.brakeStartDrawdown'],
    [{ sizingMethod: 'magic' }, 'sizingMethod'],
    [{ dailyLosLimit: 0.03 }, undefined],
  ] as [unknown, string | undefined][])('%j -> ConfigError on %s', (json, field) => {
    try {
      parseRiskConfig(json);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      if (field) expect((e as ConfigError).field).toBe(field);
      else expect((e as Error).message).toContain('dailyLosLimit');
    }
  });
});
