/**
 * Stress scenarios through the trading loop (Portfolio -> engines -> gate -> journal -> venue),
 * not the gate alone: a WebSocket outage or stale data means no new entries; a spread blowout is
 * a veto; a losing streak cuts the size; a price jump trips the circuit breaker. Decisions come
 * from a labelled test double (always "long 30%"): the scenarios are about what the loop lets through.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSyntheticMarket, holdDecision, type Candle, type CandleColumns } from '@task-agnostic/core';
import { RiskGate } from '@task-agnostic/risk';
import { pino } from 'pino';
import { parseTraderConfig } from './config.js';
import { TradingEngine, type CandlePredictor, type Fuse, type PortfolioView } from './engine.js';
import { Journal } from './journal.js';
import type { LiveMarketSnapshot } from './market-feed.js';
import { createPortfolio } from './setup.js';
import { PaperVenue } from './venue.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const quiet = pino({ level: 'silent' });
const tmp = (): string => path.join(mkdtempSync(path.join(tmpdir(), 'tat-stress-')), 'j.db');
const market = (seed: number, price: number): CandleColumns => generateSyntheticMarket({ bars: 60, seed, interval: '1h', startMs: Date.UTC(2024, 0, 1), startPrice: price }).candles;
const at = (c: CandleColumns, i: number): Candle => ({ tsMs: c.tsMs[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]! });
/** TEST DOUBLE: no model. */
const nullPredictor = (): CandlePredictor => ({ onCandle: () => ({ outputs: {}, latency: { featuresMs: 0, encoderMs: 0, headsMs: 0 } }) });
/** TEST DOUBLE decision function: long 30% of equity on every candle. */
const alwaysLong: Fuse = (_o, ctx) => ({ ...holdDecision(ctx.tsMs, 'test double: long'), action: 'buy', side: 'long', confidence: 0.9, agreement: 0.9, sizeFraction: 0.3, stopLossPct: 0.02, takeProfitPct: 0.04 });
const risk = { profile: 'source' as const, baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1, maxCorrelation: 1 }, strategy: { maxConsecutiveLosses: 4, minTrades: 5 } };

describe('stress scenarios through the trader loop', () => {
  const feeds = SYMBOLS.map((s, k) => ({ s, c: market(3 + k, k ? 2_000 : 40_000) }));

  function portfolioWith(feed: () => LiveMarketSnapshot) {
    const journal = Journal.open(tmp());
    const cfg = parseTraderConfig({ symbols: SYMBOLS, statusEvery: 0, risk, account: { initialEquity: 10_000 } });
    const pf = createPortfolio({ config: cfg, journal, logger: quiet, runTag: 'stress', predictorFor: nullPredictor, fuseFor: () => alwaysLong, marketFeed: () => feed() });
    const step = (i: number) => pf.step(new Map(feeds.map(({ s, c }) => [s, { candle: at(c, i), receivedAt: performance.now() }])));
    return { journal, pf, step };
  }
  const healthy: LiveMarketSnapshot = { connected: true, lastMessageAgeMs: 50, rateLimitRemaining: 40, spreadPct: 0.0002, depthNotional: 5_000_000 };

  it('a WebSocket outage, then stale data, then a spent rate-limit budget: no new entries until all is well', async () => {
    let now: LiveMarketSnapshot = { ...healthy, connected: false, lastMessageAgeMs: 4_000 };
    const { journal, pf, step } = portfolioWith(() => now);
    await pf.recover();
    for (let i = 0; i < 5; i++) {
      const r = await step(i);
      for (const x of r) expect(x!.verdict.reasons.join(' | ')).toMatch(/exchange: not connected/);
    }
    now = { ...healthy, lastMessageAgeMs: 300_000 }; // connected but nothing heard for 5 minutes
    for (const x of await step(5)) expect(x!.verdict.reasons.join(' | ')).toMatch(/exchange: market data is stale: last update 300 s ago/);
    now = { ...healthy, rateLimitRemaining: 2 };
    for (const x of await step(6)) expect(x!.verdict.reasons.join(' | ')).toMatch(/exchange: rate-limit budget 2 requests < 5/);
    expect(journal.counts().orders).toBe(0);
    for (const s of SYMBOLS) expect(pf.paperVenue(s)!.position()).toBeUndefined();
    now = healthy;
    const ok = await step(7);
    expect(ok.every((x) => x!.verdict.approved && x!.target?.side === 'long')).toBe(true);
    expect(journal.counts().orders).toBe(2);
    journal.close();
  });

  it('a spread blowout vetoes entries; thin depth shrinks them', async () => {
    let now: LiveMarketSnapshot = { ...healthy, spreadPct: 0.01 };
    const { journal, pf, step } = portfolioWith(() => now);
    await pf.recover();
    for (const x of await step(0)) {
      expect(x!.verdict.approved).toBe(false);
      expect(x!.verdict.reasons.join(' | ')).toMatch(/market: spread 1\.000% > 0\.200%/);
    }
    expect(journal.counts().orders).toBe(0);
    now = { ...healthy, depthNotional: 2_000 }; // 10% of 2,000 = 200 USDT at most
    const r = await step(1);
    for (const x of r) {
      // the market layer cuts to 10% of the depth (a later layer, e.g. the system layer on a loaded machine, may cut further)
      const m = x!.verdict.layers.find((l) => l.layer === 'market')!;
      expect(m).toMatchObject({ action: 'shrink', reason: expect.stringMatching(/liquidity: order \d+ > 10% of depth 2000/) });
      expect(m.sizeFraction).toBeCloseTo(200 / 10_000, 10);
      expect(x!.verdict.sizeFraction).toBeLessThanOrEqual(200 / 10_000 + 1e-12);
    }
    journal.close();
  });

  it('a price jump beyond the circuit breaker vetoes the entry on that bar', async () => {
    const { journal, pf } = portfolioWith(() => healthy);
    await pf.recover();
    const c = at(feeds[0]!.c, 0);
    const jump = { ...c, high: c.open * 1.1, close: c.open * 1.09 };
    const [x] = await pf.step(new Map([['BTCUSDT', { candle: jump, receivedAt: performance.now() }]]));
    expect(x!.verdict.reasons.join(' | ')).toMatch(/market: circuit breaker: last bar moved 10\.0% \(limit 8%\)/);
    expect(journal.counts().orders).toBe(0);
    journal.close();
  });

  it('a losing streak of closed trades cuts the size, and a longer one stops entries', async () => {
    const c = feeds[0]!.c;
    const run = async (tradeReturns: number[]): Promise<number> => {
      const journal = Journal.open(tmp());
      const venue = new PaperVenue('BTCUSDT', { initialEquity: 10_000 }, 3_600_000);
      const view: PortfolioView = { positions: () => [], returns: () => undefined, tradeReturns: () => tradeReturns, lastTradeExitMs: () => undefined };
      const e = new TradingEngine({ symbol: 'BTCUSDT', interval: '1h', journal, venue, predictor: nullPredictor(), fuse: alwaysLong, gate: new RiskGate(risk), runTag: 's', logger: quiet, portfolio: view, marketFeed: () => healthy });
      const r = await e.onCandle(at(c, 0));
      journal.close();
      return r!.verdict.sizeFraction;
    };
    const fresh = await run([]);
    expect(fresh).toBeGreaterThan(0);
    // 6 trades: +1%, -2%, +1%, -2%, -1%, +1%: profit factor 3/5 = 0.6 -> allocation x0.6
    expect(await run([0.01, -0.02, 0.01, -0.02, -0.01, 0.01])).toBeCloseTo(fresh * 0.6, 10);
    // 4 losses in a row (limit 4): no entry
    expect(await run([0.01, 0.02, -0.01, -0.01, -0.01, -0.01])).toBe(0);
  });
});
