/**
 * Shared pieces of this package's tests (not part of the package's API: index.ts does not export it).
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { initBackend, tf } from './backend.js';

export interface TestBackendOptions {
  /** Switch to this backend for the file (the test fails if it does not start); default: what initBackend picked. */
  readonly use?: 'wasm' | 'cpu';
  /** Run after the file's tests, before the previous backend is restored (e.g. turn a lever back on). */
  readonly restore?: () => void;
}

/**
 * Registers hooks that start wasm (or the best backend that starts) for the test file and, after
 * it, run `restore` and switch back to the backend that ran before.
 */
export function useTestBackend(options: TestBackendOptions = {}): void {
  let previous = 'cpu';
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    previous = tf.getBackend();
    if (options.use) expect(await tf.setBackend(options.use)).toBe(true);
  });
  afterAll(async () => {
    options.restore?.();
    await tf.setBackend(previous);
  });
}
