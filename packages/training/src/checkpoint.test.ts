import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'tat-ck-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('checkpoint files', () => {
  it('round-trips blocks and state exactly', async () => {
    const dir = tmp();
    expect(hasCheckpoint(dir)).toBe(false);
    const a = Float32Array.from([1.5, -2, Math.PI]);
    const b = Float32Array.from([0.1]);
    await saveCheckpoint(dir, { epoch: 3, globalStep: 40, rng: { seed: 1, epoch: 4, step: 40 }, state: { x: [1, 2], s: 'k' } }, { variables: [{ name: 'w', shape: [3], data: a }], 'adam.m': [{ name: 'w/m', shape: [1, 1], data: b }] });
    expect(hasCheckpoint(dir)).toBe(true);
    const ck = await loadCheckpoint(dir);
    expect(ck.meta.epoch).toBe(3);
    expect(ck.meta.state).toEqual({ x: [1, 2], s: 'k' });
    expect(Array.from(ck.groups.variables![0]!.data)).toEqual(Array.from(a));
    expect(ck.groups['adam.m']![0]!.shape).toEqual([1, 1]);
    expect(ck.groups['adam.m']![0]!.data[0]).toBe(b[0]);
  });

  it('names a truncated weights file and a malformed manifest', async () => {
    const dir = tmp();
    await saveCheckpoint(dir, { epoch: 0, globalStep: 1, rng: { seed: 1, epoch: 1, step: 1 }, state: {} }, { variables: [{ name: 'w', shape: [4], data: new Float32Array(4) }] });
    truncateSync(path.join(dir, 'checkpoint.bin'), 8);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/holds 8 bytes, its manifest says 16/);
    writeFileSync(path.join(dir, 'checkpoint.json'), '{"version": 1,');
    await expect(loadCheckpoint(dir)).rejects.toThrow(/cannot read checkpoint/);
    writeFileSync(path.join(dir, 'checkpoint.json'), '{"version": 99}');
    await expect(loadCheckpoint(dir)).rejects.toThrow(/version 99/);
  });
});
