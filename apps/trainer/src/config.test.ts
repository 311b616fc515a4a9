import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, type CandleColumns } from '@task-agnostic/core';
import { PRESETS, deepMerge, parseTrainerConfig, resolveConfig, separateCalibrationStride, validationStride } from './config.js';
import { configBoundaries, datasetOptions } from './train-run.js';

describe('trainer config', () => {
  it('fills defaults and validates every preset', () => {
    const c = parseTrainerConfig({});
    expect(c.data.source).toBe('synthetic');
    expect(c.model.tasks).toContain('direction');
    for (const name of Object.keys(PRESETS)) {
      const c = resolveConfig(name);
      expect(c.name).toBe(name);
      expect(parseTrainerConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
    }
  });

  it('the validation stride, and a calibration stride that differs from it', () => {
    const cfg = (data: Record<string, unknown>, calibrateStride?: number) =>
      parseTrainerConfig({ data: { source: 'synthetic', ...data }, ...(calibrateStride !== undefined ? { calibrateStride } : {}) });
    expect(validationStride(cfg({ stride: 4 }))).toBe(4);
    expect(validationStride(cfg({ stride: 4, valStride: 12 }))).toBe(12);
    // calibration fits on its own windows only when its stride is not the one validation already has
    expect(separateCalibrationStride(cfg({ stride: 12 }))).toBeUndefined();
    expect(separateCalibrationStride(cfg({ stride: 12 }, 4))).toBe(4);
    expect(separateCalibrationStride(cfg({ stride: 12 }, 12))).toBeUndefined();
    expect(separateCalibrationStride(cfg({ stride: 4, valStride: 12 }, 12))).toBeUndefined();
    expect(separateCalibrationStride(cfg({ stride: 4, valStride: 12 }, 4))).toBe(4);
  });

  it('data.recencyHalfLifeDays reaches the dataset options; unset by default; a bad value is named', () => {
    expect(datasetOptions(parseTrainerConfig({})).recencyHalfLifeDays).toBeUndefined();
    expect(resolveConfig('universal', {}).data.recencyHalfLifeDays).toBeUndefined();
    expect(datasetOptions(parseTrainerConfig({ data: { recencyHalfLifeDays: 365 } })).recencyHalfLifeDays).toBe(365);
    expect(datasetOptions(parseTrainerConfig({ data: { recencyHalfLifeDays: 90, split: { valStart: '2023-06-01', testStart: '2024-01-01' } } })).recencyHalfLifeDays).toBe(90);
    expect(() => parseTrainerConfig({ data: { recencyHalfLifeDays: 0 } })).toThrow(/^invalid config: data\.recencyHalfLifeDays: /);
    expect(() => parseTrainerConfig({ data: { recencyHalfLifeDays: 'year' } })).toThrow(/data\.recencyHalfLifeDays/);
  });

  it('names the bad field', () => {
    expect(() => parseTrainerConfig({ data: { interval: '7m' } })).toThrow(ConfigError);
    expect(() => parseTrainerConfig({ data: { interval: '7m' } })).toThrow(/data\.interval/);
    expect(() => parseTrainerConfig({ data: { source: 'csv' } })).toThrow(/data\.path: is required when source is 'csv'/);
    expect(() => parseTrainerConfig({ data: { symbols: ['btc'] } })).toThrow(/data\.symbols\.0: symbols are upper-case/);
    expect(() => parseTrainerConfig({ model: { windowLength: 1 } })).toThrow(/model\.windowLength/);
    expect(() => parseTrainerConfig({ typo: 1 })).toThrow(/typo|Unrecognized/);
    // the class mix of the validation-fitted layers: 'validation' by default, a bad value named in one line
    expect(parseTrainerConfig({}).classMix).toBe('validation');
    expect(() => parseTrainerConfig({ classMix: 'train' })).toThrow(/^invalid config: classMix: Invalid enum value\. Expected 'validation' \| 'training' \| 'auto', received 'train'$/);
    expect(() => parseTrainerConfig({ data: { split: { valStart: 'yesterday', testStart: '2025-01-01' } } })).toThrow(/data\.split/);
    // a seed ensemble: two or more different seeds; the universal preset's is the one chosen on validation
    expect(parseTrainerConfig({ seeds: [1, 2] }).seeds).toEqual([1, 2]);
    expect(parseTrainerConfig({}).seeds).toBeUndefined();
    expect(resolveConfig('universal', {}).seeds).toEqual([42, 7, 1234]);
    // every 12th window, one pass an epoch (session 11's finer stride was reverted: trainer README, "More training windows")
    const u = resolveConfig('universal', {});
    expect([u.data.stride, u.data.valStride, u.training.stepsPerEpoch]).toEqual([12, undefined, undefined]);
    // the deployed layer's rule: one-SE by default (and for quick), the best mean fold score for universal
    expect(parseTrainerConfig({}).blendRule).toBe('oneSe');
    expect(resolveConfig('quick', {}).blendRule).toBe('oneSe');
    expect(u.blendRule).toBe('best');
    expect(() => parseTrainerConfig({ blendRule: 'max' })).toThrow(/^invalid config: blendRule: Invalid enum value\. Expected 'oneSe' \| 'best', received 'max'$/);
    expect(() => parseTrainerConfig({ seeds: [3] })).toThrow(/^invalid config: seeds: a seed ensemble needs at least two seeds$/);
    expect(() => parseTrainerConfig({ seeds: [3, 4, 3] })).toThrow(/^invalid config: seeds: lists seed 3 twice$/);
    expect(() => parseTrainerConfig({ seeds: [3, -1] })).toThrow(/^invalid config: seeds\.1: /);
  });

  it('parses date splits to milliseconds', () => {
    const c = parseTrainerConfig({ data: { split: { valStart: '2024-10-01', testStart: '2025-01-01' } } });
    expect(c.data.split).toEqual({ valStart: Date.UTC(2024, 9, 1), testStart: Date.UTC(2025, 0, 1) });
    // A saved run config holds the parsed form; it must read back to the same config.
    expect(parseTrainerConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
  });

  it('parses validation blocks and rejects blocks out of order, overlapping, empty or after valStart, naming the block', () => {
    const split = (valBlocks: unknown) => ({ data: { split: { valStart: '2023-06-01', testStart: '2023-12-01', valBlocks } } });
    const c = parseTrainerConfig(split([{ from: '2021-01-01', to: '2021-02-01' }, { from: '2022-01-01', to: '2022-02-01' }]));
    expect(c.data.split).toEqual({
      valStart: Date.UTC(2023, 5, 1),
      testStart: Date.UTC(2023, 11, 1),
      valBlocks: [
        { from: Date.UTC(2021, 0, 1), to: Date.UTC(2021, 1, 1) },
        { from: Date.UTC(2022, 0, 1), to: Date.UTC(2022, 1, 1) },
      ],
    });
    expect(parseTrainerConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
    expect(() => parseTrainerConfig(split([{ from: '2022-01-01', to: '2022-02-01' }, { from: '2021-01-01', to: '2021-02-01' }]))).toThrow(/data\.split\.valBlocks\.1\.from: blocks must be in time order and not overlap/);
    expect(() => parseTrainerConfig(split([{ from: '2022-01-01', to: '2022-03-01' }, { from: '2022-02-01', to: '2022-04-01' }]))).toThrow(/data\.split\.valBlocks\.1\.from/);
    expect(() => parseTrainerConfig(split([{ from: '2022-01-01', to: '2022-01-01' }]))).toThrow(/data\.split\.valBlocks\.0\.to: must be after from/);
    expect(() => parseTrainerConfig(split([{ from: '2023-05-01', to: '2023-07-01' }]))).toThrow(/data\.split\.valBlocks\.0\.to: must not be after valStart/);
    expect(() => parseTrainerConfig(split([{ from: '2021-01-01' }]))).toThrow(/data\.split/);
  });

  it('parses data.split.fitBefore (a refitted copy\'s fit date) and rejects one after valStart', () => {
    const split = (fitBefore: string) => ({ data: { split: { valStart: '2024-07-01', testStart: '2025-01-01', fitBefore } } });
    expect(parseTrainerConfig(split('2023-06-01')).data.split).toEqual({ valStart: Date.UTC(2024, 6, 1), testStart: Date.UTC(2025, 0, 1), fitBefore: Date.UTC(2023, 5, 1) });
    expect(() => parseTrainerConfig(split('2024-08-01'))).toThrow(/data\.split\.fitBefore: must not be after valStart/);
  });

  it('reads a file that extends a preset, and applies overrides last', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-cfg-'));
    const f = path.join(dir, 'my.json');
    writeFileSync(f, JSON.stringify({ extends: 'quick', name: 'mine', training: { epochs: 9 } }));
    const c = resolveConfig(f, { seed: 7 });
    expect(c.name).toBe('mine');
    expect(c.seed).toBe(7);
    expect(c.training).toMatchObject({ epochs: 9, batchSize: 64 });
    expect(c.data.symbols).toEqual(['SYNTHA', 'SYNTHB']);
    writeFileSync(f, '{ not json');
    expect(() => resolveConfig(f)).toThrow(/is not valid JSON/);
    expect(() => resolveConfig(path.join(dir, 'none.json'))).toThrow(/neither a preset .* nor a readable file/);
    writeFileSync(f, JSON.stringify({ extends: 'huge' }));
    expect(() => resolveConfig(f)).toThrow(/unknown preset 'huge'/);
  });

  it('refitHeads: off by default; read from the file; a task the model lacks or a bad number is named before anything runs', () => {
    expect(resolveConfig('universal').refitHeads).toBeNull();
    const dir = mkdtempSync(path.join(tmpdir(), 'tat-cfg-'));
    const f = path.join(dir, 'refit.json');
    writeFileSync(f, JSON.stringify({ extends: 'quick', refitHeads: { tasks: ['volatility'], epochs: 5 } }));
    expect(resolveConfig(f).refitHeads).toEqual({ tasks: ['volatility'], epochs: 5 });
    writeFileSync(f, JSON.stringify({ extends: 'quick', refitHeads: { tasks: ['vol'] } }));
    expect(() => resolveConfig(f)).toThrow(/: refitHeads\.tasks: the model has no task 'vol' \(it has direction, volatility, regime, return, risk\)$/);
    writeFileSync(f, JSON.stringify({ extends: 'quick', refitHeads: { tasks: ['risk', 'risk'] } }));
    expect(() => resolveConfig(f)).toThrow(/: refitHeads\.tasks: lists 'risk' twice$/);
    writeFileSync(f, JSON.stringify({ extends: 'quick', refitHeads: { tasks: ['risk'], epochs: 0 } }));
    expect(() => resolveConfig(f)).toThrow(/refitHeads\.epochs: Number must be greater than 0/);
    writeFileSync(f, JSON.stringify({ extends: 'quick', refitHeads: { task: 'risk' } }));
    expect(() => resolveConfig(f)).toThrow(/refitHeads/);
  });

  it('deep-merges objects and replaces arrays', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] } }, { a: { c: [3] } })).toEqual({ a: { b: 1, c: [3] } });
  });
});

describe('configBoundaries', () => {
  const hourly = (fromMs: number, n: number) => ({ candles: { length: n, tsMs: Float64Array.from({ length: n }, (_, i) => fromMs + i * 3_600_000) } as unknown as CandleColumns });
  it('a date split gives each series its rows, its blocks clipped to training and left out where it has no candles; a fraction split none', () => {
    const cfg = parseTrainerConfig({ data: { split: { valStart: '2022-01-20', testStart: '2022-01-25', valBlocks: [{ from: '2021-12-01', to: '2021-12-02' }, { from: '2022-01-05', to: '2022-01-06' }] } } });
    const early = hourly(Date.UTC(2021, 11, 1), 2000); // from 2021-12-01
    const late = hourly(Date.UTC(2022, 0, 1), 1000); // from 2022-01-01: no candle in the first block
    expect(configBoundaries(cfg.data.split, [early, late])).toEqual([
      { trainEnd: 50 * 24, valEnd: 55 * 24, valBlocks: [{ start: 0, end: 24 }, { start: 35 * 24, end: 36 * 24 }] },
      { trainEnd: 19 * 24, valEnd: 24 * 24, valBlocks: [{ start: 4 * 24, end: 5 * 24 }] },
    ]);
    expect(configBoundaries(parseTrainerConfig({}).data.split, [early])).toBeUndefined();
  });
});
