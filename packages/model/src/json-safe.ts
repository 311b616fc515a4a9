/**
 * Checks that a value survives JSON.stringify -> JSON.parse unchanged, so what goes into
 * model.json is what comes back: no NaN/Infinity (they become null), typed arrays (they become
 * objects with "0", "1" keys), Map/Set (they become {}), functions, undefined array items or
 * class instances.
 */
import { ArtifactError } from '@task-agnostic/core';

/** Throws an ArtifactError naming the first value at `path` that JSON would not round-trip. */
export function assertJsonSafe(value: unknown, path: string): void {
  const fail = (at: string, what: string): never => {
    throw new ArtifactError(`${at} is ${what}, which JSON cannot store faithfully (model.json would not round-trip)`);
  };
  const walk = (v: unknown, at: string): void => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) fail(at, String(v));
      return;
    }
    if (typeof v !== 'object') fail(at, `a ${typeof v}`);
    if (ArrayBuffer.isView(v)) fail(at, `a ${v!.constructor.name} (use a plain array)`);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        if (v[i] === undefined) fail(`${at}[${i}]`, 'undefined');
        walk(v[i], `${at}[${i}]`);
      }
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) fail(at, `an instance of ${(v as object).constructor?.name ?? 'a class'}`);
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === undefined) continue; // dropped by JSON, as absent
      walk(x, `${at}.${k}`);
    }
  };
  walk(value, path);
}
