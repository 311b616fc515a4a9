import { describe, expect, it } from 'vitest';
import { initBackend, parseBackendPreference, tf, tfjsNodeState } from './backend.js';

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

  it("tells tfjs-node's state without loading it, as loading it would", async () => {
    const state = tfjsNodeState();
    // the independent answer: import it (what initBackend no longer does when the binary is absent)
    let loadError = '';
    try {
      await import('@tensorflow/tfjs-node' as string);
    } catch (err) {
      loadError = (err as Error).message;
    }
    if (state === 'no-package') expect(loadError).toMatch(/Cannot find (module|package)/);
    if (state === 'no-binary') expect(loadError).toMatch(/tfjs_binding/);
    if (/can not be found/.test(loadError)) expect(state).toBe('no-binary');
    if (loadError === '') expect(state).toBe('maybe');
  });
});
