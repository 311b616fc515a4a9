import { beforeAll, describe, expect, it } from 'vitest';
import { allocColumns, generateSyntheticMarket, sliceColumns, type CandleColumns } from '@task-agnostic/core';
import { encoderPreset } from '@task-agnostic/encoders';
import { DEFAULT_FEATURE_SET, Normalizer, computeFeatures } from '@task-agnostic/features';
import { getTask } from '@task-agnostic/heads';
import { TaskAgnosticModel, defaultComponents } from '@task-agnostic/model';
import { initBackend } from '@task-agnostic/tf';
import { parseTrainerConfig } from './config.js';
import type { SymbolData } from './data-source.js';
import { judgeComparison, validateStrategies } from './deployment-eval.js';
import { garchVolatilityForecast } from './strategies.js';

const N = 1400;
const TRAIN_END = 900;
const VAL_END = 1200;
const dataset = { dataset: { boundaries: [{ trainEnd: TRAIN_END, valEnd: VAL_END }], purgeGap: 40 } } as never;
const cfg = parseTrainerConfig({ seed: 3, naive: { momentumLookback: 24 } });
let candles: CandleColumns;
let model: TaskAgnosticModel;

/** The same candles with every bar from `from` on rescaled by a random walk (still valid OHLC). */
function alterFrom(c: CandleColumns, from: number): CandleColumns {
  const out = allocColumns(c.length);
  let k = 1;
  for (let i = 0; i < c.length; i++) {
    if (i >= from) k *= i % 3 === 0 ? 1.02 : 0.99;
    out.tsMs[i] = c.tsMs[i]!;
    for (const f of ['open', 'high', 'low', 'close'] as const) out[f][i] = c[f][i]! * (i >= from ? k : 1);
    out.volume[i] = c.volume[i]!;
  }
  return out;
}

beforeAll(async () => {
  await initBackend({ quiet: true });
  candles = generateSyntheticMarket({ bars: N, seed: 11 }).candles;
  const fitOn = sliceColumns(candles, 0, TRAIN_END);
  const m = computeFeatures(fitOn, DEFAULT_FEATURE_SET);
  const taskStates = Object.fromEntries(['direction', 'volatility'].map((id) => [id, getTask(id).fit(fitOn, TRAIN_END)]));
  model = TaskAgnosticModel.create(
    { windowLength: 16, encoder: encoderPreset('tiny', 'mlp'), tasks: ['direction', 'volatility'], seed: 5 },
    { normalizer: Normalizer.fit(m, m.warmup, m.rows), taskStates, components: defaultComponents },
  );
});

const sym = (c: CandleColumns): SymbolData => ({ symbol: 'SYN', interval: '1h', candles: c, source: 'test', dropped: 0, filled: 0 });

describe('the deployment evaluation (validation split)', () => {
  it('compares the model with buy-and-hold, vol-targeted buy-and-hold and momentum on the validation rows only', () => {
    const v = validateStrategies(cfg, model, [sym(candles)], dataset)!;
    const s = v.evaluation.symbols[0]!;
    // the model, the naive strategies, then each head alone (diagnostics, never the "best naive")
    expect(s.strategies.map((x) => x.name)).toEqual(['model', 'buy-and-hold', 'vol-targeted buy-and-hold', 'time-series momentum', 'direction head alone', 'volatility head sizing']);
    expect(['buy-and-hold', 'vol-targeted buy-and-hold', 'time-series momentum']).toContain(s.vsBestNaive.name);
    expect([s.fromMs, s.toMs, s.bars]).toEqual([candles.tsMs[TRAIN_END + 40], candles.tsMs[VAL_END - 1], VAL_END - TRAIN_END - 40]);
    expect(s.passed).toBe(s.vsBuyAndHold.lo > 0 && s.vsBestNaive.lo > 0);
    expect(v.evaluation.passed).toBe(s.passed);
    expect(v.evaluation.fusion).toBe('consistency');
    const bestSharpe = Math.max(...s.strategies.slice(1, 4).map((x) => x.sharpe.estimate));
    expect(s.strategies.find((x) => x.name === s.vsBestNaive.name)!.sharpe.estimate).toBe(bestSharpe);
  });
  it('test rows never influence it: altering every candle after the validation split changes nothing', () => {
    const a = validateStrategies(cfg, model, [sym(candles)], dataset)!.evaluation;
    const b = validateStrategies(cfg, model, [sym(alterFrom(candles, VAL_END))], dataset)!.evaluation;
    expect(b).toEqual(a);
    // while altering validation rows does change it (the test above could fail)
    const c = validateStrategies(cfg, model, [sym(alterFrom(candles, TRAIN_END + 100))], dataset)!.evaluation;
    expect(c).not.toEqual(a);
  });
  it('passes only when both intervals lie above zero', () => {
    const v = validateStrategies(cfg, model, [sym(candles)], dataset)!;
    const comp = v.comparisons[0]!;
    // the model's run replaced by buy-and-hold's: a difference of exactly 0 is not an edge
    const same = { ...comp, runs: comp.runs.map((r) => (r.name === 'model' ? { ...comp.runs[1]!, name: 'model' } : r)) };
    const j = judgeComparison(same, 1);
    expect([j.vsBuyAndHold.estimate, j.vsBuyAndHold.lo, j.passed]).toEqual([0, 0, false]);
    expect(j.reason).toMatch(/^not proven: Sharpe difference with buy-and-hold 0\.00 \[0\.00, 0\.00\] \(no significant difference: interval includes 0\)/);
  });
  it('a validation split too short to evaluate gives no evaluation, with the numbers', () => {
    const lines: string[] = [];
    const short = { dataset: { boundaries: [{ trainEnd: TRAIN_END, valEnd: TRAIN_END + 41 }], purgeGap: 40 } } as never;
    expect(validateStrategies(cfg, model, [sym(candles)], short, (l) => lines.push(l))).toBeNull();
    expect(lines[0]).toMatch(/only 1 validation bars after the purge gap/);
  });
});

describe('garchVolatilityForecast', () => {
  it('reads returns up to t only and fits on the training rows only', () => {
    const c = generateSyntheticMarket({ bars: 800, seed: 2 }).candles;
    const a = garchVolatilityForecast(c.close, 500, 24);
    const b = garchVolatilityForecast(alterFrom(c, 600).close, 500, 24);
    expect(Array.from(b.subarray(0, 600))).toEqual(Array.from(a.subarray(0, 600)));
    expect(b[650]).not.toBe(a[650]);
    for (const x of a) expect(x).toBeGreaterThan(0);
    expect(() => garchVolatilityForecast(c.close, 10, 24)).toThrow(/at least 42 training bars/);
  });
});
