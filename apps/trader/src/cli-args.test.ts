import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCli } from './cli-args.js';
import { main } from './cli.js';
import { Journal } from './journal.js';

/** Runs the CLI's main with stdout and stderr captured. */
const capture = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  const out: string[] = [];
  const err: string[] = [];
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
};

describe('parseCli', () => {
  it('parses paper with a replay', () => {
    expect(parseCli(['paper', '--model', 'm', '--symbols', 'BTCUSDT,ETHUSDT', '--replay', 'x.csv', '--speed', '60x', '--journal', 'j.db'])).toMatchObject({
      command: 'paper', model: 'm', symbols: ['BTCUSDT', 'ETHUSDT'], replay: 'x.csv', speed: 60, journal: 'j.db', killFile: 'j.db.kill', flattenOnExit: false,
    });
    expect(parseCli(['paper', '--model', 'm'])).toMatchObject({ speed: 'max', journal: 'trader.db' });
  });

  it('never starts live trading by accident', () => {
    expect(() => parseCli(['live', '--model', 'm'])).toThrow(/needs a venue: --testnet, --demo, or --mainnet --i-accept-real-money-risk/);
    expect(() => parseCli(['live', '--model', 'm', '--mainnet'])).toThrow(/add --i-accept-real-money-risk/);
    expect(() => parseCli(['live', '--model', 'm', '--testnet', '--demo'])).toThrow(/choose one venue/);
    expect(() => parseCli(['live', '--model', 'm', '--testnet', '--replay', 'x.csv'])).toThrow(/cannot replay/);
    expect(() => parseCli(['paper', '--model', 'm', '--mainnet'])).toThrow(/use `trader live`/);
    expect(parseCli(['live', '--model', 'm', '--mainnet', '--i-accept-real-money-risk'])).toMatchObject({ command: 'live', venue: 'mainnet' });
    expect(parseCli(['live', '--model', 'm', '--testnet'])).toMatchObject({ venue: 'testnet' });
    expect(parseCli(['live', '--model', 'm', '--base-url', 'http://127.0.0.1:9'])).toMatchObject({ venue: 'custom' });
  });

  it('names the bad flag', () => {
    expect(() => parseCli(['paper'])).toThrow(/needs --model/);
    expect(() => parseCli(['paper', '--model', 'm', '--speed', 'fast'])).toThrow(/--speed must be like 60x or max/);
    expect(() => parseCli(['paper', '--model', 'm', '--limit', '1.5'])).toThrow(/--limit must be a whole number >= 1, got '1.5'/);
    expect(() => parseCli(['paper', '--model', 'm', '--bogus'])).toThrow(/bogus/);
    expect(() => parseCli(['trade'])).toThrow(/unknown command 'trade'/);
    expect(() => parseCli(['paper', '--model', 'm', '--replay', 'a.csv', '--base-url', 'http://127.0.0.1:1'])).toThrow(/either --replay/);
  });
});

describe('trader main', () => {
  it('mainnet without keys stops before any network traffic with a clear error (exit 2)', async () => {
    const saved = { k: process.env.BYBIT_API_KEY, s: process.env.BYBIT_API_SECRET };
    delete process.env.BYBIT_API_KEY;
    delete process.env.BYBIT_API_SECRET;
    const errs: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    try {
      expect(await main(['live', '--model', 'nowhere', '--mainnet', '--i-accept-real-money-risk'])).toBe(2);
      expect(await main(['live', '--model', 'nowhere', '--mainnet'])).toBe(2);
    } finally {
      process.stderr.write = orig;
      if (saved.k !== undefined) process.env.BYBIT_API_KEY = saved.k;
      if (saved.s !== undefined) process.env.BYBIT_API_SECRET = saved.s;
    }
    expect(errs.join('')).toMatch(/live trading needs API keys: set BYBIT_API_KEY and BYBIT_API_SECRET/);
    expect(errs.join('')).toMatch(/--i-accept-real-money-risk/);
  });

  it('refuses a key file readable by others and a --base-url that is not local', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-cli-'));
    const keyFile = path.join(dir, 'keys.json');
    writeFileSync(keyFile, JSON.stringify({ apiKey: 'AKEYAKEYAKEY', apiSecret: 'SUPERSECRETVALUE123' }), { mode: 0o644 });
    const errs: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    try {
      expect(await main(['live', '--model', 'nowhere', '--testnet', '--key-file', keyFile])).toBe(2);
      expect(await main(['paper', '--model', 'nowhere', '--base-url', 'http://example.com:80', '--journal', path.join(dir, 'j.db')])).toBe(2);
    } finally {
      process.stderr.write = orig;
    }
    const text = errs.join('');
    expect(text).toMatch(/mode 644; it must be readable by its owner only/);
    expect(text).toMatch(/--base-url is for a local simulator/);
    expect(text).not.toMatch(/SUPERSECRETVALUE123/);
  });
});

describe('dashboard and alert flags', () => {
  const base = ['paper', '--model', 'm', '--replay', 'x.csv'];
  it('--dashboard takes an optional host:port (default 127.0.0.1:8080), even before another flag', () => {
    expect(parseCli([...base, '--dashboard'])).toMatchObject({ dashboard: { host: '127.0.0.1', port: 8080 } });
    expect(parseCli([...base, '--dashboard', '--flatten-on-exit'])).toMatchObject({ dashboard: { host: '127.0.0.1', port: 8080 }, flattenOnExit: true });
    expect(parseCli([...base, '--dashboard', '0.0.0.0:9100', '--dashboard-token', 'abcdefghijklmnop'])).toMatchObject({ dashboard: { host: '0.0.0.0', port: 9100 }, dashboardToken: 'abcdefghijklmnop' });
    expect(parseCli(base)).not.toHaveProperty('dashboard');
  });
  it('rejects a bad address, a short token, a non-http webhook and a non-positive disconnect time', () => {
    expect(() => parseCli([...base, '--dashboard', '127.0.0.1:70000'])).toThrow(/port must be 0-65535/);
    expect(() => parseCli([...base, '--dashboard', '--dashboard-token', 'short'])).toThrow(/16-256 printable/);
    expect(() => parseCli([...base, '--alert-webhook', 'file:///etc/passwd'])).toThrow(/must be http\(s\)/);
    expect(() => parseCli([...base, '--alert-disconnect-s', '0'])).toThrow(/must be > 0/);
    expect(parseCli([...base, '--alert-webhook', 'http://127.0.0.1:9/hook', '--alert-disconnect-s', '30'])).toMatchObject({ alertWebhook: 'http://127.0.0.1:9/hook', alertDisconnectS: 30 });
  });
  it('trader dashboard needs --journal and reads --listen', () => {
    expect(() => parseCli(['dashboard'])).toThrow(/dashboard needs --journal/);
    expect(parseCli(['dashboard', '--journal', 'p.db', '--listen', ':9001'])).toEqual({ command: 'dashboard', journal: 'p.db', listen: { host: '127.0.0.1', port: 9001 } });
  });
});

describe('trader --help and bad flags (no stack traces)', () => {

  it.each([
    [['--help'], /Usage: trader <command>/],
    [['help'], /Usage: trader <command>/],
    [['help', 'live'], /Usage: trader live/],
    [['paper', '--help'], /Usage: trader paper --model/],
    [['paper', '-h', '--model', 'm'], /Usage: trader paper --model/],
    [['live', '--help'], /Usage: trader live --model/],
    [['live', '--mainnet', '--help'], /Usage: trader live --model/],
    [['init-model', '--help'], /Usage: trader init-model --out/],
    [['status', '--help'], /Usage: trader status/],
    [['dashboard', '--help'], /Usage: trader dashboard --journal/],
  ])('%j prints its usage and exits 0', async (argv, usage) => {
    const r = await capture(argv);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(usage);
    expect(r.err).toBe('');
  });

  it.each([
    [['paper', '--model', 'm', '--bogus'], /Unknown option '--bogus'/, /Usage: trader paper/],
    [['live', '--testnet', '--nope'], /Unknown option '--nope'/, /Usage: trader live/],
    [['init-model', '--out'], /--out/, /Usage: trader init-model/],
    [['status', '--journal', 'x', 'extra'], /Unexpected argument 'extra'/, /Usage: trader status/],
    [['status', '--what'], /Unknown option '--what'/, /Usage: trader status/],
    [['trade'], /unknown command 'trade'/, /Usage: trader <command>/],
  ])('%j prints the problem and the usage and exits 2', async (argv, problem, usage) => {
    const r = await capture(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(problem);
    expect(r.err).toMatch(usage);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack frame
    expect(r.err).not.toMatch(/TypeError/);
  });
});

describe('bad numbers, levels and configs are refused at start (issue 24 item 10)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-badargs-'));
  const base = ['paper', '--model', path.join(dir, 'no-model'), '--replay', path.join(dir, 'no.csv'), '--journal', path.join(dir, 'j.db')];

  it.each([
    [['--limit', '0'], /--limit must be a whole number >= 1, got '0'/],
    [['--limit=-3'], /--limit must be a whole number >= 1, got '-3'/],
    [['--limit', '2.5'], /--limit must be a whole number >= 1, got '2.5'/],
    [['--equity=-100'], /--equity must be a number > 0, got '-100'/],
    [['--equity', '0'], /--equity must be a number > 0, got '0'/],
    [['--status-every=-1'], /--status-every must be a whole number >= 0, got '-1'/],
    [['--warmup-bars', 'x'], /--warmup-bars must be a whole number >= 0, got 'x'/],
    [['--log-level', 'verbose'], /--log-level must be one of fatal, error, warn, info, debug, trace, silent, got 'verbose'/],
  ])('%j is a usage error (exit 2, one line and the usage, nothing opened)', async (extra, problem) => {
    const r = await capture([...base, ...extra]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(problem);
    expect(r.err).toMatch(/Usage: trader paper/);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(dir, 'j.db'))).toBe(false);
  });

  it.each([
    [{ risk: { maxTotalExposur: 1 } }, /risk|maxTotalExposur/],
    [{ risk: { system: { maxErrorRate: 2 } } }, /maxErrorRate/],
    [{ fusionConfig: { minConfidense: 0.3 } }, /minConfidense/],
    [{ fusion: 'weighted', fusionConfig: { thresholds: { strongBuy: 'high' } } }, /thresholds|strongBuy/],
    [null, /must hold a JSON object of settings, got null/],
    [[1, 2], /must hold a JSON object of settings, got an array/],
  ])('config %j: refused at start with the field named, before the model or the journal is opened', async (cfg, problem) => {
    const file = path.join(dir, `cfg-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(cfg));
    const r = await capture([...base, '--config', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(problem);
    expect(r.err).not.toMatch(/model|no\.csv/); // stopped before the model and the replay file were looked at
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(path.join(dir, 'j.db'))).toBe(false);
  });
});

describe('trader status and --version', () => {
  it('status on a missing journal is an error and creates nothing', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tat-status-')), 'typo.db');
    const r = await capture(['status', '--journal', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no journal at .*typo\.db/);
    expect(existsSync(file)).toBe(false);
  });

  it('status reads a written journal without writing to it: counts, unsettled orders', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tat-status-')), 'j.db');
    const j = Journal.open(file);
    j.recordOrderIntent({ clientOrderId: 'c1', symbol: 'BTCUSDT', side: 'buy', type: 'market', qty: 0.01, reduceOnly: false }, null, 1_700_000_000_000);
    j.close();
    const before = readFileSync(file);
    const r = await capture(['status', '--journal', file]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^journal .*j\.db: /);
    expect(r.out).toMatch(/orders 1/);
    expect(r.out).toMatch(/unsettled orders: 1\n/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('--version prints the package version', async () => {
    const r = await capture(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^trader \d+\.\d+\.\d+\n$/);
  });
});
