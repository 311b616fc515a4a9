/**
 * The live path against the Bybit simulator (127.0.0.1, simulator keys): real signed REST orders
 * through the Bybit client, reconciliation of unsettled intents by client order id on restart (no
 * duplicate, nothing re-sent that the exchange already has), flatten on exit. Decisions come from a
 * labelled deterministic decision function (test double), not the model: this test is about orders.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRng, holdDecision, type Candle, type CandleColumns, type TradingDecision } from '@task-agnostic/core';
import { BybitClient, InstrumentCatalog } from '@task-agnostic/bybit';
import { BybitSimulator, SIM_API_KEY, SIM_API_SECRET } from '@task-agnostic/bybit/testing';
import { RiskGate } from '@task-agnostic/risk';
import { pino } from 'pino';
import { TradingEngine, type CandlePredictor } from './engine.js';
import { Journal } from './journal.js';
import { ExchangeVenue } from './venue.js';

const SYMBOL = 'BTCUSDT';
const H = 3_600_000;

/** A random walk of hourly candles (seeded). */
function walk(n: number, seed: number): CandleColumns {
  const rng = createRng(seed);
  const c = { length: n, tsMs: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n), turnover: new Float64Array(n) };
  let p = 30_000;
  for (let i = 0; i < n; i++) {
    const o = p;
    p = Math.round(p * (1 + (rng.next() - 0.5) * 0.02) * 10) / 10;
    c.tsMs[i] = Date.UTC(2024, 0, 1) + i * H;
    c.open[i] = o;
    c.close[i] = p;
    c.high[i] = Math.max(o, p) + 5;
    c.low[i] = Math.min(o, p) - 5;
    c.volume[i] = 10;
  }
  return c;
}
const at = (c: CandleColumns, i: number): Candle => ({ tsMs: c.tsMs[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]! });

/** TEST DOUBLE: no model; the engine's fuse step sees these empty outputs. */
const nullPredictor: CandlePredictor = { onCandle: () => ({ outputs: {}, latency: { featuresMs: 0, encoderMs: 0, headsMs: 0 } }) };
/** TEST DOUBLE decision function: every 3rd candle flips between long and short, 30% of equity. */
const flipper = (): ((o: unknown, ctx: { tsMs: number }) => TradingDecision) => {
  let n = 0;
  return (_o, ctx) => {
    n++;
    if (n % 3 !== 0) return holdDecision(ctx.tsMs, 'test double: hold');
    const long = (n / 3) % 2 === 1;
    return { ...holdDecision(ctx.tsMs, 'test double: flip'), action: long ? 'buy' : 'sell', side: long ? 'long' : 'short', confidence: 0.9, agreement: 0.9, sizeFraction: 0.3, stopLossPct: 0.05, takeProfitPct: 0.1 };
  };
};
const risk = { baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1 }, strategy: { maxConsecutiveLosses: 1000 } };

async function setup(candles: CandleColumns, journalFile: string) {
  const sim = await new BybitSimulator([{ symbol: SYMBOL, interval: '1h', candles }], { startMs: candles.tsMs[0]! }).start();
  // a 1 s recv window: an intent not found at a restart is settled 1 s (+ 0.1 s margin) later
  const client = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl, apiKey: SIM_API_KEY, apiSecret: SIM_API_SECRET, recvWindowMs: 1_000 });
  const journal = Journal.open(journalFile);
  const rules = (await new InstrumentCatalog().load(client, [SYMBOL])).get(SYMBOL);
  const make = () =>
    new TradingEngine({
      symbol: SYMBOL, interval: '1h', journal, venue: new ExchangeVenue(SYMBOL, client, { rules, unknownMarginMs: 100 }), predictor: nullPredictor, fuse: flipper(),
      gate: new RiskGate(risk), runTag: 'live', logger: pino({ level: process.env.LIVE_DEBUG ? 'debug' : 'silent' }),
    });
  return { sim, client, journal, make };
}

describe('live trading through the Bybit client (simulator)', () => {
  it('journals each intent before sending, sends one signed order per intent and ends flat after --flatten-on-exit', async () => {
    const candles = walk(40, 5);
    const { sim, client, journal, make } = await setup(candles, path.join(mkdtempSync(path.join(tmpdir(), 'tat-live-')), 'j.db'));
    try {
      const engine = make();
      await engine.recover(); // an empty journal: reconciles with the exchange only
      for (let i = 0; i < candles.length; i++) {
        sim.advance(1);
        await engine.onCandle(at(candles, i));
      }
      const orders = journal.all<{ client_order_id: string; status: string; exchange_order_id: string | null }>('SELECT client_order_id, status, exchange_order_id FROM orders ORDER BY created_ms');
      expect(orders.length).toBe(13); // every 3rd of 40 candles
      const sent = orders.filter((o) => o.status === 'filled');
      expect(sent.length).toBeGreaterThanOrEqual(12);
      for (const o of sent) expect(sim.account.byLinkId.get(o.client_order_id)?.orderId).toBe(o.exchange_order_id);
      // Each filled order's journaled fill carries the exchange's fee (Bybit's cumExecFee), the sum
      // of the simulator's execution fees for it (taker 0.055 % of the value).
      for (const o of sent) {
        const fills = journal.all<{ fee: number; qty: number; price: number }>('SELECT fee, qty, price FROM fills WHERE client_order_id = ?', o.client_order_id);
        const simFees = sim.account.fills.filter((f) => f.orderLinkId === o.client_order_id);
        expect(fills.length).toBe(1);
        expect(simFees.length).toBeGreaterThan(0);
        expect(fills[0]!.fee).toBeGreaterThan(0);
        expect(fills[0]!.fee).toBeCloseTo(simFees.reduce((a, f) => a + f.fee, 0), 6);
        expect(fills[0]!.fee).toBeCloseTo(fills[0]!.qty * fills[0]!.price * 0.00055, 6);
      }
      // One exchange order per client id, none the journal does not know.
      const simIds = sim.account.orders.map((o) => o.orderLinkId);
      expect(new Set(simIds).size).toBe(simIds.length);
      for (const id of simIds) expect(orders.some((o) => o.client_order_id === id)).toBe(true);
      // The engine's view equals the exchange's.
      const p = (await client.positions(SYMBOL))[0];
      expect(engine.o.venue.position()?.side).toBe(p?.side);
      expect(engine.o.venue.position()?.qty).toBeCloseTo(p!.qty, 9);
      expect(p!.qty * candles.close[39]!).toBeGreaterThan(0.2 * 10_000);
      await engine.shutdown({ flatten: true });
      expect(await client.positions(SYMBOL)).toEqual([]);
      expect(journal.unsettledOrders()).toEqual([]);
    } finally {
      client.close();
      await sim.close();
      journal.close();
    }
  });

  it('on restart looks every unsettled intent up by client order id: found -> settled, not found -> unknown until the recv window passed, then cancelled; never re-sent', async () => {
    const candles = walk(10, 9);
    const { sim, client, journal, make } = await setup(candles, path.join(mkdtempSync(path.join(tmpdir(), 'tat-live-')), 'j.db'));
    try {
      for (let i = 0; i < 5; i++) {
        sim.advance(1);
        journal.recordCandle(SYMBOL, '1h', at(candles, i), Date.now());
      }
      // A crash after sending (the exchange has the order, the journal still says 'intent') ...
      const sentReq = { symbol: SYMBOL, side: 'buy' as const, type: 'market' as const, qty: 0.05, clientOrderId: 'live-BTCUSDT-sent-decision' };
      journal.recordOrderIntent(sentReq, null, 1);
      await client.placeOrder(sentReq);
      // ... and a crash before sending (only the journal has it).
      const lostReq = { symbol: SYMBOL, side: 'sell' as const, type: 'market' as const, qty: 0.05, clientOrderId: 'live-BTCUSDT-lost-decision' };
      journal.recordOrderIntent(lostReq, null, 2);
      const before = sim.account.orders.length;

      const engine = make();
      expect(await engine.recover()).toBe(5);
      expect(journal.order(sentReq.clientOrderId)).toMatchObject({ status: 'filled', exchangeOrderId: sim.account.byLinkId.get(sentReq.clientOrderId)!.orderId });
      // Not found yet is not "never sent": it could still arrive until the recv window has passed.
      expect(journal.order(lostReq.clientOrderId)).toMatchObject({ status: 'unknown', error: expect.stringMatching(/may still arrive/) });
      expect(sim.account.orders.length).toBe(before);
      expect(sim.account.byLinkId.has(lostReq.clientOrderId)).toBe(false);
      expect(journal.all('SELECT client_order_id FROM fills')).toEqual([{ client_order_id: sentReq.clientOrderId }]);
      // The engine starts from the exchange's position.
      expect(engine.o.venue.position()).toMatchObject({ side: 'long', qty: 0.05 });
      const ev = journal.all<{ data_json: string }>("SELECT data_json FROM events WHERE kind = 'reconcile'");
      expect(ev).toHaveLength(1);
      expect(JSON.parse(ev[0]!.data_json)).toMatchObject({ symbol: SYMBOL, position: { side: 'long', qty: 0.05 }, openOrders: [] });
      // After the recv window (+ margin) the next candle asks again: still not there -> cancelled, never re-sent.
      await new Promise((r) => setTimeout(r, Math.max(0, engine.unresolved.lastDeadline() - Date.now() + 20)));
      sim.advance(1);
      await engine.onCandle(at(candles, 5));
      expect(journal.order(lostReq.clientOrderId)).toMatchObject({ status: 'cancelled', error: expect.stringMatching(/never reached the exchange/) });
      expect(sim.account.byLinkId.has(lostReq.clientOrderId)).toBe(false);
      expect(engine.unresolved.size).toBe(0);
    } finally {
      client.close();
      await sim.close();
      journal.close();
    }
  });
});
