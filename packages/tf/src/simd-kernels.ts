/**
 * A matrix product in WebAssembly SIMD (f32x4), working in place in the memory of the tfjs wasm
 * backend (the module's exported memory, imported by this one): register-tiled (4 rows x 8
 * columns of accumulators, one splat of A and two vector loads of B per step of the inner
 * dimension), reading A through arbitrary strides (so a transposed A costs nothing) and B through a
 * row stride (a transposed B is first packed into a scratch area), bias and ReLU applied as each
 * tile is stored. simd-matmul.ts runs every wasm product through it, attention.ts the per-head
 * products of attention; softmaxBackward is attention's fused softmax gradient.
 *
 *   gemm(a, b, c, M, N, K, sAi, sAk, sB, sC, bias, relu):  C[i, j] = act(sum_k A(i, k) B(k, j) + bias[j])
 *     A(i, k) at a + i*sAi + k*sAk, B(k, j) at b + k*sB + 4j, C[i, j] at c + i*sC + 4j (bytes);
 *     bias: address of N floats or 0 (none); relu: 1 = max(., 0), 0 = linear
 *   pack(src, dst, K, N, sK, sN):              dst[k*N + j] = src(k, j) at src + k*sK + j*sN
 *   softmaxBackward(p, dp, out, rows, L, scale): per row of L, out = scale * p * (dp - sum(p * dp))
 *     (the gradient of softmax(scale * s) with respect to s, given its output p and dp)
 *
 * Summation runs over k in order for every output, as in a naive loop (float32 products and sums).
 */
import { FuncBuilder, ValType, type WasmMemory, assembleModule, instantiate } from './wasm-assembler.js';

const { I32, F32, V128 } = ValType;

/** Rows and column vectors (of 4) of the main tile. */
const ROWS = 4;
const VECS = 2;

function gemmFunc(): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [a, b, c, M, N, K, sAi, sAk, sB, sC, bias, relu] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const i = f.local(I32);
  const j = f.local(I32);
  const k = f.local(I32);
  const pb = f.local(I32);
  const pc = f.local(I32);
  const pa = Array.from({ length: ROWS }, () => f.local(I32));
  const acc = Array.from({ length: ROWS }, () => Array.from({ length: VECS }, () => f.local(V128)));
  const bv = Array.from({ length: VECS }, () => f.local(V128));
  const s = f.local(V128);
  const facc = Array.from({ length: ROWS }, () => f.local(F32));
  const fb = f.local(F32);

  /** R rows from i, V vectors (V = 0: one scalar column) from j. */
  const tile = (R: number, V: number) => {
    for (let r = 0; r < R; r++) {
      f.get(a).get(i);
      if (r > 0) f.i32(r).i32Add();
      f.get(sAi).i32Mul().i32Add().set(pa[r]!);
    }
    f.get(b).get(j).i32(2).i32Shl().i32Add().set(pb);
    for (let r = 0; r < R; r++) {
      if (V === 0) f.f32Const0().set(facc[r]!);
      else for (let v = 0; v < V; v++) f.v128Zero().set(acc[r]![v]!);
    }
    f.get(K).set(k);
    f.loop();
    if (V === 0) {
      f.get(pb).f32Load().set(fb);
      for (let r = 0; r < R; r++) {
        f.get(facc[r]!).get(pa[r]!).f32Load().get(fb).f32Mul().f32Add().set(facc[r]!);
        f.addLocal(pa[r]!, sAk);
      }
    } else {
      for (let v = 0; v < V; v++) f.get(pb).v128Load(16 * v).set(bv[v]!);
      for (let r = 0; r < R; r++) {
        f.get(pa[r]!).v128Load32Splat().set(s);
        for (let v = 0; v < V; v++) f.get(acc[r]![v]!).get(s).get(bv[v]!).f32x4Mul().f32x4Add().set(acc[r]![v]!);
        f.addLocal(pa[r]!, sAk);
      }
    }
    f.addLocal(pb, sB);
    f.get(k).i32(1).i32Sub().tee(k).brIf(0);
    f.end();
    // epilogue: + bias[j..] when bias != 0, then max(., 0) when relu != 0
    f.get(bias).if();
    if (V === 0) {
      f.get(bias).get(j).i32(2).i32Shl().i32Add().f32Load().set(fb);
      for (let r = 0; r < R; r++) f.get(facc[r]!).get(fb).f32Add().set(facc[r]!);
    } else {
      for (let v = 0; v < V; v++) f.get(bias).get(j).i32(2).i32Shl().i32Add().v128Load(16 * v).set(bv[v]!);
      for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) f.get(acc[r]![v]!).get(bv[v]!).f32x4Add().set(acc[r]![v]!);
    }
    f.end();
    f.get(relu).if();
    if (V === 0) for (let r = 0; r < R; r++) f.get(facc[r]!).f32Const0().f32Max().set(facc[r]!);
    else for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) f.get(acc[r]![v]!).v128Zero().f32x4Max().set(acc[r]![v]!);
    f.end();
    // store: pc = c + i*sC + 4j, then one row stride per row
    f.get(c).get(i).get(sC).i32Mul().i32Add().get(j).i32(2).i32Shl().i32Add().set(pc);
    for (let r = 0; r < R; r++) {
      if (V === 0) f.get(pc).get(facc[r]!).f32Store();
      else for (let v = 0; v < V; v++) f.get(pc).get(acc[r]![v]!).v128Store(16 * v);
      if (r < R - 1) f.addLocal(pc, sC);
    }
  };

  /** All columns of R rows from i: 8-wide tiles, one 4-wide, then single columns. */
  const rowBlock = (R: number) => {
    f.i32(0).set(j);
    f.block().loop();
    f.get(j).i32(4 * VECS).i32Add().get(N).i32GtU().brIf(1);
    tile(R, VECS);
    f.addConst(j, 4 * VECS).br(0);
    f.end().end();
    if (VECS > 1) {
      f.get(j).i32(4).i32Add().get(N).i32GtU().i32Eqz().if();
      tile(R, 1);
      f.addConst(j, 4);
      f.end();
    }
    f.block().loop();
    f.get(j).get(N).i32GeU().brIf(1);
    tile(R, 0);
    f.addConst(j, 1).br(0);
    f.end().end();
  };

  f.i32(0).set(i);
  f.block().loop();
  f.get(i).i32(ROWS).i32Add().get(M).i32GtU().brIf(1);
  rowBlock(ROWS);
  f.addConst(i, ROWS).br(0);
  f.end().end();
  f.block().loop();
  f.get(i).get(M).i32GeU().brIf(1);
  rowBlock(1);
  f.addConst(i, 1).br(0);
  f.end().end();
  return f;
}

function packFunc(): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, I32]);
  const [src, dst, K, N, sK, sN] = [0, 1, 2, 3, 4, 5];
  const k = f.local(I32);
  const j = f.local(I32);
  const p = f.local(I32);
  f.get(K).set(k);
  f.loop();
  f.get(src).set(p);
  f.get(N).set(j);
  f.loop();
  f.get(dst).get(p).f32Load().f32Store();
  f.addConst(dst, 4).addLocal(p, sN);
  f.get(j).i32(1).i32Sub().tee(j).brIf(0);
  f.end();
  f.addLocal(src, sK);
  f.get(k).i32(1).i32Sub().tee(k).brIf(0);
  f.end();
  return f;
}

function softmaxBackwardFunc(): FuncBuilder {
  const f = new FuncBuilder([I32, I32, I32, I32, I32, F32]);
  const [p, dp, out, rows, L, scale] = [0, 1, 2, 3, 4, 5];
  const r = f.local(I32);
  const j = f.local(I32);
  const pp = f.local(I32);
  const pd = f.local(I32);
  const po = f.local(I32);
  const dotV = f.local(V128);
  const dotS = f.local(F32);
  const dotSplat = f.local(V128);
  const scaleSplat = f.local(V128);
  f.get(scale).f32x4Splat().set(scaleSplat);
  f.get(rows).set(r);
  f.block().loop();
  f.get(r).i32Eqz().brIf(1);
  // pass 1: dot = sum p * dp (4 lanes, then the tail)
  f.v128Zero().set(dotV);
  f.get(p).set(pp).get(dp).set(pd).i32(0).set(j);
  f.block().loop();
  f.get(j).i32(4).i32Add().get(L).i32GtU().brIf(1);
  f.get(dotV).get(pp).v128Load().get(pd).v128Load().f32x4Mul().f32x4Add().set(dotV);
  f.addConst(pp, 16).addConst(pd, 16).addConst(j, 4).br(0);
  f.end().end();
  f.get(dotV).f32x4ExtractLane(0).get(dotV).f32x4ExtractLane(1).f32Add().get(dotV).f32x4ExtractLane(2).f32Add().get(dotV).f32x4ExtractLane(3).f32Add().set(dotS);
  f.block().loop();
  f.get(j).get(L).i32GeU().brIf(1);
  f.get(dotS).get(pp).f32Load().get(pd).f32Load().f32Mul().f32Add().set(dotS);
  f.addConst(pp, 4).addConst(pd, 4).addConst(j, 1).br(0);
  f.end().end();
  // pass 2: out = scale * p * (dp - dot)
  f.get(dotS).f32x4Splat().set(dotSplat);
  f.get(p).set(pp).get(dp).set(pd).get(out).set(po).i32(0).set(j);
  f.block().loop();
  f.get(j).i32(4).i32Add().get(L).i32GtU().brIf(1);
  f.get(po).get(scaleSplat).get(pp).v128Load().f32x4Mul().get(pd).v128Load().get(dotSplat).f32x4Sub().f32x4Mul().v128Store();
  f.addConst(pp, 16).addConst(pd, 16).addConst(po, 16).addConst(j, 4).br(0);
  f.end().end();
  f.block().loop();
  f.get(j).get(L).i32GeU().brIf(1);
  f.get(po).get(scale).get(pp).f32Load().f32Mul().get(pd).f32Load().get(dotS).f32Sub().f32Mul().f32Store();
  f.addConst(pp, 4).addConst(pd, 4).addConst(po, 4).addConst(j, 1).br(0);
  f.end().end();
  // next row
  f.get(L).i32(2).i32Shl().set(j);
  f.addLocal(p, j).addLocal(dp, j).addLocal(out, j);
  f.get(r).i32(1).i32Sub().set(r).br(0);
  f.end().end();
  return f;
}

export interface SimdGemm {
  /** C = act(A B + bias) for one matrix (byte addresses and strides in the shared memory; bias 0 = none, relu 1/0); M, N, K >= 1. */
  gemm(a: number, b: number, c: number, m: number, n: number, k: number, sAi: number, sAk: number, sB: number, sC: number, bias: number, relu: number): void;
  /** dst [K, N] row-major from src(k, j) at src + k*sK + j*sN; K, N >= 1. */
  pack(src: number, dst: number, k: number, n: number, sK: number, sN: number): void;
  /** out = scale * p * (dp - rowsum(p * dp)) over `rows` contiguous rows of `l` floats. */
  softmaxBackward(p: number, dp: number, out: number, rows: number, l: number, scale: number): void;
}

let bytes: Uint8Array | null = null;

/** The module's binary (generated once). */
export function simdGemmBinary(): Uint8Array {
  bytes ??= assembleModule([
    { name: 'gemm', fn: gemmFunc() },
    { name: 'pack', fn: packFunc() },
    { name: 'softmaxBackward', fn: softmaxBackwardFunc() },
  ]);
  return bytes;
}

/**
 * The kernels instantiated on `memory` (the tfjs wasm module's), or null where WebAssembly SIMD
 * is unavailable or the memory is shared (the threaded build).
 */
export function instantiateSimdGemm(memory: WasmMemory): SimdGemm | null {
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return null;
  try {
    return instantiate(simdGemmBinary(), memory) as unknown as SimdGemm;
  } catch {
    return null;
  }
}
