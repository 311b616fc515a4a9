import { describe, expect, it } from 'vitest';
import { FuncBuilder, ValType, assembleModule, instantiate, sleb, uleb, wasmApi } from './wasm-assembler.js';

describe('wasm assembler', () => {
  it('encodes LEB128 as the specification examples', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it('assembles a module that validates and runs on an imported memory (SIMD add of two vectors)', () => {
    const f = new FuncBuilder([ValType.I32, ValType.I32, ValType.I32]); // dst = x + y, 4 floats
    f.get(0).get(1).v128Load().get(2).v128Load().f32x4Add().v128Store();
    const bytes = assembleModule([{ name: 'add4', fn: f }]);
    expect(wasmApi()!.validate(bytes)).toBe(true);
    const memory = new (wasmApi()!.Memory)({ initial: 1 });
    const add4 = (instantiate(bytes, memory) as unknown as { add4(d: number, x: number, y: number): void }).add4;
    const v = new Float32Array(memory.buffer);
    v.set([1, 2, 3, 4, 10, 20, 30, 40], 4);
    add4(64, 16, 32);
    expect(Array.from(v.subarray(16, 20))).toEqual([11, 22, 33, 44]);
  });
});
