import { describe, expect, it, vi } from 'vitest';
import { ArtifactError, ConfigError, DataError, TaError, isConfigError, isDataError, isTaError } from './errors.js';
import { CandleValidationError } from './validate.js';

/** A second, independent copy of the module: what a project with two installed versions has. */
async function otherCopy(): Promise<typeof import('./errors.js')> {
  vi.resetModules();
  return import('./errors.js?copy=2' as string) as Promise<typeof import('./errors.js')>;
}

describe('errors survive duplicate copies of core', () => {
  it('a second copy really is a different class (the premise of the test)', async () => {
    const b = await otherCopy();
    expect(b.ConfigError).not.toBe(ConfigError);
    expect(Object.getPrototypeOf(new b.ConfigError('x'))).not.toBe(ConfigError.prototype);
  });

  it('instanceof holds across copies, by class and code', async () => {
    const b = await otherCopy();
    const foreignConfig = new b.ConfigError('bad value', 'fusion.threshold');
    const foreignData = new b.DataError('NaN in close');
    expect(foreignConfig instanceof ConfigError).toBe(true);
    expect(foreignConfig instanceof TaError).toBe(true);
    expect(foreignConfig instanceof DataError).toBe(false);
    expect(foreignData instanceof DataError).toBe(true);
    expect(foreignData instanceof ArtifactError).toBe(false);
    expect(new ConfigError('x') instanceof b.ConfigError).toBe(true);
  });

  it('guards check the brand and code, not the prototype', async () => {
    const b = await otherCopy();
    expect(isConfigError(new b.ConfigError('x'))).toBe(true);
    expect(isDataError(new b.ConfigError('x'))).toBe(false);
    expect(isTaError(new b.DataError('x'))).toBe(true);
    // Look-alikes without the brand are not toolkit errors.
    expect(isConfigError(Object.assign(new Error('x'), { code: 'CONFIG' }))).toBe(false);
    expect(Object.assign(new Error('x'), { code: 'CONFIG', name: 'ConfigError' }) instanceof ConfigError).toBe(false);
    expect(isTaError(null)).toBe(false);
    expect(isTaError('CONFIG')).toBe(false);
  });

  it('plain subclasses keep ordinary instanceof semantics', () => {
    const report = { ok: false, rows: 1, issues: [], counts: {}, missingIntervals: 0 } as never;
    const e = new CandleValidationError(report, 'x.csv');
    expect(e instanceof TaError).toBe(true);
    expect(e instanceof CandleValidationError).toBe(true);
    expect(new ConfigError('x') instanceof CandleValidationError).toBe(false);
    expect(new Error('x') instanceof TaError).toBe(false);
  });
});
