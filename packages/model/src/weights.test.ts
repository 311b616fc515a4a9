import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactError } from '@task-agnostic/core';
import { initBackend, tf } from '@task-agnostic/tf';
import { assignWeights, decodeWeights, encodeWeights, sha256Hex } from './weights.js';

beforeAll(async () => {
  await initBackend({ quiet: true });
});

describe('weights file', () => {
  const vars: tf.Variable[] = [];
  afterAll(() => vars.forEach((v) => v.dispose()));

  it('lays variables out back to back, little-endian float32, with a manifest and sha256', () => {
    const a = tf.variable(tf.tensor2d([[1, 2, 3], [4, 5, 6]]), true, 'wt_a');
    const b = tf.variable(tf.tensor1d([-0.5]), true, 'wt_b');
    const c = tf.variable(tf.tensor1d([7.25, 1e-30]), true, 'wt_c');
    vars.push(a, b, c);
    const { bytes, manifest } = encodeWeights([
      { group: 'encoder', variables: [a, b], names: ['l0/w', 'l0/b'] },
      { group: 'head:x', variables: [c] },
    ]);
    expect(bytes.byteLength).toBe(9 * 4);
    const dv = new DataView(bytes.buffer);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => dv.getFloat32(i * 4, true))).toEqual([1, 2, 3, 4, 5, 6, -0.5, 7.25, Math.fround(1e-30)]);
    expect(manifest.entries).toEqual([
      { group: 'encoder', index: 0, name: 'l0/w', shape: [2, 3], dtype: 'float32', offset: 0 },
      { group: 'encoder', index: 1, name: 'l0/b', shape: [1], dtype: 'float32', offset: 24 },
      { group: 'head:x', index: 0, name: 'wt_c', shape: [2], dtype: 'float32', offset: 28 },
    ]);
    expect(manifest.sha256).toBe(sha256Hex(bytes));
    expect(manifest.byteLength).toBe(36);

    const groups = decodeWeights(bytes, manifest);
    expect(Array.from(groups.get('encoder')![0]!)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(groups.get('head:x')![0]!)).toEqual([7.25, Math.fround(1e-30)]);

    // Unaligned input (a Buffer slice) decodes the same.
    const shifted = new Uint8Array(bytes.byteLength + 1).subarray(1);
    shifted.set(bytes);
    expect(Array.from(decodeWeights(shifted, manifest).get('encoder')![1]!)).toEqual([-0.5]);
  });

  it('rejects a truncated, padded or altered file, saying which', () => {
    const a = tf.variable(tf.tensor1d([1, 2, 3, 4]), true, 'wt_d');
    vars.push(a);
    const { bytes, manifest } = encodeWeights([{ group: 'encoder', variables: [a] }]);
    expect(() => decodeWeights(bytes.subarray(0, 12), manifest)).toThrow(/weights\.bin is 12 bytes but model\.json says 16 \(truncated\?\)/);
    expect(() => decodeWeights(new Uint8Array(20), manifest)).toThrow(/20 bytes but model\.json says 16 \(extra bytes\?\)/);
    const flipped = Uint8Array.from(bytes);
    flipped[5]! ^= 1;
    expect(() => decodeWeights(flipped, manifest)).toThrow(ArtifactError);
    expect(() => decodeWeights(flipped, manifest)).toThrow(/corrupted: its sha256 is [0-9a-f]{64} but model\.json says/);
    const outside = { ...manifest, entries: [{ ...manifest.entries[0]!, shape: [5] }] };
    expect(() => decodeWeights(bytes, outside)).toThrow(/lies outside weights\.bin/);
  });

  it('assigns values after checking count, names and shapes', () => {
    const src = tf.variable(tf.tensor2d([[1, 2], [3, 4]]), true, 'wt_src');
    const dst = tf.variable(tf.zeros([2, 2]), true, 'wt_dst');
    const wrong = tf.variable(tf.zeros([4]), true, 'wt_wrong');
    vars.push(src, dst, wrong);
    const { bytes, manifest } = encodeWeights([{ group: 'encoder', variables: [src], names: ['l/w'] }]);
    const values = decodeWeights(bytes, manifest).get('encoder');
    expect(() => assignWeights({ group: 'encoder', variables: [wrong] }, values, manifest.entries)).toThrow(
      "encoder weight 0 ('wt_wrong') has shape [2,2] in the artifact but [4] in the model built from its config",
    );
    expect(() => assignWeights({ group: 'encoder', variables: [dst, wrong] }, values, manifest.entries)).toThrow(
      'encoder has 1 weight tensors in the artifact but 2 in the model built from its config',
    );
    expect(() => assignWeights({ group: 'encoder', variables: [dst], names: ['l/b'] }, values, manifest.entries)).toThrow(
      "encoder weight 0 is 'l/w' in the artifact but 'l/b' in the model built from its config",
    );
    expect(Array.from(dst.dataSync())).toEqual([0, 0, 0, 0]);
    const before = tf.memory().numTensors;
    assignWeights({ group: 'encoder', variables: [dst], names: ['l/w'] }, values, manifest.entries);
    expect(Array.from(dst.dataSync())).toEqual([1, 2, 3, 4]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
