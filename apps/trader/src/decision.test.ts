import { describe, expect, it } from 'vitest';
import type { TaskOutputs } from '@task-agnostic/core';
import type { DecisionPolicy } from '@task-agnostic/model';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseTraderConfig, traderRiskConfig } from './config.js';
import { Journal } from './journal.js';
import { createPortfolio, decisionOf } from './setup.js';

const policy: DecisionPolicy = {
  version: 1,
  fittedOn: { split: 'validation', symbols: ['BTCUSDT'], fromMs: 0, toMs: 1 },
  objective: 'net Sharpe',
  fusions: {
    consistency: {
      thresholds: { minConfidence: 0.25, minAgreement: 0.5 },
      seed: { minConfidence: 0.5, minAgreement: 0.6 },
      options: { directionRule: 'up-vs-down' },
      gate: { minConfidence: 0.25, minAgreement: 0.5 },
      requiredHeads: ['direction'],
    },
  },
};

// The typical decision: "direction up 12%, down 25%, sideways 62% -> neutral ... HOLD".
const outputs: TaskOutputs = {
  direction: { up: 0.13, down: 0.25, sideways: 0.62 },
  regime: { label: 'bear', probs: { bull: 0.1, bear: 0.6, sideways: 0.1, high_volatility: 0.1, low_volatility: 0.1 }, confidence: 0.6 },
  return: { expected: -0.003, std: 0.01 },
};
const ctx = { tsMs: 1, symbol: 'BTCUSDT' };

describe('trader decisions use the model decision policy', () => {
  it('fitted (default): the policy thresholds, in fusion and in the risk gate', () => {
    const d = decisionOf(parseTraderConfig({ risk: { dailyLossLimit: 0.02 } }), { decisionPolicy: policy });
    expect(d.policy).toBe(policy.fusions.consistency);
    expect(d.risk).toEqual({ dailyLossLimit: 0.02, minConfidence: 0.25, minAgreement: 0.5 });
    expect(d.fuse(outputs, ctx).action).toBe('sell');
    expect(d.note).toMatch(/thresholds fitted on validation \(minConfidence 0\.25, minAgreement 0\.5, side up-vs-down; source minConfidence 0\.5, minAgreement 0\.6\)/);
  });

  it('the holding the policy fitted (exits, resize band) is merged over the configured risk, key by key', () => {
    const holding = { exits: { mode: 'volatility', stopVolMultiple: 3, takeProfitVolMultiple: 5, horizonBars: 24 }, sizing: { resizeBand: 0.5 } };
    const withHolding: DecisionPolicy = { ...policy, fusions: { consistency: { ...policy.fusions.consistency!, risk: holding } } };
    const d = decisionOf(parseTraderConfig({ risk: { dailyLossLimit: 0.02, sizing: { targetAnnualVol: 0.3 } } }), { decisionPolicy: withHolding });
    expect(d.risk).toEqual({ dailyLossLimit: 0.02, sizing: { targetAnnualVol: 0.3, resizeBand: 0.5 }, exits: holding.exits, minConfidence: 0.25, minAgreement: 0.5 });
    // seed thresholds ignore the fitted holding too
    expect(decisionOf(parseTraderConfig({ thresholds: 'seed', risk: { dailyLossLimit: 0.02 } }), { decisionPolicy: withHolding }).risk).toEqual({ dailyLossLimit: 0.02 });
  });

  it('seed, or a model without a policy: the source thresholds (and the issue\'s HOLD)', () => {
    const seed = decisionOf(parseTraderConfig({ thresholds: 'seed' }), { decisionPolicy: policy });
    expect(seed.policy).toBeNull();
    expect(seed.fuse(outputs, ctx).action).toBe('hold');
    const none = decisionOf(parseTraderConfig({}), { decisionPolicy: null });
    expect(none.fuse(outputs, ctx).action).toBe('hold');
    expect(none.note).toMatch(/source design's thresholds \(minConfidence 0\.5, minAgreement 0\.6\): the model carries no fitted policy/);
  });

  it('a model lacking the head the policy reads holds, naming the absent signal', () => {
    const d = decisionOf(parseTraderConfig({}), { decisionPolicy: policy });
    const r = d.fuse({ regime: outputs.regime!, return: outputs.return! }, ctx);
    expect(r.action).toBe('hold');
    expect(r.reasoning).toMatch(/reads the direction head's signal, which is absent/);
  });
});

describe('the portfolio (trader paper / live) gates like a lone engine', () => {
  it('without risk.profile: the volTarget profile sized for the interval, as traderRiskConfig gives; a named profile is kept', () => {
    const predictorFor = () => ({ onCandle: () => ({ outputs: {}, latency: { featuresMs: 0, encoderMs: 0, headsMs: 0 } }) });
    for (const risk of [{ dailyLossLimit: 0.05 }, { profile: 'source' as const }]) {
      const journal = Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-pf-gate-')), 'j.db'));
      const cfg = parseTraderConfig({ symbols: ['BTCUSDT', 'ETHUSDT'], interval: '4h', statusEvery: 0, risk });
      const pf = createPortfolio({ config: cfg, journal, logger: pino({ level: 'silent' }), runTag: 'gate', predictorFor });
      const want = traderRiskConfig(cfg);
      for (const e of pf.engines.values()) expect(e.o.gate.config).toEqual(want);
      expect(want.sizing.mode).toBe('profile' in risk ? 'source' : 'volTarget');
      journal.close();
    }
  });
});
