/** A fingerprint of a feature set, so a saved model can check it sees the same features. */
import { createHash } from 'node:crypto';
import { featureNames } from './catalog.js';
import { DEFAULT_FEATURE_SET, type FeatureSetConfig } from './config.js';

/** Canonical JSON: keys sorted at every level. */
function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(x);
}

/** Algorithm version: bump when a kernel's numbers change, so old models refuse the new features. */
export const FEATURES_ALGORITHM_VERSION = 1;

/**
 * sha256 (hex, first 16 chars) of the algorithm version, the column names in order and every
 * parameter. Two configs with the same hash produce the same columns with the same definitions.
 */
export function featureSetHash(config: FeatureSetConfig = DEFAULT_FEATURE_SET): string {
  const body = canonical({ algorithm: FEATURES_ALGORITHM_VERSION, names: featureNames(config), features: config.features });
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}
