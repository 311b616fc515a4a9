import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expectedMaxSharpe, formatCandlesCsv, generateSyntheticMarket, lowerBound } from '@task-agnostic/core';
import { initBackend } from '@task-agnostic/tf';
import { resolveConfig } from './config.js';
import { foldSpans, parsePeriod, runWalkForward } from './walk-forward.js';
import { NAIVE_STRATEGIES, runFold, type FoldRecord } from './walk-forward-fold.js';
import { loadConfigData } from './pipeline.js';
import { runCli } from './commands.js';

const D = Date.UTC;

describe('walk-forward schedule', () => {
  it('parses periods and names bad ones', () => {
    expect(parsePeriod('3mo')).toEqual({ months: 3, ms: 0, text: '3mo' });
    expect(parsePeriod('1y').months).toBe(12);
    expect(parsePeriod('2w').ms).toBe(14 * 86_400_000);
    expect(() => parsePeriod('3 months')).toThrow(/--test-length '3 months' is not a period/);
    expect(() => parsePeriod('0d')).toThrow(/not a period/);
  });
  it('ends the last test period at the data end; expanding keeps the start, rolling keeps the length', () => {
    const e = foldSpans(D(2022, 0, 1), D(2026, 0, 1), 4, parsePeriod('3mo'), 'expanding');
    expect(e.map((f) => [f.testStartMs, f.testEndMs])).toEqual([
      [D(2025, 0, 1), D(2025, 3, 1)],
      [D(2025, 3, 1), D(2025, 6, 1)],
      [D(2025, 6, 1), D(2025, 9, 1)],
      [D(2025, 9, 1), D(2026, 0, 1)],
    ]);
    expect(e.every((f) => f.trainStartMs === D(2022, 0, 1))).toBe(true);
    const r = foldSpans(D(2022, 0, 1), D(2026, 0, 1), 4, parsePeriod('3mo'), 'rolling');
    expect(r[3]!.trainStartMs).toBe(D(2022, 0, 1) + (D(2025, 9, 1) - D(2025, 0, 1)));
    for (const f of r) expect(f.testStartMs - f.trainStartMs).toBe(D(2025, 0, 1) - D(2022, 0, 1));
    expect(() => foldSpans(D(2025, 0, 1), D(2026, 0, 1), 4, parsePeriod('3mo'), 'expanding')).toThrow(/need data from before 2025-01-01 00:00 for training, but the data starts at 2025-01-01 00:00/);
    expect(() => foldSpans(0, 1e12, 0, parsePeriod('3mo'), 'expanding')).toThrow(/--folds must be a positive integer/);
  });
});

describe('walk-forward run', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-wf-'));
  const data = path.join(dir, 'data');
  beforeAll(async () => {
    await initBackend({ quiet: true });
    mkdirSync(data);
    const m = generateSyntheticMarket({ bars: 24 * 120, seed: 4, symbol: 'SYNAUSDT', interval: '1h', startMs: D(2024, 0, 1) });
    writeFileSync(path.join(data, 'SYNAUSDT_1h.csv'), formatCandlesCsv(m.candles));
  });
  const config = () =>
    resolveConfig('quick', {
      name: 'wf',
      out: path.join(dir, 'runs'),
      seed: 2,
      data: { source: 'csv', path: data, symbols: ['SYNAUSDT'], stride: 3 },
      model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction'] },
      training: { epochs: 1, batchSize: 64 },
      // the first fold's validation split is ~12 days: fit the thresholds there (the default asks for 14)
      policy: { minValidationDays: 5, minRoundTripsPerDay: 0.1 },
    } as never);

  it('trains per fold, compares with the naive strategies per fold and stitched, and resumes after a kill from the last finished fold', async () => {
    const cfg = config();
    const opts = { folds: 3, testLength: parsePeriod('2w'), retrain: 'expanding' as const, progress: false };
    const log1: string[] = [];
    const full = await runWalkForward(cfg, { ...opts, log: (l) => log1.push(l) });
    expect(log1.filter((l) => /^fold \d\/3 done/.test(l))).toHaveLength(3);
    const bt = full.backtests[0]!;
    expect(bt.bars).toBe(3 * 14 * 24); // the three test periods, back to back
    expect(full.tasks[0]!.comparison!.n).toBeGreaterThan(900);
    expect(full.perFold.map((f) => f.index)).toEqual([0, 1, 2]);
    expect(full.perFold.every((f) => f.thresholds.startsWith('fitted'))).toBe(true);

    // The model and the three naive strategies, per fold and stitched, each paired with the model on the same bars.
    expect(bt.strategies.map((s) => s.name)).toEqual(['model', ...NAIVE_STRATEGIES]);
    expect(bt.vsNaive.map((v) => v.name)).toEqual([...NAIVE_STRATEGIES]);
    expect(bt.perFold).toHaveLength(3);
    for (const f of bt.perFold) {
      expect(f.bars).toBe(14 * 24);
      expect(f.vsNaive.every((v) => v.diff.bars === 14 * 24)).toBe(true);
      for (const s of f.strategies) expect(s.sharpe.bars).toBe(14 * 24);
    }
    // Stitching chains the folds: the stitched return of every strategy is the product of its fold returns,
    // its trades the sum, and the Sharpe differences are paired on all 1008 bars.
    for (const s of bt.strategies) {
      const folds = bt.perFold.map((f) => f.strategies.find((x) => x.name === s.name)!);
      expect(1 + s.totalReturn).toBeCloseTo(folds.reduce((a, x) => a * (1 + x.totalReturn), 1), 10);
      expect(s.trades).toBe(folds.reduce((a, x) => a + x.trades, 0));
    }
    expect(bt.vsNaive.every((v) => v.diff.bars === 3 * 14 * 24)).toBe(true);
    expect(bt.benchmarkReturn).toBe(bt.strategies[1]!.totalReturn);
    expect(bt.vsBenchmark).toEqual(bt.vsNaive[0]!.diff);
    // The fitted thresholds were picked among many candidates: the stitched Sharpe is deflated against
    // the bar-weighted mean of the folds' SR0, each from the N and V its own fit recorded.
    const wfDir = path.join(dir, 'runs', 'wf', 'walk-forward');
    const recs = readFileSync(path.join(wfDir, 'folds.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FoldRecord);
    expect(recs.every((r) => r.backtests[0]!.trials.count > 1)).toBe(true);
    const sr0 = recs.reduce((a, r) => a + expectedMaxSharpe(r.backtests[0]!.trials.count, r.backtests[0]!.trials.sharpeVariance) * r.backtests[0]!.bars, 0) / (3 * 14 * 24);
    expect(bt.deflated.sr0).toBeCloseTo(sr0, 12);
    expect(bt.deflated.trials).toBeGreaterThan(1);
    expect(bt.equity.series.map((x) => x.name)).toEqual(bt.strategies.map((s) => s.name));
    expect(bt.equity.series[0]!.values.at(-1)).toBeCloseTo(1 + bt.totalReturn, 10);
    expect(log1.some((l) => /model - this Sharpe \[95% CI\]/.test(l))).toBe(true);
    expect(log1.some((l) => /stitched deflated Sharpe: DSR/.test(l))).toBe(true);
    const wf = wfDir;
    const html = readFileSync(path.join(wf, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('time-series momentum');
    expect(html).toContain('Deflated Sharpe');
    expect(JSON.parse(readFileSync(path.join(wf, 'summary.json'), 'utf8')).backtests[0].vsNaive).toHaveLength(3);

    // Simulate a kill during fold 3: keep fold 1, and a torn half line of fold 2.
    const file = path.join(wf, 'folds.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    writeFileSync(file, lines[0] + '\n' + lines[1]!.slice(0, 100));
    const log2: string[] = [];
    const resumed = await runWalkForward(cfg, { ...opts, log: (l) => log2.push(l) });
    expect(log2.some((l) => l.includes('resuming after fold 1/3'))).toBe(true);
    expect(log2.filter((l) => /^fold \d\/3 done/.test(l))).toEqual([expect.stringMatching(/^fold 2\/3/), expect.stringMatching(/^fold 3\/3/)]);
    // Deterministic: the resumed run ends where the uninterrupted one did.
    const untimed = (x: typeof full) => ({ ...x, trainSecondsTotal: 0, wallSecondsTotal: 0, cpuSecondsTotal: 0, perFold: [] });
    expect(untimed(resumed)).toEqual(untimed(full));

    // A different schedule does not reuse these folds.
    await expect(runWalkForward(cfg, { ...opts, retrain: 'rolling', log: () => {} })).rejects.toThrow(/different walk-forward/);
  });

  it('names bad dates, symbols and flags before anything trains', async () => {
    const base = ['walk-forward', '--folds', '2', '--data', data, '--out', path.join(dir, 'runs'), '--name', 'wf-bad'];
    const wf = [...base, '--test-length', '2w', '--symbols', 'SYNAUSDT'];
    await expect(runCli([...wf, '--from', '2024-03-01', '--to', '2024-02-01'])).rejects.toThrow(/--to 2024-02-01 is not after --from 2024-03-01/);
    await expect(runCli([...wf, '--from', '2031-01-01'])).rejects.toThrow(/--from 2031-01-01 00:00 is after the data ends: SYNAUSDT's candles run from 2024-01-01 00:00 to 2024-04-29 23:00/);
    await expect(runCli([...wf, '--to', '2001-01-01'])).rejects.toThrow(/--to 2001-01-01 00:00 is before the data starts: SYNAUSDT's candles run from 2024-01-01 00:00/);
    await expect(runCli([...base, '--test-length', '2w', '--symbols', 'XYZUSDT'])).rejects.toThrow(/no 1h CSV for XYZUSDT .*files found: SYNAUSDT_1h.csv/);
    await expect(runCli([...base, '--test-length', '1mo', '--symbols', 'SYNAUSDT', '--folds', '9'])).rejects.toThrow(/9 test periods of 1mo need data from before .* but the data starts at 2024-01-01 00:00/);
    await expect(runCli([...base, '--test-length', '3 months'])).rejects.toThrow(/--test-length '3 months' is not a period/);
    await expect(runCli([...wf, '--retrain', 'sometimes'])).rejects.toThrow(/--retrain must be expanding or rolling/);
    await expect(runCli(['walk-forward', '--test-length', '2w'])).rejects.toThrow(/--folds is required/);
  });

  it('a fold reads nothing at or after the end of its test period', async () => {
    const cfg = { ...config(), name: 'wf-fold' };
    const loaded = await loadConfigData(cfg);
    const span = foldSpans(D(2024, 0, 1), D(2024, 3, 30), 2, parsePeriod('2w'), 'expanding')[0]!;
    const a = await runFold(cfg, span, { key: 'k', data: loaded });
    // Double every price after the fold's test period: nothing the fold reports may change.
    const c = loaded[0]!.candles;
    const cut = lowerBound(c, span.testEndMs);
    const changed = { ...c, open: c.open.slice(), high: c.high.slice(), low: c.low.slice(), close: c.close.slice() };
    for (const col of [changed.open, changed.high, changed.low, changed.close]) for (let i = cut; i < c.length; i++) col[i]! *= 2;
    const b = await runFold(cfg, span, { key: 'k', data: [{ ...loaded[0]!, candles: changed }] });
    const strip = (r: typeof a) => ({ ...r, trainSeconds: 0, wallSeconds: 0, cpuSeconds: 0 });
    expect(cut).toBeLessThan(c.length);
    expect(strip(b)).toEqual(strip(a));
    expect(a.backtests[0]!.tsMs.at(-1)).toBeLessThan(span.testEndMs);
    expect(a.backtests[0]!.tsMs[0]).toBe(span.testStartMs);
  });
});
