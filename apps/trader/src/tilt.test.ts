/**
 * The tilt policy in the trader (`policy: 'tilt'`): over real BTCUSDT hourly candles a paper run
 * (1) makes the same trades as runBacktest of its journaled decisions, to the cent; (2) asks, bar by
 * bar, for the exposure the tilt's definition gives, computed here independently (GARCH series, the
 * score's moving average, the vol-targeted base, 00:00 UTC rebalances, the no-trade band against the
 * journaled position): the formula the trainer's evaluation is held to in tilt-fit.test.ts; (3)
 * resumes after a restart with the same decisions (the runner's state is rebuilt from the journal);
 * (4) still obeys the kill switch. Plus the clear errors of a model without a fitted tilt.
 * The model is a tiny one with random (seeded) weights: its heads move, which is what matters here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, readCandlesCsvSync, sliceColumns, type Candle, type CandleColumns } from '@task-agnostic/core';
import { initBackend } from '@task-agnostic/tf';
import { runBacktest } from '@task-agnostic/backtest';
import { fitGarch11, garchVolatilitySeries } from '@task-agnostic/heads';
import { StreamingPredictor, type DecisionPolicy, type TaskAgnosticModel } from '@task-agnostic/model';
import { candleFile } from '@task-agnostic/test-utils';
import { pino } from 'pino';
import { parseCli } from './cli-args.js';
import { parseTraderConfig } from './config.js';
import { Journal } from './journal.js';
import { journaledDecider } from './live-test-kit.js';
import { createUntrainedModel } from './model-factory.js';
import { createEngine, decisionOf } from './setup.js';
import type { TradingEngine } from './engine.js';
import type { PaperVenue } from './venue.js';

const file = candleFile('bybit_BTCUSDT_1h.csv');
const SYMBOL = 'BTCUSDT';
const H = 3_600_000;
const FIT = 1500;
const RUN = 900;
const account = { initialEquity: 10_000, takerFeeRate: 0.00055, makerFeeRate: 0.0002, slippage: { model: 'fixed' as const, rate: 0.0005 }, qtyStep: 0.001 };
// The system layer reads wall-clock latency: lifted, so a loaded machine does not change decisions (the layer is tested in risk).
const config = parseTraderConfig({ symbols: [SYMBOL], interval: '1h', policy: 'tilt', risk: { system: { latencyBudgetMs: 60_000, maxLatencyMs: 120_000 } }, account, statusEvery: 0 });
const quiet = pino({ level: 'silent' });
const cents = (x: number): number => Math.round(x * 100);
const at = (c: CandleColumns, i: number): Candle => ({ tsMs: c.tsMs[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]! });

let all: CandleColumns;
let run: CandleColumns;
let model: TaskAgnosticModel;
let tilt: NonNullable<DecisionPolicy['tilt']>;

function journal(): Journal {
  return Journal.open(path.join(mkdtempSync(path.join(tmpdir(), 'tat-tilt-')), 'j.db'));
}

async function paper(j: Journal, from: number, to: number, engine = createEngine({ symbol: SYMBOL, config, journal: j, logger: quiet, model, runTag: 'tilt' })): Promise<TradingEngine> {
  for (let i = from; i < to; i++) await engine.onCandle(at(run, i));
  await engine.idle();
  return engine;
}

describe.skipIf(!file)('the tilt policy in the trader (real BTCUSDT 1h candles)', () => {
  let clean: { j: Journal; engine: TradingEngine };

  beforeAll(async () => {
    await initBackend();
    all = readCandlesCsvSync(file!).candles;
    const fit = sliceColumns(all, 0, FIT);
    model = createUntrainedModel(fit, { seed: 11 });
    // The tilt as `trainer calibrate` stores it: the direction head's scale from its outputs, GARCH fitted on the first rows.
    const p = new StreamingPredictor(model);
    const sig: number[] = [];
    for (let i = FIT - 300; i < FIT; i++) {
      const r = p.onCandle(at(all, i));
      if (r?.outputs.direction) sig.push(r.outputs.direction.up - r.outputs.direction.down);
    }
    p.dispose?.();
    const mean = sig.reduce((a, b) => a + b, 0) / sig.length;
    const sd = Math.sqrt(sig.reduce((a, b) => a + (b - mean) ** 2, 0) / (sig.length - 1));
    const rets = Float64Array.from({ length: FIT - 1 }, (_, j) => Math.log(fit.close[j + 1]! / fit.close[j]!));
    const g = fitGarch11(rets);
    tilt = {
      weight: 1, heads: ['direction'], scales: { direction: sd }, maxTilt: 2, band: 0.05, halfLife: 12,
      base: { volatility: 'garch', garchHorizon: 24, rebalanceEvery: 24, garch: { [SYMBOL]: { omega: g.omega, alpha: g.alpha, beta: g.beta, mu: g.mu, initialVariance: rets.reduce((a, x) => a + x * x, 0) / rets.length } } },
    };
    model.setDecisionPolicy({ version: 1, fittedOn: { split: 'validation', symbols: [SYMBOL], fromMs: 0, toMs: 0 }, objective: 'test', fusions: {}, tilt });
    run = sliceColumns(all, FIT, FIT + RUN);
    const j = journal();
    clean = { j, engine: await paper(j, 0, RUN) };
  });
  afterAll(() => model?.dispose());

  it('(1) paper makes the same trades as runBacktest of its decisions, to the cent', () => {
    const { j, engine } = clean;
    const bt = runBacktest(run, journaledDecider(j, run), { ...account, symbol: SYMBOL, interval: '1h', closeAtEnd: false });
    const acct = (engine.o.venue as PaperVenue).account;
    expect(bt.fills.length).toBeGreaterThan(10);
    expect(acct.fills.length).toBe(bt.fills.length);
    acct.fills.forEach((f, i) => expect([f.tsMs, f.side, cents(f.price), cents(f.qty * f.price), cents(f.fee)]).toEqual([bt.fills[i]!.tsMs, bt.fills[i]!.side, cents(bt.fills[i]!.price), cents(bt.fills[i]!.qty * bt.fills[i]!.price), cents(bt.fills[i]!.fee)]));
    expect(cents(acct.equity)).toBe(cents(bt.equity[bt.equity.length - 1]!));
    // account-sized positions: "to the cent" is a real test
    expect(Math.max(...bt.fills.map((f) => f.qty * f.price))).toBeGreaterThan(2000);
  });

  it("(2) every bar's decision is the tilt's exposure, computed independently from its definition", () => {
    const { j } = clean;
    const forecast = garchVolatilitySeries(tilt.base.garch![SYMBOL]!, run.close, 24);
    const p = new StreamingPredictor(model);
    const lambda = Math.pow(2, -1 / 12);
    const k = 0.4 / Math.sqrt(8760);
    let ema = Number.NaN;
    let trades = 0;
    let holdsInBand = 0;
    const eq = new Map(j.all<{ ts_ms: number; equity: number; close: number; position_qty: number }>('SELECT ts_ms, equity, close, position_qty FROM equity WHERE symbol = ?', SYMBOL).map((r) => [r.ts_ms, r]));
    for (let i = 0; i < RUN; i++) {
      const c = at(run, i);
      const r = p.onCandle(c);
      const jd = j.decisionAt(SYMBOL, c.tsMs)!.decision;
      if (!r) {
        expect(jd.action).toBe('hold');
        continue;
      }
      const s = (r.outputs.direction!.up - r.outputs.direction!.down) / tilt.scales.direction!;
      ema = Number.isNaN(ema) ? s : lambda * ema + (1 - lambda) * s;
      const target = Math.min(1, Math.min(1, k / Math.max(forecast[i]!, 1e-4)) * Math.max(0, Math.min(2, 1 + ema)));
      const row = eq.get(c.tsMs)!;
      const held = (row.position_qty * row.close) / row.equity;
      if (Math.floor(c.tsMs / H) % 24 !== 0) expect(jd.action).toBe('hold');
      else if (Math.abs(target - held) <= 0.05) {
        holdsInBand++;
        expect(jd.action).toBe('hold');
      } else {
        trades++;
        expect(jd.side).toBe(target > 0 ? 'long' : 'flat');
        expect(jd.sizeFraction).toBeCloseTo(target, 9);
        // the gate passed the size through ('decision' sizing, nothing binding here): the journaled target is the tilt's
        const g = j.targetsAt(SYMBOL, c.tsMs);
        expect(g).toHaveLength(1);
        expect(g[0]!.sizeFraction).toBeCloseTo(target, 9);
        expect([g[0]!.stopLossPct, g[0]!.takeProfitPct]).toEqual([0, 0]);
      }
    }
    p.dispose?.();
    expect(trades).toBeGreaterThan(5);
    expect(holdsInBand).toBeGreaterThan(0);
  });

  it('(3) a restart rebuilds the GARCH forecast and the smoothed score from the journal: the same decisions', async () => {
    const j = journal();
    const first = await paper(j, 0, 500);
    await first.shutdown();
    const second = createEngine({ symbol: SYMBOL, config, journal: j, logger: quiet, model, runTag: 'tilt' });
    expect(await second.recover()).toBe(500);
    await paper(j, 500, RUN, second);
    const q = 'SELECT ts_ms, action, side, size_fraction FROM decisions ORDER BY ts_ms';
    expect(j.all(q)).toEqual(clean.j.all(q));
    await second.shutdown();
  });

  it('(4) the kill switch still flattens a tilt position and vetoes what follows', async () => {
    const j = journal();
    const engine = await paper(j, 0, 200);
    let i = 200;
    while (!engine.o.venue.position() && i < RUN - 2) await engine.onCandle(at(run, i++));
    expect(engine.o.venue.position()).toBeDefined();
    engine.requestKill('test');
    const r = await engine.onCandle(at(run, i));
    expect(r!.target?.kind).toBe('kill');
    const after = await engine.onCandle(at(run, i + 1));
    expect(after!.verdict.killed).toBe(true);
    expect(engine.o.venue.position()).toBeUndefined();
    await engine.shutdown();
  });

  it('names what is missing: no fitted tilt, no GARCH fit for the symbol, --thresholds seed, a bad --policy', () => {
    expect(() => decisionOf({ ...config }, { decisionPolicy: null })).toThrow(ConfigError);
    expect(() => decisionOf({ ...config }, { decisionPolicy: null })).toThrow(/--policy tilt: the model carries no fitted tilt policy .*trainer calibrate/);
    const d = decisionOf({ ...config }, model);
    expect(() => d.forSymbol('ETHUSDT')).toThrow(/no GARCH fit for ETHUSDT \(it has BTCUSDT\)/);
    expect(() => decisionOf({ ...config, thresholds: 'seed' }, model)).toThrow(/--thresholds seed is for the fused strategy/);
    expect(() => parseCli(['paper', '--model', 'm', '--policy', 'yolo'])).toThrow(/--policy must be fused or tilt, got 'yolo'/);
    expect(parseCli(['paper', '--model', 'm', '--policy', 'tilt'])).toMatchObject({ policy: 'tilt' });
    expect(d.note).toMatch(/tilt policy fitted on validation/);
  });
});
