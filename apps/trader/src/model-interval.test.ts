import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, formatCandlesCsv, generateSyntheticMarket } from '@task-agnostic/core';
import { MANIFEST_CHECKSUM_FIELD, manifestChecksum } from '@task-agnostic/model';
import { initBackend } from '@task-agnostic/tf';
import { main } from './cli.js';
import { checkModelInterval } from './model-interval.js';
import { writeUntrainedModel } from './model-factory.js';

describe('checkModelInterval', () => {
  it('refuses a model trained on another interval, naming both and the fix', () => {
    expect(() => checkModelInterval({ interval: '1h' }, '1m', 'runs/x/model')).toThrow(ConfigError);
    expect(() => checkModelInterval({ interval: '1h' }, '1m', 'runs/x/model')).toThrow(/trained on 1h candles but the trader runs --interval 1m: pass --interval 1h/);
    expect(() => checkModelInterval({ interval: '1h' }, '1h', 'm')).not.toThrow();
    // init-model's untrained artifacts carry no training range
    expect(() => checkModelInterval(undefined, '1m', 'm')).not.toThrow();
  });
});

describe('trader paper with a 1h model and --interval 1m (issue 24 item 4)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tat-model-iv-'));
  const model = path.join(dir, 'model');
  const csv = path.join(dir, 'BTCUSDT.csv');
  const errs: string[] = [];
  let restore: () => void;
  beforeAll(async () => {
    await initBackend({ quiet: true });
    const candles = generateSyntheticMarket({ bars: 700, seed: 4 }).candles;
    writeFileSync(csv, formatCandlesCsv(candles));
    (await writeUntrainedModel(model, candles)).dispose();
    // as the trainer writes it: the training range names the interval (resealed, format 3)
    const j = JSON.parse(readFileSync(path.join(model, 'model.json'), 'utf8')) as Record<string, unknown>;
    delete j[MANIFEST_CHECKSUM_FIELD];
    j.training = { symbols: ['BTCUSDT'], interval: '1h', startMs: candles.tsMs[0], endMs: candles.tsMs[499] };
    writeFileSync(path.join(model, 'model.json'), JSON.stringify({ ...j, [MANIFEST_CHECKSUM_FIELD]: manifestChecksum(j) }));
    const e = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    restore = () => (process.stderr.write = e);
  });
  afterAll(() => {
    restore?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused at start with exit 2, before a journal is opened', async () => {
    const journal = path.join(dir, 'p.db');
    const code = await main(['paper', '--model', model, '--symbols', 'BTCUSDT', '--interval', '1m', '--replay', csv, '--journal', journal]);
    expect(code).toBe(2);
    expect(errs.join('')).toMatch(/trained on 1h candles but the trader runs --interval 1m/);
    expect(errs.join('')).not.toMatch(/\n\s+at /);
    expect(existsSync(journal)).toBe(false);
  });
});
