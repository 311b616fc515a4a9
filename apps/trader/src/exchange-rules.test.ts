/**
 * Exchange rules on every order, through the trader against the Bybit simulator (127.0.0.1) with
 * the instrument rules of 5 symbols: every order conforms (none rejected), an order below the
 * minimum notional after rounding is skipped with a logged reason, an unknown symbol is refused at
 * start by name, and instrument info that cannot be loaded stops live trading before any order.
 * Decisions come from a labelled deterministic test double (no model): this is about orders.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { generateSyntheticMarket, holdDecision, type Candle, type CandleColumns, type SymbolId, type TradingDecision } from '@task-agnostic/core';
import { BybitClient, InstrumentCatalog, roundToTick } from '@task-agnostic/bybit';
import { BybitSimulator, SIM_API_KEY, SIM_API_SECRET, SIM_INSTRUMENTS } from '@task-agnostic/bybit/testing';
import { pino, type Logger } from 'pino';
import { main } from './cli.js';
import { parseTraderConfig } from './config.js';
import type { CandlePredictor, Fuse } from './engine.js';
import { Journal } from './journal.js';
import { createPortfolio } from './setup.js';
import { ExchangeVenue } from './venue.js';

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
const at = (c: CandleColumns, i: number): Candle => ({ tsMs: c.tsMs[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]! });

/** TEST DOUBLE: no model. */
const nullPredictor = (): CandlePredictor => ({ onCandle: () => ({ outputs: {}, latency: { featuresMs: 0, encoderMs: 0, headsMs: 0 } }) });
/** TEST DOUBLE decision function: every 4th candle flips long/short at `size` of equity (offset per symbol), with 2% stop and 3% target. */
const flipper = (k: number, size: number): Fuse => {
  let n = k;
  return (_o, ctx) => {
    n++;
    if (n % 4 !== 0) return holdDecision(ctx.tsMs, 'test double: hold');
    const long = (n / 4) % 2 === 1;
    return { ...holdDecision(ctx.tsMs, 'test double: flip'), action: long ? 'buy' : 'sell', side: long ? 'long' : 'short', confidence: 0.9, agreement: 0.9, sizeFraction: size, stopLossPct: 0.02, takeProfitPct: 0.03 };
  };
};

/** pino into an array of parsed records. */
function capture(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _e, cb) { records.push(JSON.parse(String(chunk)) as Record<string, unknown>); cb(); } });
  return { logger: pino({ level: 'info' }, stream), records };
}

let sim: BybitSimulator | undefined;
let client: BybitClient | undefined;
afterEach(async () => {
  client?.close();
  await sim?.close();
  sim = undefined;
  client = undefined;
});

async function start(bars: number, closed: number): Promise<{ sim: BybitSimulator; client: BybitClient; f: ReturnType<typeof feeds> }> {
  const f = feeds(bars);
  sim = await new BybitSimulator(f, { startMs: START + closed * M }).start();
  client = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl, apiKey: SIM_API_KEY, apiSecret: SIM_API_SECRET, backoffBaseMs: 10 });
  return { sim, client, f };
}

describe('a 5-symbol portfolio on the exchange: every order rounded and checked before it is sent', () => {
  it('sends only orders the exchange accepts (qty step, tick, min qty / notional) for every symbol', async () => {
    const { sim, client, f } = await start(80, 1);
    const catalog = await new InstrumentCatalog().load(client, SYMBOLS);
    const journal = Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-rules-')), 'j.db'));
    const cfg = parseTraderConfig({ symbols: SYMBOLS, interval: '1m', statusEvery: 0, risk: { baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1, maxCorrelation: 1 }, strategy: { maxConsecutiveLosses: 1000 } } });
    const { logger, records } = capture();
    const pf = createPortfolio({
      config: cfg, journal, logger, runTag: 'rules',
      venueFor: (s) => new ExchangeVenue(s, client, { rules: catalog.get(s) }),
      predictorFor: nullPredictor, fuseFor: (s) => flipper(SYMBOLS.indexOf(s), 0.12),
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
    const cfg = parseTraderConfig({ symbols: ['DOGEUSDT'], interval: '1m', statusEvery: 0, risk: { baseSize: 1, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1 } } });
    const { logger, records } = capture();
    const doge = f.find((x) => x.symbol === 'DOGEUSDT')!.candles;
    const pf = createPortfolio({
      config: cfg, journal, logger, runTag: 'small',
      venueFor: (s) => new ExchangeVenue(s, client, { rules: catalog.get(s) }),
      predictorFor: nullPredictor,
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
  const run = async (argv: string[]): Promise<{ code: number; err: string }> => {
    const saved = { k: process.env.BYBIT_API_KEY, s: process.env.BYBIT_API_SECRET };
    process.env.BYBIT_API_KEY = SIM_API_KEY;
    process.env.BYBIT_API_SECRET = SIM_API_SECRET;
    const err: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
    try {
      return { code: await main(argv), err: err.join('') };
    } finally {
      process.stderr.write = orig;
      process.env.BYBIT_API_KEY = saved.k;
      process.env.BYBIT_API_SECRET = saved.s;
      if (saved.k === undefined) delete process.env.BYBIT_API_KEY;
      if (saved.s === undefined) delete process.env.BYBIT_API_SECRET;
    }
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-rules-cli-'));

  it('an unknown symbol is refused at start with its name, before any order', async () => {
    const { sim } = await start(20, 10);
    const r = await run(['live', '--model', path.join(dir, 'no-model'), '--base-url', sim.restUrl, '--symbols', 'BTCUSDT,FOOUSDT', '--interval', '1m', '--journal', path.join(dir, 'a.db'), '--log-file', path.join(dir, 'a.log')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown symbol on the exchange \(linear USDT perpetuals\): FOOUSDT/);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(sim.count('/v5/order/create') + sim.count('/v5/position/set-leverage')).toBe(0);
  });

  it('instrument info that cannot be loaded stops live trading before the first order', async () => {
    const { sim } = await start(20, 10);
    sim.faults.rest({ kind: 'http403', banMs: 60_000 }, { path: '/v5/market/instruments-info' });
    const r = await run(['live', '--model', path.join(dir, 'no-model'), '--base-url', sim.restUrl, '--symbols', SYMBOLS.join(','), '--interval', '1m', '--journal', path.join(dir, 'b.db'), '--log-file', path.join(dir, 'b.log')]);
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
