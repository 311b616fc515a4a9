import { describe, expect, it } from 'vitest';
import { AccountTracker } from './account-tracker.js';
import { accountStateFromEquityCurve } from './account.js';
import { applyVerdict } from './apply-verdict.js';
import type { GateVerdict } from './gate.js';
import { holdDecision, type TradingDecision } from '@task-agnostic/core';

describe('AccountTracker', () => {
  it('equals accountStateFromEquityCurve at every step of a multi-week curve', () => {
    const H = 3_600_000;
    const start = Date.UTC(2025, 0, 1);
    const ts: number[] = [];
    const eq: number[] = [];
    const t = new AccountTracker();
    let e = 10_000;
    for (let i = 0; i < 24 * 20; i++) {
      e *= 1 + 0.004 * Math.sin(i / 7) + 0.001 * Math.cos(i / 3);
      ts.push(start + i * H);
      eq.push(e);
      t.update(start + i * H, e);
      const ref = accountStateFromEquityCurve(ts, eq);
      const got = t.state();
      expect(got.equity).toBe(ref.equity);
      expect(got.dayStartEquity).toBe(ref.dayStartEquity);
      expect(got.weekHighEquity).toBe(ref.weekHighEquity);
      expect(got.peakEquity).toBe(ref.peakEquity);
    }
  });
});

describe('applyVerdict', () => {
  const approve = (size: number): GateVerdict => ({ approved: true, sizeFraction: size, stopLossPct: 0.01, takeProfitPct: 0.02, reasons: [], layers: [], killed: false });
  const veto: GateVerdict = { approved: false, sizeFraction: 0, stopLossPct: 0, takeProfitPct: 0, reasons: ['account: halted'], layers: [], killed: false };
  const killed: GateVerdict = { ...veto, killed: true };
  const buy: TradingDecision = { tsMs: 0, action: 'buy', side: 'long', confidence: 0.8, agreement: 0.9, sizeFraction: 0.03, stopLossPct: 0.015, takeProfitPct: 0.025, reasoning: '' };
  const flat: TradingDecision = { ...buy, action: 'sell', side: 'flat' };

  it('takes the verdict size and exits for an approved entry', () => {
    expect(applyVerdict(buy, approve(0.02), undefined)).toEqual({ side: 'long', sizeFraction: 0.02, stopLossPct: 0.01, takeProfitPct: 0.02, kind: 'decision' });
  });
  it('changes nothing on a veto or a hold, and never blocks closing', () => {
    expect(applyVerdict(buy, veto, undefined)).toBeNull();
    expect(applyVerdict(holdDecision(0, 'x'), approve(0.02), 'long')).toBeNull();
    expect(applyVerdict(flat, veto, 'long')).toEqual({ side: 'flat', sizeFraction: 0, stopLossPct: 0, takeProfitPct: 0, kind: 'decision' });
    expect(applyVerdict(flat, veto, undefined)).toBeNull();
  });
  it('flattens an open position when the kill switch is engaged', () => {
    expect(applyVerdict(buy, killed, 'short')?.kind).toBe('kill');
    expect(applyVerdict(buy, killed, undefined)).toBeNull();
  });
});
