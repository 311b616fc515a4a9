import { describe, expect, it } from 'vitest';
import { describeFeatureDifference, featureFingerprint } from './feature-diff.js';

describe('describeFeatureDifference', () => {
  it('is null for equal lists', () => {
    expect(describeFeatureDifference(['a', 'b'], ['a', 'b'])).toBeNull();
  });
  it('names the first differing position and both names', () => {
    const a = Array.from({ length: 20 }, (_, i) => `f${i}`);
    const b = [...a];
    b[12] = 'rsi_21';
    a[12] = 'rsi_14';
    expect(describeFeatureDifference(a, b)).toBe("feature 12 is 'rsi_14' in the artifact but 'rsi_21' in this feature set");
  });
  it('counts further differences and reports a reorder', () => {
    expect(describeFeatureDifference(['a', 'b', 'c'], ['b', 'a', 'c'])).toBe(
      "feature 0 is 'a' in the artifact but 'b' in this feature set (1 more position differ)",
    );
  });
  it('reports different lengths and the names only on one side', () => {
    const msg = describeFeatureDifference(['a', 'b', 'c'], ['a', 'b'], 'X', 'Y');
    expect(msg).toBe("X has 3 features but Y has 2; only in X: 'c'");
  });
});

describe('featureFingerprint', () => {
  it('depends on names and order', () => {
    expect(featureFingerprint(['a', 'b'])).toMatch(/^[0-9a-f]{64}$/);
    expect(featureFingerprint(['a', 'b'])).toBe(featureFingerprint(['a', 'b']));
    expect(featureFingerprint(['a', 'b'])).not.toBe(featureFingerprint(['b', 'a']));
    expect(featureFingerprint(['ab'])).not.toBe(featureFingerprint(['a', 'b']));
  });
});
