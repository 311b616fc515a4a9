/**
 * Out-of-sample evaluate/backtest of a saved run on other candles: the artifact applied as saved
 * (the run's own test range, scored out of sample, reproduces training's test metrics exactly),
 * a symbol the model never saw, outputs kept apart from the run's reports, and clear errors.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { cpSync, existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatCandlesCsv, generateSyntheticMarket, Rng } from '@task-agnostic/core';
import { getTask } from '@task-agnostic/heads';
import type { TaskAgnosticModel } from '@task-agnostic/model';
import { DEFAULT_FEATURE_SET } from '@task-agnostic/features';
import { initBackend } from '@task-agnostic/tf';
import { runCli } from './commands.js';
import { compareOosRuns } from './oos-against.js';
import type { OosEvaluation, OosTaskResult } from './oos.js';
import { resolveConfig } from './config.js';
import { testStartRow, trainStep, type TrainedRun } from './pipeline.js';

describe('out-of-sample evaluate and backtest', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-oos-'));
  const data = path.join(dir, 'data');
  let run: TrainedRun;
  let runDir: string;
  const lines: string[] = [];
  let restore: () => void = () => {};
  const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16);

  beforeAll(async () => {
    await initBackend({ quiet: true });
    mkdirSync(data);
    for (const [sym, seed] of [['SYNA', 1], ['SYNB', 2]] as const) {
      const m = generateSyntheticMarket({ bars: 2400, seed, symbol: sym, interval: '1h', startMs: Date.UTC(2024, 0, 1) });
      writeFileSync(path.join(data, `${sym}USDT_1h.csv`), formatCandlesCsv(m.candles));
    }
    const cfg = resolveConfig('quick', {
      name: 'oos',
      out: path.join(dir, 'runs'),
      seed: 3,
      data: { source: 'csv', path: data, symbols: ['SYNAUSDT'], stride: 1, split: { valFraction: 0.2, testFraction: 0.25 } },
      model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction'] },
      training: { epochs: 1, batchSize: 64 },
    } as never);
    run = await trainStep(cfg, { log: () => {}, progress: false });
    runDir = run.paths.dir;
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stdout.write;
    restore = () => (process.stdout.write = orig);
  });
  afterAll(() => {
    restore();
    run?.result.model.dispose();
  });

  it("scoring the run's own test range out of sample reproduces training's test metrics", async () => {
    const c = run.data[0]!.candles;
    const from = iso(c.tsMs[testStartRow(run.result, 0)]!);
    expect(await runCli(['evaluate', runDir, '--data', data, '--symbols', 'SYNAUSDT', '--from', from])).toBe(0);
    const folder = path.join(runDir, 'oos', `SYNAUSDT_${from.slice(0, 10)}_${iso(c.tsMs[c.length - 1]!).slice(0, 10)}`);
    const ev = JSON.parse(readFileSync(path.join(folder, 'evaluation.json'), 'utf8'));
    const t = ev.evaluations[0].tasks[0];
    const trained = run.result.test.direction!.bySeries.SYNAUSDT!;
    expect(t.windows).toBe(run.result.dataset.test.n);
    expect(t.model.macroF1).toBeCloseTo(trained.metrics.macroF1 as number, 6);
    expect(t.model.accuracy).toBeCloseTo(trained.metrics.accuracy as number, 6);
    expect(ev.evaluations[0].seenInTraining).toBe(true);
    expect(t.vsBestBaseline.model.lo).toBeLessThanOrEqual(t.vsBestBaseline.model.estimate);
    expect(t.vsBestBaseline.verdictText).toMatch(/^(better \(95% CI excludes 0\)|no significant difference|worse)$/);
    // The run's own reports are not touched.
    expect(existsSync(path.join(runDir, 'evaluation.json'))).toBe(false);
  });

  it('evaluates and backtests a symbol the model never saw', async () => {
    expect(await runCli(['evaluate', runDir, '--data', data, '--symbols', 'SYNBUSDT', '--from', '2024-03-01', '--to', '2024-04-01'])).toBe(0);
    const ev = JSON.parse(readFileSync(path.join(runDir, 'oos', 'SYNBUSDT_2024-03-01_2024-03-31', 'evaluation.json'), 'utf8'));
    expect(ev.evaluations[0].seenInTraining).toBe(false);
    expect(ev.evaluations[0].from).toBe('2024-03-01 00:00');
    expect(ev.evaluations[0].warmupBars).toBe(60 * 24);
    // March has 744 bars; the last h labels would need April's bars, which --to excludes.
    const h = (run.result.model.tasks[0] as { horizon: number }).horizon;
    expect(ev.evaluations[0].tasks[0].windows).toBe(744 - h);
    expect(await runCli(['backtest', runDir, '--data', data, '--symbols', 'SYNBUSDT', '--from', '2024-03-01', '--to', '2024-04-01'])).toBe(0);
    const bt = JSON.parse(readFileSync(path.join(runDir, 'oos', 'SYNBUSDT_2024-03-01_2024-03-31', 'backtest.json'), 'utf8'));
    const s = bt.symbols[0].sharpe;
    expect(bt.symbols[0].report.metrics.bars).toBe(744);
    expect(s.sharpe.bars).toBe(744);
    expect(s.sharpe.trades).toBe(bt.symbols[0].report.metrics.trades);
    expect(s.sharpe.text).toMatch(/Sharpe .*\[95% CI .*\], \d+ trades?, 744 bars/);
    // the naive strategies beside the model out of sample too, over the same 744 bars, and the paired difference
    const names = bt.symbols[0].report.strategies.map((r: { name: string }) => r.name);
    expect(names.slice(0, 4)).toEqual(['model', 'buy-and-hold', 'vol-targeted buy-and-hold', 'time-series momentum']);
    for (const r of bt.symbols[0].report.strategies) expect(r.bars).toBe(744);
    const vs = bt.symbols[0].vsVolTargeted;
    expect(vs.lo).toBeLessThanOrEqual(vs.estimate);
    expect(vs.hi).toBeGreaterThanOrEqual(vs.estimate);
    expect(lines.join('')).toMatch(/model - vol-targeted buy-and-hold: net Sharpe -?\d/);
    expect(existsSync(path.join(runDir, 'backtest.json'))).toBe(false);
    expect(lines.join('')).toContain('a symbol the model never saw');
    // Deflated for the thresholds tried on validation: a symbol outside the fit gets the fit's N and V (one symbol here).
    const fit = JSON.parse(readFileSync(path.join(runDir, 'decision-policy.json'), 'utf8')).report.methods[run.cfg.fusion.method];
    expect(bt.symbols[0].deflated.trials).toBe(fit.trials.SYNAUSDT.count);
    expect(bt.symbols[0].deflated.trialsSharpeVariance).toBe(fit.trials.SYNAUSDT.sharpeVariance);
    expect(bt.symbols[0].deflated.bars).toBe(744);
    expect(lines.join('')).toMatch(/deflated Sharpe, for the \d+ threshold candidates tried on validation/);
  });

  it('over several symbols: the tally and the pooled difference, resampled on their common timeline', async () => {
    expect(await runCli(['evaluate', runDir, '--data', data, '--symbols', 'SYNAUSDT,SYNBUSDT', '--from', '2024-03-01', '--to', '2024-04-01'])).toBe(0);
    const ev = JSON.parse(readFileSync(path.join(runDir, 'oos', 'SYNAUSDT-SYNBUSDT_2024-03-01_2024-03-31', 'evaluation.json'), 'utf8'));
    expect(ev.evaluations).toHaveLength(2);
    const [p] = ev.pooled;
    const per = ev.evaluations.map((e: { tasks: { vsBestBaseline: { diff: { estimate: number }; verdict: string } }[] }) => e.tasks[0]!.vsBestBaseline);
    expect(p.task).toBe('direction');
    expect(p.symbols).toBe(2);
    expect(p.beatsBaseline).toBe(per.filter((v: { diff: { estimate: number } }) => v.diff.estimate > 0).length);
    expect(p.beatsBaselineSignificant).toBe(per.filter((v: { verdict: string }) => v.verdict === 'better').length);
    // macro-F1: higher is better, so the pooled value is the plain mean of the two differences
    expect(p.pooled.value).toBeCloseTo((per[0].diff.estimate + per[1].diff.estimate) / 2, 12);
    expect(p.pooled.lo).toBeLessThan(p.pooled.hi);
    expect(lines.join('')).toMatch(/over the 2 symbols \(pooled[^)]*\):\n.*\n-+ .*\ndirection\s+macroF1\s+\d\/2\s+\d\/2\s+-?\d\.\d+ \[/);
  });

  it('names the problem in bad requests', async () => {
    await expect(runCli(['evaluate', runDir, '--data', data, '--symbols', 'SYNAUSDT', '--from', '2030-01-01'])).rejects.toThrow(
      /--from 2030-01-01 00:00 is after the data ends: SYNAUSDT's candles run from 2024-01-01 00:00 to 2024-04-09 23:00/,
    );
    await expect(runCli(['evaluate', runDir, '--data', data, '--from', '2024-03-01', '--to', '2024-02-01'])).rejects.toThrow(/--to 2024-02-01 00:00 is not after --from 2024-03-01 00:00/);
    await expect(runCli(['evaluate', runDir, '--data', data, '--symbols', 'XYZUSDT'])).rejects.toThrow(/no 1h CSV for XYZUSDT .*files found: SYNAUSDT_1h.csv, SYNBUSDT_1h.csv/);
    await expect(runCli(['backtest', runDir, '--data', data, '--symbols', 'SYNBUSDT', '--from', '2024-01-02'])).rejects.toThrow(
      /SYNBUSDT: --from 2024-01-02 00:00 leaves 24 bars before it, but the model needs \d+ for warm-up \(feature warm-up \d+ \+ window 16 - 1\)/,
    );
    await expect(runCli(['evaluate', runDir, '--from', 'someday'])).rejects.toThrow(/--from 'someday' is not a date/);
  });

  describe('--against: the run against another run on the same windows and labels', () => {
    let otherDir: string;
    const evaluation = (run: string, label: string) => JSON.parse(readFileSync(path.join(run, 'oos', label, 'evaluation.json'), 'utf8'));
    beforeAll(async () => {
      // another seed and the default feature set: a warm-up of about 30 bars where the quick preset's is 200
      const other = await trainStep({ ...run.cfg, name: 'oos-default-features', seed: 9, model: { ...run.cfg.model, features: DEFAULT_FEATURE_SET } }, { log: () => {}, progress: false });
      other.result.model.dispose();
      otherDir = other.paths.dir;
    }, 300_000);

    it('a run against a copy of itself: differences exactly 0 with intervals [0, 0], per symbol and pooled', async () => {
      const copy = path.join(dir, 'copy-of-oos');
      cpSync(runDir, copy, { recursive: true });
      expect(await runCli(['evaluate', runDir, '--data', data, '--symbols', 'SYNAUSDT,SYNBUSDT', '--from', '2024-03-01', '--to', '2024-04-01', '--against', copy])).toBe(0);
      const ev = evaluation(runDir, 'SYNAUSDT-SYNBUSDT_2024-03-01_2024-03-31');
      expect(ev.against.run).toBe(copy);
      for (const [k, s] of ev.against.symbols.entries()) {
        const t = s.tasks[0];
        expect(t.n).toBe(ev.evaluations[k].tasks[0].windows);
        expect(t.comparison.diff).toEqual({ estimate: 0, lo: 0, hi: 0 });
        expect(t.comparison.model).toEqual(t.comparison.other);
      }
      expect(ev.against.pooled[0]).toMatchObject({ task: 'direction', symbols: 2, better: 0, pooled: { value: 0, lo: 0, hi: 0, verdict: 'no significant difference' } });
      expect(lines.join('')).toMatch(/the run against .*copy-of-oos over the 2 symbols/);
    });

    it("against a run with other features, same rows: each run's metric is its own out-of-sample figure, the difference theirs", async () => {
      const args = ['--data', data, '--symbols', 'SYNBUSDT', '--from', '2024-03-01', '--to', '2024-04-01'];
      expect(await runCli(['evaluate', otherDir, ...args])).toBe(0);
      expect(await runCli(['evaluate', runDir, ...args, '--against', otherDir])).toBe(0);
      const mine = evaluation(runDir, 'SYNBUSDT_2024-03-01_2024-03-31');
      const theirs = evaluation(otherDir, 'SYNBUSDT_2024-03-01_2024-03-31');
      const t = mine.against.symbols[0].tasks[0];
      const [a, b] = [mine.evaluations[0].tasks[0], theirs.evaluations[0].tasks[0]];
      expect(t.n).toBe(a.windows);
      expect(t.n).toBe(b.windows);
      expect(t.comparison.model.estimate).toBeCloseTo(a.model.macroF1, 10);
      expect(t.comparison.other.estimate).toBeCloseTo(b.model.macroF1, 10);
      expect(t.comparison.diff.estimate).toBeCloseTo(a.model.macroF1 - b.model.macroF1, 10);
      expect(t.comparison.diff.lo).toBeLessThan(t.comparison.diff.hi);
      expect(lines.join('')).toMatch(/out-of-sample SYNBUSDT: the run against .*oos-default-features on the windows both scored \(n\), the run's labels:\n.*\n-+ .*\ndirection\s+macroF1\s+\d+ \(of \d+ \/ \d+\)\s+\d\.\d{4} \[/);
    });

    it('without --from each run starts after its own warm-up: only the windows both scored are compared', async () => {
      const args = ['--data', data, '--symbols', 'SYNBUSDT', '--to', '2024-04-01'];
      expect(await runCli(['evaluate', otherDir, ...args])).toBe(0);
      expect(await runCli(['evaluate', runDir, ...args, '--against', otherDir])).toBe(0);
      const label = (r: string) => readdirSync(path.join(r, 'oos')).find((f) => f.startsWith('SYNBUSDT_2024-01-'))!;
      const mine = evaluation(runDir, label(runDir));
      const theirs = evaluation(otherDir, label(otherDir));
      const t = mine.against.symbols[0].tasks[0];
      // the quick preset's 200-bar warm-up starts the run later: the common windows are its own
      expect(mine.evaluations[0].warmupBars).toBeGreaterThan(theirs.evaluations[0].warmupBars);
      expect(t.runWindows).toBe(mine.evaluations[0].tasks[0].windows);
      expect(t.otherWindows).toBe(theirs.evaluations[0].tasks[0].windows);
      expect(t.otherWindows - t.runWindows).toBe(mine.evaluations[0].warmupBars - theirs.evaluations[0].warmupBars);
      expect(t.n).toBe(t.runWindows);
      expect(t.comparison.model.estimate).toBeCloseTo(mine.evaluations[0].tasks[0].model.macroF1, 10);
    });

    it('names the problem: the run itself, a missing run, --single-task, no out-of-sample range', async () => {
      const oos = ['--data', data, '--symbols', 'SYNBUSDT', '--from', '2024-03-01'];
      await expect(runCli(['evaluate', runDir, ...oos, '--against', runDir])).rejects.toThrow(/--against .* is the run itself: name another run folder/);
      await expect(runCli(['evaluate', runDir, ...oos, '--against', path.join(dir, 'nope')])).rejects.toThrow(/--against .*nope: .*nope is not a trainer run folder/);
      await expect(runCli(['evaluate', runDir, ...oos, '--single-task', '--against', otherDir])).rejects.toThrow(/--against compares two saved runs out of sample; it cannot be combined with --single-task/);
      await expect(runCli(['evaluate', runDir, '--against', otherDir])).rejects.toThrow(/--against compares two runs out of sample: give --data, --symbols, --from or --to/);
    });
  });
});

describe('out of sample with a model trained per symbol on two exchanges of one symbol', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-oos-ps-'));
  const data = path.join(dir, 'data');
  let run: TrainedRun;
  let restore: () => void = () => {};
  const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16);

  beforeAll(async () => {
    await initBackend({ quiet: true });
    mkdirSync(data);
    // the longer file keeps the plain name (SYNCUSDT), the other is the series binance:SYNCUSDT
    const files = [['bybit', 2400, 5], ['binance', 2000, 6]] as const;
    for (const [exchange, bars, seed] of files) {
      const m = generateSyntheticMarket({ bars, seed, symbol: 'SYNCUSDT', interval: '1h', startMs: Date.UTC(2024, 0, 1) });
      writeFileSync(path.join(data, `${exchange}_SYNCUSDT_1h.csv`), formatCandlesCsv(m.candles));
    }
    const cfg = resolveConfig(undefined, {
      name: 'oos-ps',
      out: path.join(dir, 'runs'),
      seed: 4,
      data: { source: 'csv', path: data, symbols: 'all', normalisation: 'perSymbol', taskFit: 'perSymbol', stride: 1, split: { valFraction: 0.2, testFraction: 0.25 } },
      model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction', 'volatility'] },
      training: { epochs: 1, batchSize: 64 },
      evaluate: { singleTask: false, transfer: false },
      policy: { thresholds: 'seed' },
    });
    run = await trainStep(cfg, { log: () => {}, progress: false });
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    restore = () => (process.stdout.write = orig);
  }, 300_000);
  afterAll(() => {
    restore();
    run?.result.model.dispose();
  });

  it("each exchange's file is scored as the series training knew, with that series' own normaliser and label fits", async () => {
    expect(run.data.map((d) => d.symbol)).toEqual(['SYNCUSDT', 'binance:SYNCUSDT']);
    for (const [k, exchange] of [[0, 'bybit'], [1, 'binance']] as const) {
      const series = run.data[k]!;
      const c = series.candles;
      const from = iso(c.tsMs[testStartRow(run.result, k)]!);
      expect(await runCli(['evaluate', run.paths.dir, '--data', data, '--exchange', exchange, '--symbols', 'SYNCUSDT', '--from', from])).toBe(0);
      const folder = path.join(run.paths.dir, 'oos', `${series.symbol.replace(':', '')}_${from.slice(0, 10)}_${iso(c.tsMs[c.length - 1]!).slice(0, 10)}`);
      const ev = JSON.parse(readFileSync(path.join(folder, 'evaluation.json'), 'utf8'));
      expect(ev.evaluations[0].symbol).toBe(series.symbol);
      expect(ev.evaluations[0].seenInTraining).toBe(true);
      for (const id of ['direction', 'volatility'] as const) {
        const t = ev.evaluations[0].tasks.find((x: { task: string }) => x.task === id);
        const trained = run.result.test[id]!.bySeries[series.symbol]! as unknown as { metrics: Record<string, number>; rows: number[] };
        expect(t.windows).toBe(trained.rows.length);
        // the same inputs and labels as training's test split: the pooled normaliser or the other series' fits would move these
        if (id === 'volatility') expect(t.model.mse).toBeCloseTo(trained.metrics.mse!, 6);
        else expect(t.model.macroF1).toBeCloseTo(trained.metrics.macroF1!, 6);
      }
    }
  });
});

describe('compareOosRuns', () => {
  const task = getTask('direction');
  const model = { tasks: [task] } as unknown as TaskAgnosticModel;
  const hour = 3_600_000;
  // an evaluation of `n` windows from hour `first`, with given outputs (3 logits a row) and labels
  const ev = (first: number, outputs: number[], labels: number[]) => {
    const t = { task: 'direction', metric: 'macroF1', higherIsBetter: true, windows: labels.length } as unknown as OosTaskResult;
    Object.defineProperty(t, 'scored', { value: { outputs: Float32Array.from(outputs), targets: Float32Array.from(labels), ts: Float64Array.from(labels, (_, i) => (first + i) * hour) } });
    return { symbol: 'SYNX', from: '', to: '', warmupBars: 0, seenInTraining: false, tasks: [t] } as OosEvaluation;
  };
  const logits = (classes: number[]) => classes.flatMap((c) => [0, 1, 2].map((k) => (k === c ? 2 : 0)));
  const rng = new Rng(5);
  const y = Array.from({ length: 60 }, () => Math.floor(rng.next() * 3));
  const pa = Array.from({ length: 60 }, () => Math.floor(rng.next() * 3));
  const pb = Array.from({ length: 60 }, () => Math.floor(rng.next() * 3));

  it('compares on the windows both scored: the metric of each on those windows, computed directly', () => {
    // the run scores hours 0..49, the other hours 10..59: 40 common windows, hours 10..49
    const r = compareOosRuns(model, [ev(0, logits(pa.slice(0, 50)), y.slice(0, 50))], [ev(10, logits(pb.slice(10)), y.slice(10))], 'runs/b', 1, 200);
    const t = r.symbols[0]!.tasks[0]!;
    expect([t.n, t.runWindows, t.otherWindows]).toEqual([40, 50, 50]);
    const f1 = (p: number[]) => task.metrics(Float32Array.from(logits(p.slice(10, 50))), Float32Array.from(y.slice(10, 50)), 40).macroF1!;
    expect(t.comparison.model.estimate).toBeCloseTo(f1(pa), 12);
    expect(t.comparison.other.estimate).toBeCloseTo(f1(pb), 12);
    expect(t.comparison.diff.estimate).toBeCloseTo(f1(pa) - f1(pb), 12);
    expect(r.pooled[0]!.pooled!.value).toBeCloseTo(f1(pa) - f1(pb), 12);
  });

  it('the two runs must label the common windows alike, and share at least one', () => {
    const relabelled = y.map((c, i) => (i === 20 || i === 30 ? (c + 1) % 3 : c));
    expect(() => compareOosRuns(model, [ev(0, logits(pa), y)], [ev(0, logits(pb), relabelled)], 'runs/b')).toThrow(
      /--against: SYNX direction: the two runs' saved label fits give different labels on 2 of 60 common windows/,
    );
    expect(() => compareOosRuns(model, [ev(0, logits(pa.slice(0, 5)), y.slice(0, 5))], [ev(100, logits(pb.slice(0, 5)), y.slice(0, 5))], 'runs/b')).toThrow(/--against: SYNX direction: the two runs share no scored row/);
  });
});
