/**
 * TEST HELPERS for the live-trading tests against the Bybit simulator (127.0.0.1, simulator keys):
 * seeded candles, labelled test doubles for the model and the fusion (these tests are about orders),
 * a simulator session whose clients, journals and simulator are closed after each test, an engine
 * factory on the session, and the CLI run with the simulator's keys. Not part of the app's API
 * (index.ts does not export it).
 */
import { afterEach } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRng, holdDecision, type CandleColumns, type Exchange, type TradingDecision } from '@task-agnostic/core';
import { BybitClient, type BybitClientOptionsInput, type InstrumentRules, type TransportDeps } from '@task-agnostic/bybit';
import { BybitSimulator, SIM_API_KEY, SIM_API_SECRET, type SimFeed } from '@task-agnostic/bybit/testing';
import { RiskGate } from '@task-agnostic/risk';
import { pino } from 'pino';
import { main } from './cli.js';
import { TradingEngine, type CandlePredictor, type EngineOptions, type Fuse } from './engine.js';
import { Journal } from './journal.js';
import { ExchangeVenue } from './venue.js';

export const SYMBOL = 'BTCUSDT';

/** The decision each candle's journaled target stands for (null = no order): the backtest's decider for a paper = backtest proof. */
export function journaledDecider(j: Journal, c: CandleColumns, symbol: string = SYMBOL): (t: number) => TradingDecision | null {
  return (t) => {
    const ts = c.tsMs[t]!;
    const targets = j.targetsAt(symbol, ts);
    if (targets.length === 0) return null;
    const g = targets[targets.length - 1]!;
    return { ...holdDecision(ts, 'journal'), action: g.side === 'long' ? 'buy' : 'sell', side: g.side, sizeFraction: g.sizeFraction, stopLossPct: g.stopLossPct, takeProfitPct: g.takeProfitPct };
  };
}
export const H = 3_600_000;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * TEST DOUBLE wall clock that moves only when the test moves it (from the real time at creation):
 * given to an engine (and a client) it decides "before" and "after" a deadline, whatever the load.
 */
export class ManualClock {
  private t = Date.now();
  /** The clock's time (ms); bound, so it can be passed as `now`. */
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
  set(tMs: number): void {
    this.t = tMs;
  }
}

/** A promise the test settles: `opened` resolves when `open()` is called (e.g. a held request's release). */
export class Gate {
  open: () => void = () => {};
  readonly opened = new Promise<void>((r) => (this.open = r));
}

/**
 * TEST DOUBLE wrapper: `target` is `inner` (every method and getter, private fields intact) with the
 * promises its methods return counted while pending; `settled()` waits until none is. E.g. the
 * balance read that a Promise.all left running after the position read beside it failed.
 */
export class InFlight<T extends object> {
  private pending = 0;
  private waiters: (() => void)[] = [];
  readonly target: T;

  constructor(inner: T) {
    this.target = new Proxy(inner, {
      get: (obj, prop) => {
        const v: unknown = Reflect.get(obj, prop, obj);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]): unknown => {
          const r: unknown = v.apply(obj, args);
          if (r instanceof Promise) {
            this.pending++;
            const done = (): void => {
              if (--this.pending === 0) for (const w of this.waiters.splice(0)) w();
            };
            r.then(done, done);
          }
          return r;
        };
      },
    });
  }

  /** Resolves once no call of `target` is pending. */
  async settled(): Promise<void> {
    while (this.pending > 0) await new Promise<void>((r) => this.waiters.push(r));
  }
}

/** TEST DOUBLE: `inner` with the methods in `over` replaced; every other member is `inner`'s own (called on it, private fields intact). */
export function withMethods<T extends object>(inner: T, over: Partial<T>): T {
  return new Proxy(inner, {
    get: (obj, prop) => {
      if (Object.hasOwn(over, prop)) return over[prop as keyof T];
      const v: unknown = Reflect.get(obj, prop, obj);
      return typeof v === 'function' ? v.bind(obj) : v;
    },
  });
}

/** Holds the simulator's next order request (its body read, before the matching engine) until the returned gate opens. */
export function holdNextOrder(sim: BybitSimulator): Gate {
  const g = new Gate();
  sim.faults.rest({ kind: 'hold', until: g.opened }, { path: '/v5/order/create' });
  return g;
}

/** Waits (real time, polling every `everyMs`) until `cond()` holds: an event, not a guess of how long it takes. */
export async function until(cond: () => boolean, everyMs = 10): Promise<void> {
  while (!cond()) await sleep(everyMs);
}

/**
 * A seeded random walk of `n` hourly candles from 2024-01-01, quoted on BTCUSDT's 0.1 tick: from
 * 30,000, each close within +-1% of its open; high and low `wick` beyond the body.
 */
export function walk(n: number, seed: number, wick = 5): CandleColumns {
  const rng = createRng(seed);
  const c = { length: n, tsMs: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n), turnover: new Float64Array(n) };
  let p = 30_000;
  for (let i = 0; i < n; i++) {
    const o = p;
    p = Math.round(p * (1 + (rng.next() - 0.5) * 0.02) * 10) / 10;
    c.tsMs[i] = Date.UTC(2024, 0, 1) + i * H;
    c.open[i] = o;
    c.close[i] = p;
    c.high[i] = Math.max(o, p) + wick;
    c.low[i] = Math.min(o, p) - wick;
    c.volume[i] = 10;
  }
  return c;
}

/** TEST DOUBLE: no model; the engine's fuse step sees empty outputs. */
export const nullPredictor: CandlePredictor = { onCandle: () => ({ outputs: {}, latency: { featuresMs: 0, encoderMs: 0, headsMs: 0 } }) };

export interface EntryShape {
  /** Fraction of equity (default 0.3). */
  readonly size?: number;
  /** Default 0.05. */
  readonly stopLossPct?: number;
  /** Default 0.1. */
  readonly takeProfitPct?: number;
}

/** TEST DOUBLE decision: a confident (0.9 / 0.9) entry, long or short. */
export function enter(tsMs: number, long: boolean, shape: EntryShape = {}, reasoning = 'test double: enter'): TradingDecision {
  const { size = 0.3, stopLossPct = 0.05, takeProfitPct = 0.1 } = shape;
  return { ...holdDecision(tsMs, reasoning), action: long ? 'buy' : 'sell', side: long ? 'long' : 'short', confidence: 0.9, agreement: 0.9, sizeFraction: size, stopLossPct, takeProfitPct };
}

/**
 * TEST DOUBLE decision function: on every `every`-th call (default 3) an entry, alternately long
 * (first) and short; holds between. `offset` starts the count further on (a portfolio staggers its
 * symbols so).
 */
export function flipper(o: EntryShape & { readonly every?: number; readonly offset?: number } = {}): Fuse {
  const every = o.every ?? 3;
  let n = o.offset ?? 0;
  return (_outputs, ctx) => {
    n++;
    if (n % every !== 0) return holdDecision(ctx.tsMs, 'test double: hold');
    return enter(ctx.tsMs, (n / every) % 2 === 1, o, 'test double: flip');
  };
}

/** Risk limits under which the test doubles' entries go through: half the account per trade, no streak stop. */
export const RISK = { baseSize: 0.5, maxTotalExposure: 1, portfolio: { maxSymbolExposure: 1 }, strategy: { maxConsecutiveLosses: 1000 } };

/** Client options beyond the simulator's endpoints and keys. */
export type SimClientOptions = Omit<BybitClientOptionsInput, 'mode' | 'restUrl' | 'wsPublicUrl' | 'apiKey' | 'apiSecret'>;

export interface SimSession {
  readonly sim: BybitSimulator;
  /** A client of the simulator with the session's options. */
  readonly client: BybitClient;
  /** Another client (closed with the session), with `extra` over the session's options and `deps` (e.g. a clock). */
  newClient(extra?: SimClientOptions, deps?: TransportDeps): BybitClient;
  /** Opens the session's journal file (again: the same file each call, as a restarted process would). */
  openJournal(): Journal;
}

/**
 * Registers an afterEach that closes what the sessions of the test opened (clients, journals the
 * test has not closed itself, the simulator), and returns the function that starts one: the
 * simulator on `feeds` from `startMs` (default: the first feed's first candle) and a client with
 * `defaults`, then `client` over them.
 */
export function useSimulator(defaults: SimClientOptions = {}): (feeds: readonly SimFeed[], startMs?: number, client?: SimClientOptions) => Promise<SimSession> {
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch {
        // closed by the test already (a simulated crash)
      }
    }
  });
  return async (feeds, startMs, clientOptions = {}) => {
    const sim = await new BybitSimulator(feeds, { startMs: startMs ?? feeds[0]!.candles.tsMs[0]! }).start();
    closers.push(() => sim.close());
    const newClient = (extra: SimClientOptions = {}, deps: TransportDeps = {}): BybitClient => {
      const c = new BybitClient({ mode: 'custom', restUrl: sim.restUrl, wsPublicUrl: sim.wsPublicUrl, apiKey: SIM_API_KEY, apiSecret: SIM_API_SECRET, ...defaults, ...clientOptions, ...extra }, deps);
      closers.push(() => c.close());
      return c;
    };
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tat-live-')), 'j.db');
    const openJournal = (): Journal => {
      const j = Journal.open(file);
      closers.push(() => j.close());
      return j;
    };
    return { sim, client: newClient(), newClient, openJournal };
  };
}

export interface MakeEngineOptions {
  /** The exchange the venue trades on (default: the session's client). */
  readonly exchange?: Exchange;
  /** Over RISK. */
  readonly risk?: Record<string, unknown>;
  /** Over the factory's engine options. */
  readonly engine?: Partial<EngineOptions>;
}

/** A factory of 1h SYMBOL engines on the session's exchange with `rules`, the null predictor and RISK (then `o.risk`, then each engine's); pino is silent unless LIVE_DEBUG is set. */
export function engineFactory(
  session: SimSession,
  rules: InstrumentRules,
  o: { readonly runTag: string; readonly unknownMarginMs: number; readonly engine?: Partial<EngineOptions>; readonly risk?: Record<string, unknown> },
): (journal: Journal, fuse: Fuse, options?: MakeEngineOptions) => TradingEngine {
  return (journal, fuse, options = {}) =>
    new TradingEngine({
      symbol: SYMBOL, interval: '1h', journal, venue: new ExchangeVenue(SYMBOL, options.exchange ?? session.client, { rules, unknownMarginMs: o.unknownMarginMs }), predictor: nullPredictor, fuse,
      gate: new RiskGate({ ...RISK, ...o.risk, ...options.risk }), runTag: o.runTag, logger: pino({ level: process.env.LIVE_DEBUG ? 'debug' : 'silent' }),
      ...o.engine, ...options.engine,
    });
}

/** Runs the CLI (`main(argv)`) with the simulator's keys in BYBIT_API_KEY / BYBIT_API_SECRET and stderr captured; restores both. */
export async function mainWithSimKeys(argv: readonly string[]): Promise<{ code: number; err: string }> {
  const saved = { k: process.env.BYBIT_API_KEY, s: process.env.BYBIT_API_SECRET };
  process.env.BYBIT_API_KEY = SIM_API_KEY;
  process.env.BYBIT_API_SECRET = SIM_API_SECRET;
  const err: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await main([...argv]), err: err.join('') };
  } finally {
    process.stderr.write = orig;
    if (saved.k === undefined) delete process.env.BYBIT_API_KEY;
    else process.env.BYBIT_API_KEY = saved.k;
    if (saved.s === undefined) delete process.env.BYBIT_API_SECRET;
    else process.env.BYBIT_API_SECRET = saved.s;
  }
}
