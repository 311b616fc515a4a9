import { describe, expect, it } from 'vitest';
import { instantiateSimdGemm } from './simd-kernels.js';
import { wasmApi } from './wasm-assembler.js';

/** A naive triple loop over the same strided layout: the independent reference. */
function naive(f: Float32Array, a: number, b: number, m: number, n: number, k: number, sAi: number, sAk: number, sB: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += f[(a + i * sAi + p * sAk) >> 2]! * f[(b + p * sB + j * 4) >> 2]!;
      out[i * n + j] = s;
    }
  return out;
}

describe('SIMD gemm kernel', () => {
  const memory = new (wasmApi()!.Memory)({ initial: 4 });
  const g = instantiateSimdGemm(memory)!;

  it('instantiates (WebAssembly SIMD in this Node)', () => {
    expect(g).not.toBeNull();
  });

  it.each([
    // M, N, K: tiles of 4x8 with every tail (rows % 4, a 4-wide block, single columns)
    [1, 1, 1],
    [4, 8, 3],
    [7, 13, 5],
    [12, 12, 16],
    [9, 21, 2],
    [96, 16, 96],
  ])('C = A B for M %i, N %i, K %i, plain and transposed A, strided C, within 1e-5', (m, n, k) => {
    const f = new Float32Array(memory.buffer);
    const A = 0;
    const B = 64 * 1024;
    const C = 128 * 1024;
    for (let i = 0; i < m * k; i++) f[(A >> 2) + i] = Math.sin(1.3 * i + 0.1);
    for (let i = 0; i < k * n; i++) f[(B >> 2) + i] = Math.cos(0.7 * i);
    for (const transA of [false, true]) {
      const sAi = transA ? 4 : 4 * k;
      const sAk = transA ? 4 * m : 4;
      const sC = 4 * (n + 3); // a row stride wider than the row: the padding must stay untouched
      f.fill(-7, C >> 2, (C >> 2) + m * (n + 3));
      g.gemm(A, B, C, m, n, k, sAi, sAk, 4 * n, sC, 0, 0);
      const want = naive(f, A, B, m, n, k, sAi, sAk, 4 * n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) expect(Math.abs(f[(C >> 2) + i * (n + 3) + j]! - want[i * n + j]!)).toBeLessThan(1e-5);
        for (let j = n; j < n + 3; j++) expect(f[(C >> 2) + i * (n + 3) + j]).toBe(-7);
      }
    }
  });

  it('matches a hand-computed 2x2 product exactly', () => {
    const f = new Float32Array(memory.buffer);
    f.set([1, 2, 3, 4], 0); // A = [[1,2],[3,4]]
    f.set([5, 6, 7, 8], 16); // B = [[5,6],[7,8]]
    g.gemm(0, 64, 128, 2, 2, 2, 8, 4, 8, 8, 0, 0);
    expect(Array.from(f.subarray(32, 36))).toEqual([19, 22, 43, 50]);
  });

  it('packs a strided matrix (a transpose) row-major', () => {
    const f = new Float32Array(memory.buffer);
    f.set([1, 2, 3, 4, 5, 6], 0); // X [2, 3]; X^T [3, 2] = [[1,4],[2,5],[3,6]]
    g.pack(0, 64, 3, 2, 4, 12);
    expect(Array.from(f.subarray(16, 22))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it.each([[1], [3], [4], [12], [13], [96]])('softmaxBackward over rows of %i equals the formula (hand loop), within 1e-6', (l) => {
    const f = new Float32Array(memory.buffer);
    const rows = 5;
    const P = 0;
    const DP = 16 * 1024;
    const OUT = 32 * 1024;
    for (let r = 0; r < rows; r++) {
      let z = 0;
      for (let j = 0; j < l; j++) z += Math.exp(Math.sin(r + 0.3 * j));
      for (let j = 0; j < l; j++) {
        f[(P >> 2) + r * l + j] = Math.exp(Math.sin(r + 0.3 * j)) / z;
        f[(DP >> 2) + r * l + j] = Math.cos(2 * r + j);
      }
    }
    g.softmaxBackward(P, DP, OUT, rows, l, 0.25);
    for (let r = 0; r < rows; r++) {
      let dot = 0;
      for (let j = 0; j < l; j++) dot += f[(P >> 2) + r * l + j]! * f[(DP >> 2) + r * l + j]!;
      for (let j = 0; j < l; j++) {
        const want = 0.25 * f[(P >> 2) + r * l + j]! * (f[(DP >> 2) + r * l + j]! - dot);
        expect(Math.abs(f[(OUT >> 2) + r * l + j]! - want)).toBeLessThan(1e-6);
      }
    }
  });
});
