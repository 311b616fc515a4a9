import { describe, expect, it } from 'vitest';
import { ArtifactError } from '@task-agnostic/core';
import { assertJsonSafe } from './json-safe.js';

describe('assertJsonSafe', () => {
  it('accepts plain JSON data', () => {
    const v = { a: [1, -2.5, 'x', null, true, { b: [] }], c: undefined, d: { e: 0 } };
    expect(() => assertJsonSafe(v, 'state')).not.toThrow();
    expect(JSON.parse(JSON.stringify(v))).toEqual({ a: [1, -2.5, 'x', null, true, { b: [] }], d: { e: 0 } });
  });
  it('names the first value JSON would change', () => {
    const cases: [unknown, string][] = [
      [{ q: [0.1, NaN] }, 'tasks.risk.state.q[1] is NaN'],
      [{ q: Infinity }, 'tasks.risk.state.q is Infinity'],
      [{ grid: new Float64Array(2) }, 'tasks.risk.state.grid is a Float64Array (use a plain array)'],
      [{ m: new Map() }, 'tasks.risk.state.m is an instance of Map'],
      [{ f: () => 1 }, 'tasks.risk.state.f is a function'],
      [{ a: [1, undefined] }, 'tasks.risk.state.a[1] is undefined'],
    ];
    for (const [v, msg] of cases) {
      expect(() => assertJsonSafe(v, 'tasks.risk.state')).toThrow(ArtifactError);
      expect(() => assertJsonSafe(v, 'tasks.risk.state')).toThrow(msg);
    }
  });
});
