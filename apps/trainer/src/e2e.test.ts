/**
 * The trainer end to end on a small real slice (two symbols): fetch from the local Bybit simulator
 * (fed with the real CSVs) -> train -> evaluate -> backtest -> report. Checks that the artifact, the
 * metrics JSON and the report exist and are well-formed, that what was fetched equals the source
 * rows, and that the same seed and config give the same metrics.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readCandlesCsvSync, lowerBound, formatCandlesCsv, sliceColumns } from '@task-agnostic/core';
import { BybitSimulator, feedFromCsv } from '@task-agnostic/bybit/testing';
import { initBackend } from '@task-agnostic/tf';
import { candleFile } from '@task-agnostic/test-utils';
import { runCli } from './commands.js';

const btc = candleFile('bybit_BTCUSDT_1h.csv');
const eth = candleFile('bybit_ETHUSDT_1h.csv');
const FROM = Date.UTC(2024, 0, 1);
const TO = Date.UTC(2024, 3, 1);

describe.skipIf(!btc || !eth)('trainer end to end on real candles', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-trainer-e2e-'));
  let sim: BybitSimulator;
  const printed: string[] = [];
  const quiet = { write: (x: string) => printed.push(String(x)) > 0 };
  let restore: () => void;

  beforeAll(async () => {
    await initBackend({ quiet: true });
    sim = await new BybitSimulator([await feedFromCsv(btc!), await feedFromCsv(eth!)]).start();
    // The CLI prints to stdout; keep the test log readable.
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = quiet.write as typeof process.stdout.write;
    restore = () => (process.stdout.write = orig);
  });
  afterAll(async () => {
    restore?.();
    await sim?.close();
  });

  it('fetch -> train -> evaluate -> backtest -> report', async () => {
    const data = path.join(dir, 'data');
    const code = await runCli(['fetch', '--symbols', 'BTCUSDT,ETHUSDT', '--interval', '1h', '--since', '2024-01-01', '--until', '2024-04-01', '--out', data, '--base-url', sim.restUrl, '--no-progress']);
    expect(code).toBe(0);
    for (const [sym, src] of [['BTCUSDT', btc!], ['ETHUSDT', eth!]] as const) {
      const source = readCandlesCsvSync(src).candles;
      const want = sliceColumns(source, lowerBound(source, FROM), lowerBound(source, TO));
      const got = readFileSync(path.join(data, `bybit_${sym}_1h.csv`), 'utf8');
      expect(got).toBe(formatCandlesCsv(want));
    }

    const config = path.join(dir, 'e2e.json');
    writeFileSync(
      config,
      JSON.stringify({
        extends: 'quick',
        name: 'e2e',
        out: path.join(dir, 'runs'),
        seed: 5,
        data: { source: 'csv', path: data, symbols: ['BTCUSDT', 'ETHUSDT'], exchange: 'bybit', stride: 3, split: { valFraction: 0.2, testFraction: 0.2 } },
        model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction', 'volatility', 'regime'] },
        training: { epochs: 2, batchSize: 64 },
        evaluate: { singleTask: true, transfer: true, transferTask: 'anomaly', transferEpochs: 1 },
      }),
    );
    const before = printed.length;
    expect(await runCli(['train', '--config', config, '--no-progress'])).toBe(0);
    const trainLog = printed.slice(before).join('');
    const run = path.join(dir, 'runs', 'e2e');
    const modelJson = JSON.parse(readFileSync(path.join(run, 'model', 'model.json'), 'utf8'));
    expect(modelJson.tasks.map((t: { id: string }) => t.id)).toEqual(['direction', 'volatility', 'regime']);
    expect(modelJson.training.symbols).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(existsSync(path.join(run, 'model', 'weights.bin'))).toBe(true);
    // The deployment gate's evaluation: the strategy against the naive ones on validation, in the artifact.
    expect(modelJson.evaluation).toMatchObject({ version: 1, split: 'validation', fusion: 'consistency', level: 0.9 });
    expect(modelJson.evaluation.symbols.map((s: { symbol: string }) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    for (const s of modelJson.evaluation.symbols) {
      expect(s.strategies.map((x: { name: string }) => x.name)).toEqual(['model', 'buy-and-hold', 'vol-targeted buy-and-hold', 'time-series momentum', 'tilt policy', 'direction head alone', 'volatility head sizing']);
      expect(s.passed).toBe(s.vsBuyAndHold.lo > 0 && s.vsBestNaive.lo > 0);
    }
    const training = JSON.parse(readFileSync(path.join(run, 'training.json'), 'utf8'));
    expect(training.history.length).toBeGreaterThanOrEqual(1);
    expect(training.test.volatility.bySeries.BTCUSDT.baselines.length).toBeGreaterThan(0);
    expect(readFileSync(path.join(run, 'training.jsonl'), 'utf8').trim().split('\n').length).toBe(training.history.length);
    // the split diagnostics: every classification task's label mix on every split, pooled and per series
    type Mix = { n: number; counts: number[]; fractions: number[] };
    type Splits = { train: Mix; val: Mix; test: Mix; valVsTrainTv: number | null };
    const mixes = training.classMix as { task: string; classes: string[]; pooled: Splits; bySeries: Record<string, Splits> }[];
    expect(mixes.map((m) => m.task)).toEqual(['direction', 'regime']);
    expect(training.classMixWarnTv).toBe(0.1);
    for (const m of mixes) {
      for (const k of ['train', 'val', 'test'] as const) {
        expect(m.pooled[k].n).toBe(training.dataset.samples[k]);
        expect(m.pooled[k].counts.length).toBe(m.classes.length);
        const bySeries = Object.values(m.bySeries).map((s) => s[k].counts);
        expect(m.pooled[k].counts).toEqual(m.classes.map((_, c) => bySeries.reduce((a, x) => a + x[c]!, 0)));
      }
      expect(Object.keys(m.bySeries)).toEqual(['BTCUSDT', 'ETHUSDT']);
      expect(m.pooled.valVsTrainTv).toBeCloseTo(m.pooled.val.fractions.reduce((a, v, c) => a + Math.abs(v - m.pooled.train.fractions[c]!), 0) / 2, 12);
      // logged at train time, with a warning exactly when validation's mix is far from training's (pooled or on average per series)
      expect(trainLog).toContain(`class mix ${m.task} (${m.classes.join(' / ')}): train (${m.pooled.train.n})`);
      const series = Object.values(m.bySeries).map((s) => s.valVsTrainTv!);
      const far = m.pooled.valVsTrainTv! > 0.1 || series.reduce((a, b) => a + b, 0) / series.length > 0.25;
      expect(trainLog.includes(`warning: task ${m.task}: validation's class mix is far from training's`)).toBe(far);
    }
    // validation rows only: every evaluated bar opens before the test split starts
    for (const [i, s] of modelJson.evaluation.symbols.entries()) expect(s.toMs).toBeLessThan(Date.parse(training.dataset.boundaries[i].testStart));

    expect(await runCli(['evaluate', run])).toBe(0);
    const ev = JSON.parse(readFileSync(path.join(run, 'evaluation.json'), 'utf8'));
    expect(ev.tasks.map((t: { task: string }) => t.task)).toEqual(['direction', 'volatility', 'regime']);
    for (const t of ev.tasks) {
      expect(Number.isFinite(t.multiTask[t.metric])).toBe(true);
      expect(Number.isFinite(t.singleTask[t.metric])).toBe(true);
      expect(Object.keys(t.bySymbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
      type Iv = { estimate: number; lo: number; hi: number };
      for (const b of Object.values(t.bySymbol) as { vsBaseline: string; model: Record<string, number>; bestBaseline: { value: number }; vsBaselineInterval: { model: Iv; other: Iv; diff: Iv; n: number } }[]) {
        expect(['better (95% CI excludes 0)', 'no significant difference', 'worse']).toContain(b.vsBaseline);
        // The verdict follows from the interval it reports, on the figures it reports.
        const iv = b.vsBaselineInterval;
        expect(iv.model.estimate).toBeCloseTo(b.model[t.metric]!, 6);
        expect(iv.other.estimate).toBeCloseTo(b.bestBaseline.value, 6);
        expect(iv.diff.lo).toBeLessThanOrEqual(iv.diff.hi);
        const up = t.higherIsBetter ? 1 : -1;
        const excludes = iv.diff.lo > 0 || iv.diff.hi < 0;
        if (!excludes) expect(b.vsBaseline).toBe('no significant difference');
        else expect(b.vsBaseline).toBe(up * iv.diff.estimate > 0 ? 'better (95% CI excludes 0)' : 'worse');
      }
      expect(t.beatsBaselineOn).toBe(Object.values(t.bySymbol).filter((b) => (b as { vsBaseline: string }).vsBaseline.startsWith('better')).length);
      expect(t.vsSingleTaskInterval.n).toBeGreaterThan(30);
    }
    // The standalone evaluation reproduces the test metrics training wrote.
    expect(ev.tasks[1].multiTask.mse).toBeCloseTo(training.test.volatility.metrics.mse, 6);
    expect(ev.transfer.task).toBe('anomaly');
    // the frozen head vs from scratch, paired on the same test windows: the frozen side is the figure reported beside it
    const vs = ev.transfer.vsScratch;
    expect(vs.n).toBe(ev.transfer.frozenEncoder.n);
    expect(vs.model.estimate).toBeCloseTo(ev.transfer.frozenEncoder[ev.transfer.metric], 6);
    expect(vs.diff.estimate).toBeCloseTo(vs.model.estimate - vs.other.estimate, 6);
    expect(vs.diff.lo).toBeLessThanOrEqual(vs.diff.hi);
    expect(ev.consistency.decisions).toBe(ev.testSamples);
    expect(ev.representation.labels).toBe('regime');

    expect(await runCli(['backtest', run, '--fusion', 'weighted'])).toBe(0);
    const bt = JSON.parse(readFileSync(path.join(run, 'backtest.json'), 'utf8'));
    expect(bt.symbols.map((s: { symbol: string }) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(bt.symbols[0].report.metrics.bars).toBeGreaterThan(100);
    expect(bt.symbols[0].sharpe.sharpe.trades).toBe(bt.symbols[0].report.metrics.trades);
    for (const sym of bt.symbols) {
      const s = sym.sharpe;
      // Buy & hold always moves: its Sharpe matches the backtest's and has an interval.
      expect(s.benchmarkSharpe.sharpe).toBeCloseTo(sym.report.benchmarkMetrics.sharpe, 9);
      expect(s.benchmarkSharpe.lo).toBeLessThan(s.benchmarkSharpe.hi);
      if (sym.report.metrics.trades >= 10) {
        expect(s.sharpe.sharpe).toBeCloseTo(sym.report.metrics.sharpe, 9);
        expect(s.sharpe.lo).toBeLessThan(s.sharpe.hi);
      } else {
        expect(s.vsBenchmark.verdictText).toMatch(/^too few to judge/);
      }
    }
    // The fitted thresholds were the best of the weighted fusion's candidates on validation: the test
    // Sharpe is deflated for that many trials (N and V from decision-policy.json).
    const fit = JSON.parse(readFileSync(path.join(run, 'decision-policy.json'), 'utf8')).report.methods.weighted;
    for (const sym of bt.symbols) {
      const t = fit.trials[sym.symbol];
      expect(t.count).toBe(fit.evaluated);
      expect(sym.deflated.trials).toBe(t.count);
      expect(sym.deflated.trialsSharpeVariance).toBe(t.sharpeVariance);
      expect(sym.deflated.bars).toBe(sym.report.metrics.bars);
      expect(sym.deflated.dsr).toBeLessThanOrEqual(sym.deflated.psr);
    }
    const names = ['model', 'buy-and-hold', 'vol-targeted buy-and-hold', 'time-series momentum', 'tilt policy', 'direction head alone', 'volatility head sizing'];
    expect(bt.symbols[0].report.strategies.map((x: { name: string }) => x.name)).toEqual(names);
    for (const x of bt.symbols[0].report.strategies) {
      expect(x.sharpeInterval.lo).toBeLessThanOrEqual(x.sharpe);
      expect(x.sharpeInterval.hi).toBeGreaterThanOrEqual(x.sharpe);
    }
    // The model row is the model's own backtest.
    expect(bt.symbols[0].report.strategies[0].totalReturn).toBe(bt.symbols[0].report.metrics.totalReturn);
    expect(bt.validation.fusion).toBe('weighted');
    expect(JSON.parse(readFileSync(path.join(run, 'model', 'model.json'), 'utf8')).evaluation.fusion).toBe('weighted');
    expect(readFileSync(path.join(run, 'backtest.html'), 'utf8')).toContain('Against the naive strategies');
    expect(readFileSync(path.join(run, 'backtest.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/);
    expect(existsSync(path.join(run, 'backtest-ETHUSDT.html'))).toBe(true);

    expect(await runCli(['report', run])).toBe(0);
    const html = readFileSync(path.join(run, 'report.html'), 'utf8');
    for (const s of ['Validation loss per task', 'Evaluation on the test range', '95% CI', 'Sharpe: strategy - buy &amp; hold', 'Confusion matrices', 'Task transfer: anomaly', 'Backtest on the test range', 'BTCUSDT', 'ETHUSDT', 'Calibration (fitted on validation, scored on test)', 'reliability diagram of direction', 'Decision policy (fitted on validation)']) expect(html).toContain(s);
    for (const s of ['Validation loss per task', 'Evaluation on the test range', 'Confusion matrices', 'Task transfer: anomaly', 'Backtest on the test range', 'BTCUSDT', 'ETHUSDT', 'Calibration (fitted on validation, scored on test)', 'reliability diagram of direction', 'Decision policy (fitted on validation)', 'Split class mix', 'regime per series', 'time-series momentum', 'vol-targeted buy-and-hold', 'threshold candidates tried on validation']) expect(html).toContain(s);
    expect(html).not.toMatch(/<script|https?:\/\//);

    // Reproducible: the same seed and config give the same metrics.
    writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), name: 'e2e-again' }));
    expect(await runCli(['train', '--config', config, '--no-progress'])).toBe(0);
    const again = JSON.parse(readFileSync(path.join(dir, 'runs', 'e2e-again', 'training.json'), 'utf8'));
    expect(again.test).toEqual(training.test);
    expect(again.history.map((h: { valLoss: unknown }) => h.valLoss)).toEqual(training.history.map((h: { valLoss: unknown }) => h.valLoss));
  }, 300_000);

  it('names bad arguments and missing runs', async () => {
    await expect(runCli(['train', '--config', path.join(dir, 'nope.json')])).rejects.toThrow(/neither a preset .* nor a readable file/);
    await expect(runCli(['evaluate', path.join(dir, 'no-run')])).rejects.toThrow(/does not exist/);
    await expect(runCli(['fetch', '--interval', '1h'])).rejects.toThrow(/--symbols is required/);
    await expect(runCli(['train', '--bogus'])).rejects.toThrow(/bogus/);
    await expect(runCli(['train', '--workers', '0'])).rejects.toThrow(/--workers must be 1 or more/);
    await expect(runCli(['train', '--workers', 'two'])).rejects.toThrow(/--workers must be a non-negative integer/);
    await expect(runCli(['backtest', dir, '--fusion', 'magic'])).rejects.toThrow(/--fusion must be consistency or weighted/);
  });
});
