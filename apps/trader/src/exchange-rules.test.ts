/**
 * Exchange rules on every order, through the trader against the Bybit simulator (127.0.0.1) with
 * the instrument rules of 5 symbols: every order conforms (none rejected), an order below the
 * minimum notional after rounding is skipped with a logged reason, an unknown symbol is refused at
 * start by name, and instrument info that cannot be loaded stops live trading before any order.
 * Decisions come from a labelled deterministic test double (no model): this is about orders.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { candleAt as at, generateSyntheticMarket, holdDecision, type CandleColumns, type SymbolId, type TradingDecision } from '@task-agnostic/core';
import { InstrumentCatalog, roundToTick } from '@task-agnostic/bybit';
import { SIM_INSTRUMENTS } from '@task-agnostic/bybit/testing';
import { pino, type Logger } from 'pino';
import { parseTraderConfig } from './config.js';
import { Journal } from './journal.js';
import { createPortfolio } from './setup.js';
import { ExchangeVenue } from './venue.js';
import { flipper, mainWithSimKeys, nullPredictor, useSimulator } from './live-test-kit.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'DOGEUSDT'];
const PRICE: Record<string, number> = { BTCUSDT: 104_000, ETHUSDT: 2_550, SOLUSDT: 158, BNBUSDT: 662, DOGEUSDT: 0.197 };
const START = Date.UTC(2025, 5, 1);
const M = 60_000;

/** Synthetic 1m candles per symbol, quoted on the instrument's tick. */
function feeds(bars: number): { symbol: SymbolId; interval: '1m'; candles: CandleColumns }[] {
  return SYMBOLS.map((s, k) => {
    const m = generateSyntheticMarket({ bars, seed: 21 + k, interval: '1m', startMs: START, startPrice: PRICE[s]! }).candles;
    const t = SIM_INSTRUMENTS[s]!.tickSize;
    const r = (x: ArrayLike<number>): Float64Array => Float64Array.from(x, (v) => roundToTick(v, t));
    const open = r(m.open);
    const close = r(m.close);
    const high = Float64Array.from(r(m.high), (h, i) => Math.max(h, open[i]!, close[i]!));
    const low = Float64Array.from(r(m.low), (l, i) => Math.min(l, open[i]!, close[i]!));
    return { symbol: s, interval: '1m' as const, candles: { ...m, open, high, low, close } };
  });
}

/** pino into an array of parsed records. */
function capture(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _e, cb) { records.push(JSON.parse(String(chunk)) as Record<string, unknown>); cb(); } });
  return { logger: pino({ level: 'info' }, stream), records };
}

const startSim = useSimulator({ backoffBaseMs: 10 });
/** The simulator on `bars` 1m candles of every symbol, `closed` of them closed at the start. */
async function start(bars: number, closed: number) {
  const f = feeds(bars);
  return { ...(await startSim(f, START + closed * M)), f };
}

describe('a 5-symbol portfolio on the exchange: every order rounded and checked before it is sent', () => {
  it('sends only orders the exchange accepts (qty step, tick, min qty / notional) for every symbol', async () => {
    const { sim, client, f } = await start(80, 1);
    const catalog = await new InstrumentCatalog().load(client, SYMBOLS);
    const journal = Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-rules-')), 'j.db'));
    const cfg = parseTraderConfig({ symbols: SYMBOLS, interval: '1m', statusEvery: 0, risk: { profile: 'source', baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1, maxCorrelation: 1 }, strategy: { maxConsecutiveLosses: 1000 } } });
    const { logger, records } = capture();
    const pf = createPortfolio({
      config: cfg, journal, logger, runTag: 'rules',
      venueFor: (s) => new ExchangeVenue(s, client, { rules: catalog.get(s) }),
      predictorFor: () => nullPredictor, fuseFor: (s) => flipper({ every: 4, offset: SYMBOLS.indexOf(s), size: 0.12, stopLossPct: 0.02, takeProfitPct: 0.03 }),
    });
    try {
      await pf.recover();
      for (let i = 1; i < 60; i++) {
        sim.advance(1);
        await pf.step(new Map(f.map((x) => [x.symbol, { candle: at(x.candles, i), receivedAt: performance.now() }])));
      }
      const orders = journal.all<{ symbol: string; status: string; error: string | null }>('SELECT symbol, status, error FROM orders');
      expect(orders.filter((o) => o.status === 'rejected')).toEqual([]);
      for (const s of SYMBOLS) expect(orders.filter((o) => o.symbol === s && o.status === 'filled').length, s).toBeGreaterThanOrEqual(3);
      expect(records.filter((r) => r.msg === 'order rejected')).toEqual([]);
      // every order the exchange got is on its instrument's step and tick
      for (const o of sim.account.orders) {
        const r = SIM_INSTRUMENTS[o.symbol]!;
        expect(Math.abs(o.qty / r.qtyStep - Math.round(o.qty / r.qtyStep))).toBeLessThan(1e-6);
        for (const p of [o.stopLoss, o.takeProfit]) if (p > 0) expect(Math.abs(p / r.tickSize - Math.round(p / r.tickSize))).toBeLessThan(1e-6);
      }
      expect(sim.account.orders.length).toBeGreaterThanOrEqual(15);
    } finally {
      for (const e of pf.engines.values()) await e.shutdown({ flatten: true });
      journal.close();
    }
  });

  it('skips an order below the minimum notional after rounding, logs the reason and never sends it', async () => {
    const { sim, client, f } = await start(20, 1);
    const catalog = await new InstrumentCatalog().load(client, ['DOGEUSDT']);
    const journal = Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-rules-')), 'j.db'));
    // a size just over 5 USDT of DOGE that the qty step of 1 DOGE rounds to just under 5 USDT
    const cfg = parseTraderConfig({ symbols: ['DOGEUSDT'], interval: '1m', statusEvery: 0, risk: { profile: 'source', baseSize: 1, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1 } } });
    const { logger, records } = capture();
    const doge = f.find((x) => x.symbol === 'DOGEUSDT')!.candles;
    const pf = createPortfolio({
      config: cfg, journal, logger, runTag: 'small',
      venueFor: (s) => new ExchangeVenue(s, client, { rules: catalog.get(s) }),
      predictorFor: () => nullPredictor,
      fuseFor: () => (_o, ctx): TradingDecision => {
        const px = doge.close[(ctx.tsMs - START) / M]!;
        // n whole DOGE stay under 5 USDT; n + 0.99 (what the size asks for) is over it
        const n = Math.ceil(5 / px) - 1;
        expect((n + 0.99) * px).toBeGreaterThanOrEqual(5);
        return { ...holdDecision(ctx.tsMs, 'test double: tiny'), action: 'buy', side: 'long', confidence: 0.9, agreement: 0.9, sizeFraction: ((n + 0.99) * px) / 10_000, stopLossPct: 0, takeProfitPct: 0 };
      },
    });
    try {
      await pf.recover();
      sim.advance(1);
      await pf.step(new Map([['DOGEUSDT', { candle: at(doge, 1), receivedAt: performance.now() }]]));
      expect(sim.account.orders.map((o) => [o.qty, o.price, o.orderLinkId]), JSON.stringify(records.map((r) => r.msg))).toEqual([]);
      const skipped = records.find((r) => r.msg === 'order skipped: not sent');
      expect(skipped?.reason).toMatch(/DOGEUSDT buy \d+ x 0\.\d+ = 4\.\d+ USDT after rounding is below the minimum notional 5 USDT/);
      const [o] = journal.all<{ status: string; error: string }>('SELECT status, error FROM orders');
      expect(o).toMatchObject({ status: 'cancelled', error: expect.stringMatching(/^skipped: .*below the minimum notional/) });
    } finally {
      for (const e of pf.engines.values()) await e.shutdown();
      journal.close();
    }
  });
});

describe('trader live refuses to start on bad instrument input (CLI against the simulator)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-rules-cli-'));

  it('an unknown symbol is refused at start with its name, before any order', async () => {
    const { sim } = await start(20, 10);
    const r = await mainWithSimKeys(['live', '--model', path.join(dir, 'no-model'), '--base-url', sim.restUrl, '--symbols', 'BTCUSDT,FOOUSDT', '--interval', '1m', '--journal', path.join(dir, 'a.db'), '--log-file', path.join(dir, 'a.log')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown symbol on the exchange \(linear USDT perpetuals\): FOOUSDT/);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(sim.count('/v5/order/create') + sim.count('/v5/position/set-leverage')).toBe(0);
  });

  it('instrument info that cannot be loaded stops live trading before the first order', async () => {
    const { sim } = await start(20, 10);
    sim.faults.rest({ kind: 'http403', banMs: 60_000 }, { path: '/v5/market/instruments-info' });
    const r = await mainWithSimKeys(['live', '--model', path.join(dir, 'no-model'), '--base-url', sim.restUrl, '--symbols', SYMBOLS.join(','), '--interval', '1m', '--journal', path.join(dir, 'b.db'), '--log-file', path.join(dir, 'b.log')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/INSTRUMENT: cannot load instrument info for BTCUSDT, ETHUSDT, SOLUSDT, BNBUSDT, DOGEUSDT/);
    expect(sim.count('/v5/order/create')).toBe(0);
  });

  it('sets isolated margin and each symbol\'s leverage (capped at the instrument maximum) at start', async () => {
    const { sim, client } = await start(20, 10);
    const catalog = await new InstrumentCatalog().load(client, SYMBOLS);
    // what prepareLive does (run.ts), observed on the exchange
    await client.setMarginMode('isolated');
    for (const s of SYMBOLS) await client.setLeverage(s, Math.min(125, catalog.get(s).maxLeverage));
    expect(sim.account.marginMode).toBe('ISOLATED_MARGIN');
    expect(SYMBOLS.map((s) => sim.account.leverageOf(s))).toEqual([100, 100, 100, 75, 75]);
  });
});
