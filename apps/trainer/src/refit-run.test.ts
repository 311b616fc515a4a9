/**
 * `trainer calibrate <run> --refit-from --refit-to --out`: a copy of a tiny run with its layers refitted
 * on a later range. Proven: the copy's validation windows are exactly the range's, with the inputs and
 * labels the original model gives the same bars (bitwise, against the original run's own test split);
 * the network weights are copied unchanged and the original run is untouched; the layers are refitted
 * on the new rows; candles that differ before the fit date, and bad flags, are one-line errors that
 * leave nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatCandlesCsv, generateSyntheticMarket, type CandleColumns } from '@task-agnostic/core';
import { initBackend } from '@task-agnostic/tf';
import { resolveConfig, type TrainerConfigInput } from './config.js';
import { runCli as cli } from './test-cli.js';
import { loadRun } from './load-run.js';
import { trainStep } from './pipeline.js';
import { ordinal, type RefitReport } from './refit-run.js';

const root = mkdtempSync(path.join(tmpdir(), 'tat-refit-'));
const dataDir = path.join(root, 'data');
const runs = path.join(root, 'runs');
const SYMBOLS = ['AAAUSDT', 'BBBUSDT'];
const markets = SYMBOLS.map((s, k) => generateSyntheticMarket({ bars: 1400, seed: 50 + k, symbol: s }).candles);
const at = (bar: number): string => new Date(markets[0]!.tsMs[bar]!).toISOString();
const VAL = 700;
const TEST = 1000;
const FROM = 1000;
const TO = 1250;

const digest = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => {
        const f = path.join(e.parentPath, e.name);
        return [path.relative(dir, f), createHash('sha256').update(readFileSync(f)).digest('hex')];
      }),
  );

function writeData(dir: string, candles: readonly CandleColumns[]): void {
  mkdirSync(dir, { recursive: true });
  SYMBOLS.forEach((s, k) => writeFileSync(path.join(dir, `x_${s}_1h.csv`), formatCandlesCsv(candles[k]!)));
}

beforeAll(async () => {
  await initBackend({ quiet: true });
  writeData(dataDir, markets);
  const cfg: TrainerConfigInput = {
    name: 'base',
    seed: 3,
    out: runs,
    data: { source: 'csv', path: dataDir, symbols: 'all', normalisation: 'perSymbol', taskFit: 'perSymbol', stride: 2, split: { valStart: at(VAL), testStart: at(TEST) } },
    model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction', 'volatility', 'return', 'risk'] },
    training: { epochs: 1, batchSize: 64 },
    evaluate: { singleTask: false, transfer: false },
    policy: { thresholds: 'fitted', minValidationDays: 5 },
  };
  const run = await trainStep(resolveConfig(undefined, cfg), { log: () => {}, progress: false });
  run.result.model.dispose();
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // the commands' progress lines
}, 600_000);

afterAll(() => {
  vi.restoreAllMocks();
  rmSync(root, { recursive: true, force: true });
});

describe('trainer calibrate --refit-from', () => {
  it('writes a copy whose validation is the later range, with the model\'s inputs, labels and weights, and refitted layers; the run is untouched', async () => {
    const base = path.join(runs, 'base');
    // reports of the run's own test split, stale for the copy: not copied
    writeFileSync(path.join(base, 'evaluation.json'), '{}\n');
    mkdirSync(path.join(base, 'oos', 'x'), { recursive: true });
    writeFileSync(path.join(base, 'oos', 'x', 'evaluation.json'), '{}\n');
    const before = digest(base);
    const out = path.join(runs, 'later');
    const r = await cli(['calibrate', base, '--refit-from', at(FROM), '--refit-to', at(TO), '--out', out, '--no-policy']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(digest(base)).toEqual(before);
    // the network (encoder and heads) is the run's, byte for byte
    expect(digest(path.join(out, 'model'))['weights.bin']).toBe(before[path.join('model', 'weights.bin')]);
    const cfg = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as { name: string; data: { split: Record<string, number> } };
    expect(cfg.name).toBe('later');
    expect(cfg.data.split).toEqual({ valStart: markets[0]!.tsMs[FROM], testStart: markets[0]!.tsMs[TO], fitBefore: markets[0]!.tsMs[VAL] });

    const orig = await loadRun(base);
    const copy = await loadRun(out);
    try {
      const o = orig.result.dataset;
      const c = copy.result.dataset;
      // validation = the range's windows: every end row in [FROM + gap, TO - horizon), at the run's stride
      const h = c.horizon;
      for (let s = 0; s < 2; s++) {
        const ends = Array.from(c.val.endRows!).filter((_, i) => c.val.seriesIds![i] === s);
        expect(ends.length).toBeGreaterThan(50);
        expect(Math.min(...ends)).toBeGreaterThanOrEqual(FROM + c.purgeGap);
        expect(Math.max(...ends)).toBeLessThan(TO - h);
      }
      // each one is the window the original model reads at that bar (its test split holds them): same inputs, same labels
      const key = (split: typeof o.test, i: number) => `${split.seriesIds![i]}:${split.endRows![i]}`;
      const inOrig = new Map(Array.from({ length: o.test.n }, (_, i) => [key(o.test, i), i]));
      const size = c.val.windowLength * c.val.featureCount;
      let matched = 0;
      for (let i = 0; i < c.val.n; i++) {
        const j = inOrig.get(key(c.val, i));
        if (j === undefined) continue;
        matched++;
        expect(Array.from(c.val.x.subarray(i * size, (i + 1) * size))).toEqual(Array.from(o.test.x.subarray(j * size, (j + 1) * size)));
        c.val.targets.forEach((t, k) => {
          const d = c.val.targetDims[k]!;
          expect(Array.from(t.subarray(i * d, (i + 1) * d))).toEqual(Array.from(o.test.targets[k]!.subarray(j * d, (j + 1) * d)));
        });
      }
      expect(matched).toBe(c.val.n);
      expect(c.symbolTaskStates).toEqual(o.symbolTaskStates);
    } finally {
      orig.result.model.dispose();
      copy.result.model.dispose();
    }
    // the layers were fitted on the new rows
    const cal = JSON.parse(readFileSync(path.join(out, 'calibration.json'), 'utf8')) as { heads: { task: string; fitRows: number; scale: number[] }[] };
    const old = JSON.parse(readFileSync(path.join(base, 'calibration.json'), 'utf8')) as typeof cal;
    const rep = JSON.parse(readFileSync(path.join(out, 'refit.json'), 'utf8')) as RefitReport;
    expect(cal.heads.every((hd) => hd.fitRows === rep.validationWindows)).toBe(true);
    expect(rep).toMatchObject({ from: base, fitBefore: at(VAL), refitFrom: at(FROM), refitTo: at(TO), fitStride: 2, policy: 'kept' });
    expect(rep.series.map((s) => s.symbol)).toEqual(SYMBOLS);
    expect(cal.heads.map((hd) => hd.scale)).not.toEqual(old.heads.map((hd) => hd.scale));
    // the saved policy was kept (--no-policy), the run's stale reports were not copied
    expect(readFileSync(path.join(out, 'decision-policy.json'), 'utf8')).toBe(readFileSync(path.join(base, 'decision-policy.json'), 'utf8'));
    const policyOf = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'model', 'model.json'), 'utf8')) as { decisionPolicy?: unknown }).decisionPolicy;
    expect(policyOf(base)).toBeTruthy();
    expect(policyOf(out)).toEqual(policyOf(base));
    expect(existsSync(path.join(out, 'evaluation.json'))).toBe(false);
    expect(existsSync(path.join(out, 'oos'))).toBe(false);
    expect(readdirSync(out).sort()).toEqual(['calibration.json', 'config.json', 'decision-policy.json', 'model', 'refit.json', 'training.json']);
  }, 300_000);

  it('without --no-policy refits the decision policy on the new range too', async () => {
    const out = path.join(runs, 'later-policy');
    const r = await cli(['calibrate', path.join(runs, 'base'), '--refit-from', at(FROM), '--refit-to', at(TO), '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(path.join(out, 'refit.json'), 'utf8')) as RefitReport;
    expect(rep.policy).toBe('refitted');
    const policy = JSON.parse(readFileSync(path.join(out, 'decision-policy.json'), 'utf8')) as Record<string, unknown>;
    const mj = JSON.parse(readFileSync(path.join(out, 'model', 'model.json'), 'utf8')) as { decisionPolicy?: unknown };
    expect(mj.decisionPolicy).toBeTruthy();
    // fitted on the new range's bars: another policy than the run's
    expect(policy).not.toEqual(JSON.parse(readFileSync(path.join(runs, 'base', 'decision-policy.json'), 'utf8')));
  }, 300_000);

  it('refuses candles that differ before the fit date, naming the series, and leaves nothing at --out', async () => {
    const changed = markets.map((c, k) => {
      if (k === 0) return c;
      const close = Float64Array.from(c.close);
      const high = Float64Array.from(c.high);
      close[300] = close[300]! * 1.05;
      high[300] = Math.max(high[300]!, close[300]!);
      return { ...c, close, high } as CandleColumns;
    });
    const other = path.join(root, 'other');
    writeData(other, changed);
    const out = path.join(runs, 'bad');
    const r = await cli(['calibrate', path.join(runs, 'base'), '--refit-from', at(FROM), '--refit-to', at(TO), '--out', out, '--data', other, '--no-policy']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: the candles before the fit date are not those the model was trained on, so the refit would change its inputs or labels: BBBUSDT: the normaliser differs/);
    expect(r.err.split('\n').filter(Boolean).length).toBe(1);
    expect(existsSync(out)).toBe(false);
  }, 300_000);

  it('names bad flags in one line: a range before the validation start, an empty range, no --out, a full --out, flags that do not go together', async () => {
    const base = path.join(runs, 'base');
    const one = async (argv: string[], re: RegExp) => {
      const r = await cli(['calibrate', base, ...argv]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(re);
    };
    const out = path.join(runs, 'x');
    await one(['--refit-from', at(VAL - 10), '--refit-to', at(TO), '--out', out], /^error: --refit-from .* is before the run's validation start .*: the heads were trained on those bars/);
    await one(['--refit-from', at(TO), '--refit-to', at(FROM), '--out', out], /^error: --refit-to .* is not after --refit-from/);
    await one(['--refit-from', at(FROM), '--refit-to', at(TO)], /^error: a refit writes a copy of the run: give its folder with --out/);
    await one(['--refit-from', at(FROM), '--out', out], /^error: a refit needs --refit-to/);
    await one(['--refit-from', 'soon', '--refit-to', at(TO), '--out', out], /^error: --refit-from 'soon' is not a date/);
    await one(['--refit-from', at(FROM), '--refit-to', at(TO), '--out', out, '--tilt-only'], /^error: --tilt-only refits the tilt policy in place/);
    await one(['--refit-from', at(FROM), '--refit-to', at(TO), '--out', out, '--stride', '0'], /^error: --stride must be an integer >= 1, got '0'/);
    await one(['--stride', '2'], /^error: --stride goes with --refit-from/);
    await one(['--refit-from', at(FROM), '--refit-to', at(TO), '--out', base], /^error: --out is the run itself/);
    mkdirSync(out);
    writeFileSync(path.join(out, 'keep.txt'), 'mine');
    await one(['--refit-from', at(FROM), '--refit-to', at(TO), '--out', out], /^error: --out .* exists and is not empty: choose a new folder for the refitted run/);
    expect(readFileSync(path.join(out, 'keep.txt'), 'utf8')).toBe('mine');
    expect(existsSync(path.join(runs, 'x', 'model'))).toBe(false);
  }, 300_000);

  it('says every 2nd / 3rd / 11th / 21st window', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 111, 112].map(ordinal)).toEqual(['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd', '111th', '112th']);
  });
});
