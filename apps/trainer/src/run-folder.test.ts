/**
 * Run-folder safety and the CLI's error contract (issue 24 items 6, 10, 11): a retrain that fails
 * never damages the existing run, a retrain replaces it whole, run names cannot leave --out, bad
 * configs and flags are one-line errors with exit 2, and no stack trace reaches the user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@task-agnostic/tf';
import { main } from './commands.js';
import { mkdir } from 'node:fs/promises';
import { generateSyntheticMarket } from '@task-agnostic/core';
import { resolveConfig } from './config.js';
import { openStaging, runFingerprint, stagingPaths } from './run-folder.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tat-runsafe-'));
const out = path.join(dir, 'runs');
const tiny = {
  name: 'r',
  out,
  seed: 4,
  data: { source: 'synthetic', symbols: ['SYNTHA'], bars: 1500 },
  model: { windowLength: 16, encoder: 'tiny', encoderType: 'mlp', tasks: ['direction', 'volatility'] },
  training: { epochs: 1, batchSize: 64, workers: 1 },
  evaluate: { singleTask: false, transfer: false },
  policy: { thresholds: 'seed' },
  calibrate: false,
};
function config(name: string, json: unknown): string {
  const f = path.join(dir, name);
  writeFileSync(f, typeof json === 'string' ? json : JSON.stringify(json));
  return f;
}
/** The run folder's files and their contents. */
function snapshot(run: string): Record<string, string> {
  const outp: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else outp[path.relative(run, p)] = readFileSync(p).toString('base64');
    }
  };
  walk(run);
  return outp;
}

let stdout: string[] = [];
let stderr: string[] = [];
const err = { write: (s: string) => stderr.push(s) };
async function cli(...argv: string[]): Promise<number> {
  stdout = [];
  stderr = [];
  return main(argv, err);
}
let restore: () => void = () => {};

beforeAll(async () => {
  await initBackend({ quiet: true });
  const o = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (stdout.push(String(s)), true)) as typeof process.stdout.write;
  restore = () => (process.stdout.write = o);
});
afterAll(() => {
  restore();
  rmSync(dir, { recursive: true, force: true });
});

describe('run folders (issue 24 item 6)', () => {
  const run = path.join(out, 'r');
  it('a retrain that fails (bad config, missing data) leaves the existing run as it was; a good retrain replaces it whole', async () => {
    expect(await cli('train', '--config', config('tiny.json', tiny), '--no-progress')).toBe(0);
    expect(existsSync(path.join(run, 'model', 'weights.bin'))).toBe(true);
    expect(existsSync(stagingPaths(out, 'r').dir)).toBe(false);
    // an evaluation of the old model, as `trainer evaluate` would leave it
    writeFileSync(path.join(run, 'evaluation.json'), '{"old": true}\n');
    const before = snapshot(run);
    for (const bad of [
      { ...tiny, training: { ...tiny.training, batchSize: 0 } },
      { ...tiny, risk: { sizingg: {} } },
      { ...tiny, fusion: { method: 'consistency', config: { minConfidense: 0.5 } } },
      { ...tiny, backtest: { feeRat: 0.001 } },
      { ...tiny, model: { ...tiny.model, tasks: ['direction', 'nosuchtask'] } },
    ]) {
      expect(await cli('train', '--config', config('bad.json', bad), '--no-progress')).toBe(2);
      expect(stderr.join('')).toMatch(/^error: .*bad\.json: /);
      expect(stdout.join('')).not.toMatch(/^train /m); // refused before anything ran
    }
    expect(await cli('train', '--config', config('nodata.json', { ...tiny, data: { source: 'csv', path: path.join(dir, 'none.csv') } }), '--no-progress')).toBe(1);
    expect(stderr.join('')).toMatch(/data path .*none\.csv does not exist/);
    expect(snapshot(run)).toEqual(before);

    expect(await cli('train', '--config', config('tiny.json', { ...tiny, seed: 5 }), '--no-progress')).toBe(0);
    expect(stdout.join('')).toMatch(/replaced the earlier run in /);
    expect(existsSync(path.join(run, 'evaluation.json'))).toBe(false); // nothing of the old run mixes in
    expect(snapshot(run)['model/weights.bin']).not.toBe(before['model/weights.bin']);
    expect(JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8')).seed).toBe(5);
    expect(readdirSync(out)).toEqual(['r']);
  }, 120_000);

  it('run names with path separators, "." or ".." are refused before anything is written', async () => {
    for (const name of ['..', '.', 'a/b', '../x', '.hidden']) {
      expect(await cli('train', '--config', config('tiny.json', tiny), '--name', name, '--no-progress')).toBe(2);
      expect(stderr.join('')).toMatch(/--name '.*' is not a run name/);
      expect(await cli('train', '--config', config('named.json', { ...tiny, name }), '--no-progress')).toBe(2);
      expect(stderr.join('')).toMatch(/name: use letters/);
    }
    expect(readdirSync(dir).filter((f) => !f.endsWith('.json')).sort()).toEqual(['runs']);
  });
});

describe('staging folders of interrupted runs', () => {
  const base = { symbol: 'AAAUSDT', interval: '1h' as const, source: 'x', dropped: 0, filled: 0 };
  const candles = generateSyntheticMarket({ bars: 50, seed: 1 }).candles;
  const cfg = resolveConfig(config('staging.json', { ...tiny, name: 's', out: path.join(dir, 'staging') }));
  const fakeCheckpoint = async (d: string) => {
    await mkdir(d, { recursive: true });
    writeFileSync(path.join(d, 'checkpoint.json'), '{}');
    writeFileSync(path.join(d, 'checkpoint.bin'), '');
  };
  it('resumes only the same config and the same candles with a checkpoint; discards the rest, saying why', async () => {
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const data = [{ ...base, candles }];
    const first = await openStaging(cfg, data, log);
    expect(first.resuming).toBe(false);
    expect(first.paths.dir).toBe(path.join(dir, 'staging', '.s.partial'));
    // killed before the first checkpoint: nothing to resume
    expect((await openStaging(cfg, data, log)).resuming).toBe(false);
    expect(lines.pop()).toMatch(/discarding the interrupted run in .*: it has no checkpoint yet/);
    await fakeCheckpoint(first.paths.checkpoints);
    expect((await openStaging(cfg, data, log)).resuming).toBe(true);
    expect(lines.pop()).toMatch(/resuming the interrupted run in .*\.s\.partial \(same config and data\)/);
    // one close price changed: other data, not resumed
    const edited = { ...candles, close: Float64Array.from(candles.close, (c, i) => (i === 40 ? c * 1.01 : c)) };
    expect((await openStaging(cfg, [{ ...base, candles: edited }], log)).resuming).toBe(false);
    expect(lines.pop()).toMatch(/its config or data differ from this run/);
    expect(existsSync(first.paths.checkpoints)).toBe(false);
    // another config (seed)
    await fakeCheckpoint(first.paths.checkpoints);
    expect((await openStaging({ ...cfg, seed: cfg.seed + 1 }, data, log)).resuming).toBe(false);
    expect(runFingerprint(cfg, data)).not.toBe(runFingerprint({ ...cfg, seed: cfg.seed + 1 }, data));
  });
});

describe('errors: one line, exit 2 for usage, 1 for failures, never a stack trace (issue 24 items 10, 11)', () => {
  it('a null or array config is an error, not a run with defaults', async () => {
    for (const [text, kind] of [['null', 'null'], ['[]', 'an array'], ['[{"name": "x"}]', 'an array'], ['42', 'number']]) {
      expect(await cli('train', '--config', config('odd.json', text), '--no-progress')).toBe(2);
      expect(stderr.join('')).toBe(`error: ${path.join(dir, 'odd.json')}: a config must be a JSON object such as {"extends": "quick"}, got ${kind}\n`);
      expect(stdout.join('')).toBe('');
    }
  });

  it('--interval 1x blames the flag; --val-start yesterday says the date is invalid', async () => {
    const f = config('tiny.json', tiny);
    expect(await cli('train', '--config', f, '--interval', '1x')).toBe(2);
    expect(stderr.join('')).toMatch(/^error: --interval '1x' is not an interval: use one of 1m, .*1d\n$/);
    expect(stderr.join('')).not.toContain('tiny.json');
    expect(await cli('fetch', '--symbols', 'BTCUSDT', '--since', '2024-01-01', '--interval', '1x')).toBe(2);
    expect(stderr.join('')).toMatch(/--interval '1x' is not an interval/);
    expect(await cli('train', '--config', f, '--val-start', 'yesterday', '--test-start', '2025-01-01')).toBe(2);
    expect(stderr.join('')).toBe("error: --val-start 'yesterday' is not a date such as 2024-01-01\n");
    expect(await cli('train', '--config', f, '--val-start', '2025-01-01', '--test-start', '2024-01-01')).toBe(2);
    expect(stderr.join('')).toMatch(/--test-start 2024-01-01 is not after --val-start 2025-01-01/);
  });

  it('--val-blocks: needs the date split, FROM..TO pairs, and blocks the config accepts', async () => {
    const f = config('tiny.json', tiny);
    expect(await cli('train', '--config', f, '--val-blocks', '2021-01-01..2021-02-01')).toBe(2);
    expect(stderr.join('')).toBe('error: --val-blocks needs --val-start and --test-start\n');
    const split = ['--val-start', '2024-06-01', '--test-start', '2024-09-01'];
    expect(await cli('train', '--config', f, ...split, '--val-blocks', '2021-01-01-2021-02-01')).toBe(2);
    expect(stderr.join('')).toBe("error: --val-blocks: '2021-01-01-2021-02-01' is not FROM..TO, e.g. 2021-01-01..2021-02-01\n");
    expect(await cli('train', '--config', f, ...split, '--val-blocks', '2021-01-01..soon')).toBe(2);
    expect(stderr.join('')).toBe("error: --val-blocks 'soon' is not a date such as 2024-01-01\n");
    expect(await cli('train', '--config', f, ...split, '--val-blocks', '2024-05-01..2024-07-01')).toBe(2);
    expect(stderr.join('')).toMatch(/^error: invalid .*tiny\.json: data\.split\.valBlocks\.0\.to: must not be after valStart\n$/);
  });

  it('--val-blocks trains with the block in validation: training.json lists it and counts its windows there, not in training', async () => {
    const f = config('tiny.json', tiny);
    // the synthetic market starts 2022-01-01, hourly: 1,500 bars to 2022-03-04
    const split = ['--val-start', '2022-02-10', '--test-start', '2022-02-22'];
    const read = (name: string) => JSON.parse(readFileSync(path.join(out, name, 'training.json'), 'utf8')) as { dataset: { boundaries: { valBlocks?: { start: number; end: number; from: string; to: string }[] }[]; samples: { train: number; val: number; test: number } } };
    expect(await cli('train', '--config', f, ...split, '--name', 'plain', '--no-progress')).toBe(0);
    expect(await cli('train', '--config', f, ...split, '--val-blocks', '2022-01-15..2022-01-25', '--name', 'blocks', '--no-progress')).toBe(0);
    const [plain, blocks] = [read('plain'), read('blocks')];
    expect(plain.dataset.boundaries[0]!.valBlocks).toBeUndefined();
    expect(blocks.dataset.boundaries[0]!.valBlocks).toEqual([{ start: 14 * 24, end: 24 * 24, from: '2022-01-15T00:00:00.000Z', to: '2022-01-25T00:00:00.000Z' }]);
    expect(blocks.dataset.samples.val).toBeGreaterThan(plain.dataset.samples.val);
    expect(blocks.dataset.samples.train).toBeLessThan(plain.dataset.samples.train);
    expect(blocks.dataset.samples.test).toBe(plain.dataset.samples.test);
  }, 60_000);

  it('every command: an unknown flag, a stray argument or a bad value gives its usage and exit 2', async () => {
    const commands = ['main', 'fetch', 'train', 'evaluate', 'backtest', 'calibrate', 'report', 'walk-forward', 'lso'];
    for (const c of commands) {
      expect(await cli(c, '--bogus'), c).toBe(2);
      expect(stderr.join(''), c).toMatch(new RegExp(`^error: (arguments: )?Unknown option '--bogus'[\\s\\S]*\\n\\ntrainer ${c}`));
    }
    for (const c of ['main', 'fetch', 'train', 'walk-forward']) {
      expect(await cli(c, 'stray'), c).toBe(2);
      expect(stderr.join(''), c).toMatch(/unexpected argument 'stray'/);
    }
    expect(await cli('report', 'a', 'b')).toBe(2);
    for (const argv of [
      ['train', '--epochs', '-1'], ['train', '--epochs', '0'], ['train', '--epochs', 'x'], ['train', '--seed', '1.5'], ['train', '--workers', '0'],
      ['main', '--seed', 'abc'], ['backtest', path.join(out, 'r'), '--fusion', 'nope'], ['walk-forward', '--folds', '0', '--test-length', '3mo'],
      ['lso', path.join(out, 'r'), '--resamples', '3'], ['evaluate'], ['evaluate', path.join(dir, 'no-such-run')], ['nosuchcommand'],
    ]) {
      const code = argv[0] === 'nosuchcommand' ? await main(argv, err) : await cli(...argv);
      expect(code, argv.join(' ')).toBe(2);
    }
    for (const c of commands) {
      expect(await cli(c, '--help'), c).toBe(0);
      expect(stdout.join(''), c).toContain(`trainer ${c}`);
    }
  });

  it('a failure is exit 1 with one line, no stack trace', async () => {
    expect(await cli('report', dir)).toBe(1);
    expect(stderr.join('')).toMatch(/^error: .* is not a trainer run folder .*\n$/);
    expect(stderr.join('')).not.toMatch(/\n\s+at /);
  });
});
