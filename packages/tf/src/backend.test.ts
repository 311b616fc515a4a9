import { describe, expect, it } from 'vitest';
import { initBackend, parseBackendPreference, tf } from './backend.js';

describe('backend selection', () => {
  it('falls back from tfjs-node to wasm (or cpu), announces once, and computes correctly', async () => {
    const lines: string[] = [];
    const info = await initBackend({ quiet: false, log: (l) => lines.push(l) });
    await initBackend({ quiet: false, log: (l) => lines.push(l) });
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name);
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/^\[tfjs\] backend: (tensorflow|wasm|cpu) \(/);
    if (info.name !== 'tensorflow') expect(info.note).toMatch(/tfjs-node/);
    const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync());
    expect(Array.from(y)).toEqual([17, 39]);
  });

  it('parses preferences and rejects unknown names', () => {
    expect(parseBackendPreference('node')).toBe('tensorflow');
    expect(parseBackendPreference('WASM')).toBe('wasm');
    expect(() => parseBackendPreference('gpu')).toThrow(/unknown backend 'gpu'/);
  });
});
