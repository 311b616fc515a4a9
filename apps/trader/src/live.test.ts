/**
 * The live path against the Bybit simulator (127.0.0.1, simulator keys): real signed REST orders
 * through the Bybit client, reconciliation of unsettled intents by client order id on restart (no
 * duplicate, nothing re-sent that the exchange already has), flatten on exit. Decisions come from a
 * labelled deterministic decision function (test double), not the model: this test is about orders.
 */
import { describe, expect, it } from 'vitest';
import { candleAt as at } from '@task-agnostic/core';
import { InstrumentCatalog } from '@task-agnostic/bybit';
import { SYMBOL, engineFactory, flipper, useSimulator, walk } from './live-test-kit.js';

const startSim = useSimulator();
/** The simulator on `n` candles; a 1 s recv window: an intent not found at a restart is settled 1 s (+ 0.1 s margin) later. */
async function setup(n: number, seed: number) {
  const candles = walk(n, seed);
  const session = await startSim([{ symbol: SYMBOL, interval: '1h', candles }], undefined, { recvWindowMs: 1_000 });
  const rules = (await new InstrumentCatalog().load(session.client, [SYMBOL])).get(SYMBOL);
  const make = engineFactory(session, rules, { runTag: 'live', unknownMarginMs: 100 });
  const journal = session.openJournal();
  return { ...session, candles, journal, make: () => make(journal, flipper()) };
}

describe('live trading through the Bybit client (simulator)', () => {
  it('journals each intent before sending, sends one signed order per intent and ends flat after --flatten-on-exit', async () => {
    const { sim, client, journal, candles, make } = await setup(40, 5);
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
  });

  it('on restart looks every unsettled intent up by client order id: found -> settled, not found -> unknown until the recv window passed, then cancelled; never re-sent', async () => {
    const { sim, client, journal, candles, make } = await setup(10, 9);
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
  });
});
