import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GateVerdict } from '@task-agnostic/risk';
import type { CandleEvent } from '../engine-events.js';
import { Journal } from '../journal.js';
import type { Alert, AlertNotifier } from './alerts.js';
import { TraderMetrics } from './metrics.js';
import { ConnectionWatch, TradingMonitor } from './monitor.js';
import { candle, testEngine } from './test-kit.js';

class Recorder implements AlertNotifier {
  readonly alerts: Alert[] = [];
  notify(a: Alert): void {
    this.alerts.push(a);
  }
}

const verdict = (v: Partial<GateVerdict>): GateVerdict => ({ approved: true, sizeFraction: 0, stopLossPct: 0, takeProfitPct: 0, reasons: [], layers: [], killed: false, ...v });
const event = (i: number, v: Partial<CandleEvent>): CandleEvent => ({
  symbol: 'BTCUSDT', candle: candle(i), decisionId: i + 1, decision: { tsMs: candle(i).tsMs, action: 'hold', side: 'flat', confidence: 0, agreement: 0, sizeFraction: 0, stopLossPct: 0, takeProfitPct: 0, reasoning: 'r' },
  outputs: undefined, verdict: verdict({}), target: null, execution: null, fills: 0, equity: 10_000, position: undefined, stages: [], killEngaged: false, killReason: null, history: false, ...v,
});

/** The value of one sample line of the Prometheus text. */
const sample = (text: string, line: string): number => {
  const m = text.split('\n').find((l) => l.startsWith(line + ' '));
  return m ? Number(m.slice(line.length + 1)) : NaN;
};

describe('TradingMonitor', () => {
  it('counts a real engine run in the Prometheus text: decisions by action, orders, fills, equity, latency', async () => {
    const j = Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-mon-')), 'j.db'));
    const m = new TraderMetrics();
    const mon = new TradingMonitor(m, new Recorder());
    const e = testEngine(j, mon);
    for (let i = 0; i < 40; i++) await e.onCandle(candle(i));
    const text = await m.text();
    const byAction = j.all<{ action: string; n: number }>('SELECT action, COUNT(*) AS n FROM decisions GROUP BY action');
    for (const r of byAction) expect(sample(text, `trader_decisions_total{symbol="BTCUSDT",action="${r.action}"}`)).toBe(r.n);
    const orders = j.all<{ n: number }>("SELECT COUNT(*) AS n FROM orders")[0]!.n;
    expect(sample(text, 'trader_orders_total{symbol="BTCUSDT",kind="decision"}')).toBe(orders);
    expect(sample(text, 'trader_fills_total{symbol="BTCUSDT"}')).toBe(j.counts().fills);
    expect(sample(text, 'trader_equity{symbol="BTCUSDT"}')).toBeCloseTo(e.o.venue.equity(), 9);
    // Every non-history candle observed each stage once.
    expect(sample(text, 'trader_latency_ms_count{stage="decision_to_send"}')).toBe(40);
    const p = e.o.venue.position();
    const expo = p ? ((p.side === 'long' ? 1 : -1) * p.qty * candle(39).close) / e.o.venue.equity() : 0;
    expect(sample(text, 'trader_exposure_ratio{symbol="BTCUSDT"}')).toBeCloseTo(expo, 9);
    j.close();
  });

  it('alerts once when the kill switch engages, once per new daily-loss halt, on every rejected order; vetoes counted by layer', async () => {
    const m = new TraderMetrics();
    const rec = new Recorder();
    const mon = new TradingMonitor(m, rec);
    const halt = Date.UTC(2024, 0, 2);
    mon.onCandle(event(0, { verdict: verdict({ approved: false, layers: [{ layer: 'market', action: 'veto', sizeFraction: 0, reason: 'market: spread' }, { layer: 'strategy', action: 'approve', sizeFraction: 0.5 }] }) }));
    mon.onCandle(event(1, { verdict: verdict({ approved: false, reasons: ['account: daily loss 3.1% reached the 3% limit'], layers: [{ layer: 'account', action: 'veto', sizeFraction: 0 }], haltedUntilMs: halt }) }));
    mon.onCandle(event(2, { verdict: verdict({ approved: false, reasons: ['account: daily loss limit hit earlier today'], haltedUntilMs: halt }) }));
    mon.onCandle(event(3, { execution: 'rejected', executionError: 'insufficient margin', target: { side: 'long', sizeFraction: 0.5, stopLossPct: 0.02, takeProfitPct: 0.04, kind: 'decision', clientOrderId: 'dash-BTC-1-decision' } }));
    mon.onCandle(event(4, { killEngaged: true, killReason: 'dashboard: button', verdict: verdict({ approved: false, killed: true, reasons: ['system: kill switch engaged'] }) }));
    mon.onCandle(event(5, { killReason: 'dashboard: button', verdict: verdict({ approved: false, killed: true, reasons: ['system: kill switch engaged'] }) }));
    expect(rec.alerts.map((a) => a.kind)).toEqual(['daily-loss-halt', 'order-rejected', 'kill-switch']);
    expect(rec.alerts[1]!.message).toContain('insufficient margin');
    expect(rec.alerts[2]!.message).toContain('dashboard: button');
    const text = await m.text();
    expect(sample(text, 'trader_risk_vetoes_total{layer="market"}')).toBe(1);
    expect(sample(text, 'trader_risk_vetoes_total{layer="account"}')).toBe(2);
    expect(sample(text, 'trader_risk_vetoes_total{layer="system"}')).toBe(2);
    expect(sample(text, 'trader_order_rejects_total{symbol="BTCUSDT"}')).toBe(1);
    expect(sample(text, 'trader_kill_switch_engaged')).toBe(1);
  });

  it('batches Server-Sent Events off the candle path and only when a browser listens', async () => {
    const frames: string[] = [];
    const sink = { clients: 0, broadcast: (f: string) => frames.push(f) };
    const mon = new TradingMonitor(new TraderMetrics(), new Recorder());
    mon.sink = sink;
    mon.onCandle(event(0, {}));
    await new Promise((r) => setImmediate(r));
    expect(frames).toHaveLength(0);
    sink.clients = 1;
    mon.onCandle(event(1, {}));
    mon.onCandle(event(2, {}));
    expect(frames).toHaveLength(0); // nothing serialised on the candle path
    await new Promise((r) => setImmediate(r));
    expect(frames).toHaveLength(2);
    const ev = JSON.parse(frames[1]!.split('data: ')[1]!) as { ts: number; decision: { id: number } };
    expect(ev.ts).toBe(candle(2).tsMs);
    expect(ev.decision.id).toBe(3);
  });
});

describe('ConnectionWatch', () => {
  it('one disconnect alert after the socket is down longer than N s; a reconnect is counted', async () => {
    let now = 0;
    let open = false;
    const m = new TraderMetrics();
    const rec = new Recorder();
    const w = new ConnectionWatch(() => open, 60_000, m, rec, () => now);
    w.check(); // still connecting: no alert
    now = 120_000;
    w.check();
    expect(rec.alerts).toHaveLength(0);
    open = true;
    w.check();
    open = false;
    for (now = 130_000; now <= 190_000; now += 1000) w.check();
    expect(rec.alerts).toHaveLength(0); // down exactly 60 s: not longer
    now = 190_001;
    w.check();
    now = 250_000;
    w.check();
    expect(rec.alerts.map((a) => a.kind)).toEqual(['disconnect']);
    open = true;
    w.check();
    const text = await m.text();
    expect(sample(text, 'trader_ws_reconnects_total')).toBe(1);
    expect(sample(text, 'trader_ws_connected')).toBe(1);
  });
});
