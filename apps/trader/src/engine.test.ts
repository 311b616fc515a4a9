import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { holdDecision, type Candle, type TradingDecision } from '@task-agnostic/core';
import { RiskGate, type GateVerdict } from '@task-agnostic/risk';
import { pino } from 'pino';
import { TradingEngine, targetFor, type CandlePredictor } from './engine.js';
import { Journal } from './journal.js';
import { PaperVenue } from './venue.js';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
/** Deterministic zig-zag candles. */
const candle = (i: number): Candle => {
  const p = 100 + 10 * Math.sin(i / 5);
  const q = 100 + 10 * Math.sin((i + 1) / 5);
  return { tsMs: T0 + i * H, open: p, high: Math.max(p, q) + 0.5, low: Math.min(p, q) - 0.5, close: q, volume: 1 };
};
/** TEST DOUBLE predictor (no model) and decision function: long when the last close rose, short when it fell, every 4th candle. */
const nullPredictor: CandlePredictor = { onCandle: () => ({ outputs: {}, latency: { featuresMs: 0.1, encoderMs: 0.2, headsMs: 0.1 } }) };
const trend = (): ((o: unknown, ctx: { tsMs: number }) => TradingDecision) => {
  let prev = NaN;
  let n = 0;
  return (_o, ctx) => {
    const i = Math.round((ctx.tsMs - T0) / H);
    const c = candle(i).close;
    const up = c > prev;
    prev = c;
    if (++n % 4 !== 0) return holdDecision(ctx.tsMs, 'test double: hold');
    return { ...holdDecision(ctx.tsMs, 'test double'), action: up ? 'buy' : 'sell', side: up ? 'long' : 'short', confidence: 0.9, agreement: 0.9, sizeFraction: 0.4, stopLossPct: 0.03, takeProfitPct: 0.05 };
  };
};
const risk = { baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1 }, strategy: { maxConsecutiveLosses: 1000 } };
const tmp = () => mkdtempSync(path.join(tmpdir(), 'tat-engine-'));

function engine(journal: Journal, extra: Partial<ConstructorParameters<typeof TradingEngine>[0]> = {}) {
  return new TradingEngine({
    symbol: 'BTCUSDT', interval: '1h', journal, venue: new PaperVenue('BTCUSDT', { initialEquity: 10_000 }, H), predictor: nullPredictor,
    fuse: trend(), gate: new RiskGate(risk), runTag: 'unit', logger: pino({ level: 'silent' }), ...extra,
  });
}

describe('TradingEngine', () => {
  it('journals candle, decision, verdict and intent in one transaction before sending; duplicates are dropped, gaps counted', async () => {
    const j = Journal.open(path.join(tmp(), 'j.db'));
    const e = engine(j);
    for (let i = 0; i < 12; i++) await e.onCandle(candle(i));
    expect(await e.onCandle(candle(11))).toBeNull();
    expect(await e.onCandle(candle(5))).toBeNull();
    expect(e.stats.duplicates).toBe(2);
    await e.onCandle(candle(14));
    expect(e.stats.gaps).toBe(1);
    const c = j.counts();
    expect(c).toMatchObject({ candles: 13, decisions: 13, verdicts: 13 });
    expect(c.orders).toBe(c.targets);
    expect(c.orders).toBeGreaterThanOrEqual(3);
    // Intents of earlier candles are settled by the next bar (filled at its open, or nothing to do).
    const statuses = j.all<{ status: string }>('SELECT status FROM orders ORDER BY created_ms').map((r) => r.status);
    expect(statuses.slice(0, -1).every((s) => s === 'filled' || s === 'cancelled')).toBe(true);
    // Latency rows are written in batches after the sends (and on shutdown): flush what is held.
    e.flush();
    expect(j.latencyStats().decision_to_send?.n).toBe(13);
    j.close();
  });

  it('a kill file engages RiskGate.kill: the position is flattened and no new trade follows; the halt survives a restart', async () => {
    const dir = tmp();
    const killFile = path.join(dir, 'kill');
    const j = Journal.open(path.join(dir, 'j.db'));
    const e = engine(j, { killFile });
    let i = 0;
    for (; i < 40 && !(e.o.venue as PaperVenue).position(); i++) await e.onCandle(candle(i));
    expect((e.o.venue as PaperVenue).position()).toBeDefined();
    writeFileSync(killFile, 'stop');
    const r = await e.onCandle(candle(i++));
    expect(r?.verdict.killed).toBe(true);
    expect(r?.target).toMatchObject({ side: 'flat', kind: 'kill' });
    for (let k = 0; k < 20; k++) await e.onCandle(candle(i++));
    expect((e.o.venue as PaperVenue).position()).toBeUndefined();
    const after = j.all<{ n: number }>("SELECT COUNT(*) AS n FROM targets WHERE kind != 'kill' AND candle_ts > ?", r!.decision.tsMs)[0]!.n;
    expect(after).toBe(0);
    expect(j.all("SELECT kind FROM events WHERE kind = 'kill'")).toHaveLength(1);
    // Restart: the gate's kill is restored from the journal.
    const gate2 = new RiskGate(risk);
    const e2 = engine(j, { gate: gate2 });
    await e2.recover();
    expect(gate2.killed).toBe(true);
    expect(existsSync(killFile)).toBe(true);
    j.close();
  });

  it('flatten on exit is journaled as an intent and replayed on restart (same equity, flat)', async () => {
    const dir = tmp();
    const j = Journal.open(path.join(dir, 'j.db'));
    const e = engine(j);
    let i = 0;
    for (; i < 60; i++) await e.onCandle(candle(i));
    if (!(e.o.venue as PaperVenue).position()) for (; !(e.o.venue as PaperVenue).position(); i++) await e.onCandle(candle(i));
    await e.shutdown({ flatten: true });
    const equity = e.o.venue.equity();
    expect(e.o.venue.position()).toBeUndefined();
    expect(j.all("SELECT status FROM orders WHERE client_order_id LIKE '%exit'")).toEqual([{ status: 'filled' }]);
    const e2 = engine(j);
    await e2.recover();
    expect(e2.o.venue.position()).toBeUndefined();
    expect(e2.o.venue.equity()).toBe(equity);
    expect(e2.statusLine()).toBe(e.statusLine().replace(/decision->send.*$/, 'decision->send p50 - ms p99 - ms'));
    j.close();
  });

  it('candles before tradeFromMs only warm up: no orders on history', async () => {
    const j = Journal.open(path.join(tmp(), 'j.db'));
    const e = engine(j, { tradeFromMs: candle(30).tsMs });
    for (let i = 0; i < 40; i++) await e.onCandle(candle(i));
    const first = j.all<{ ts: number }>('SELECT MIN(candle_ts) AS ts FROM targets')[0]!.ts;
    expect(first).toBeGreaterThanOrEqual(candle(30).tsMs);
    expect(j.all<{ n: number }>("SELECT COUNT(*) AS n FROM decisions WHERE reasoning LIKE 'history%'")[0]!.n).toBe(30);
    j.close();
  });
});

describe('targetFor', () => {
  const v = (x: Partial<GateVerdict>): GateVerdict => ({ approved: true, sizeFraction: 0.1, stopLossPct: 0.01, takeProfitPct: 0.02, reasons: [], layers: [], killed: false, ...x });
  const d = (x: Partial<TradingDecision>): TradingDecision => ({ ...holdDecision(0, 't'), ...x });
  const pos = { symbol: 'X', side: 'long' as const, qty: 1, entryPrice: 1, leverage: 1, openedMs: 0 };
  it('kill flattens, hold keeps, veto keeps, flat closes, else the gate size and exits', () => {
    expect(targetFor(d({ action: 'buy', side: 'long' }), v({ killed: true, approved: false }), pos)).toMatchObject({ side: 'flat', kind: 'kill' });
    expect(targetFor(d({ action: 'buy', side: 'long' }), v({ killed: true, approved: false }), undefined)).toBeNull();
    expect(targetFor(d({}), v({}), pos)).toBeNull();
    expect(targetFor(d({ action: 'sell', side: 'short' }), v({ approved: false, sizeFraction: 0 }), pos)).toBeNull();
    expect(targetFor(d({ action: 'sell', side: 'flat' }), v({}), pos)).toMatchObject({ side: 'flat', sizeFraction: 0 });
    expect(targetFor(d({ action: 'sell', side: 'flat' }), v({}), undefined)).toBeNull();
    expect(targetFor(d({ action: 'buy', side: 'long', sizeFraction: 0.5 }), v({ sizeFraction: 0.1 }), undefined)).toEqual({ side: 'long', sizeFraction: 0.1, stopLossPct: 0.01, takeProfitPct: 0.02, kind: 'decision' });
  });
});
