import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PACKAGE_VERSIONS, incompatibleVersions, versionsCompatible } from './versions.js';

const packagesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('PACKAGE_VERSIONS', () => {
  it('equals the versions in the packages own package.json files', () => {
    for (const dir of ['model', 'core', 'encoders', 'features', 'heads', 'tf']) {
      const pkg = JSON.parse(readFileSync(path.join(packagesDir, dir, 'package.json'), 'utf8')) as { name: string; version: string };
      expect(PACKAGE_VERSIONS[pkg.name]).toBe(pkg.version);
    }
    expect(Object.keys(PACKAGE_VERSIONS)).toHaveLength(6);
  });
});

describe('versionsCompatible', () => {
  it('follows semver, with 0.x minors treated as breaking', () => {
    expect(versionsCompatible('1.2.3', '1.9.0')).toBe(true);
    expect(versionsCompatible('1.2.3', '2.0.0')).toBe(false);
    expect(versionsCompatible('0.1.0', '0.1.7')).toBe(true);
    expect(versionsCompatible('0.1.0', '0.2.0')).toBe(false);
    expect(versionsCompatible('0.1.0-beta.1', '0.1.0')).toBe(true);
  });
  it('lists the incompatible packages only', () => {
    expect(incompatibleVersions({ a: '0.1.0', b: '1.0.0', c: '3.0.0' }, { a: '0.2.0', b: '1.4.0' })).toEqual([
      { name: 'a', artifact: '0.1.0', current: '0.2.0' },
    ]);
  });
});
