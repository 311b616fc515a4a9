import { describe, expect, it } from 'vitest';
import { ConfigError } from '@task-agnostic/core';
import { DEFAULT_TASK_IDS, DEFAULT_WINDOW_LENGTH, parseModelConfig } from './config.js';

describe('parseModelConfig', () => {
  it('fills the defaults (window 96 and the 4-task variant)', () => {
    const c = parseModelConfig({ encoder: { type: 'mlp' } });
    expect(c.windowLength).toBe(DEFAULT_WINDOW_LENGTH);
    expect(c.windowLength).toBe(96);
    expect(c.tasks.map((t) => t.id)).toEqual([...DEFAULT_TASK_IDS]);
    expect(c.seed).toBe(0);
  });
  it('accepts task ids or {id, config}', () => {
    const c = parseModelConfig({ encoder: {}, tasks: ['direction', { id: 'return', config: { horizon: 8 } }] });
    expect(c.tasks).toEqual([{ id: 'direction' }, { id: 'return', config: { horizon: 8 } }]);
  });
  it('names the bad field', () => {
    const err = (json: unknown) => {
      try {
        parseModelConfig(json);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(err({ encoder: {}, windowLength: 0 })).toMatch(/^windowLength: /);
    expect(err({ encoder: {}, windowLength: 1.5 })).toMatch(/^windowLength: /);
    expect(err({ encoder: {}, tasks: ['risk', 'risk'] })).toBe("tasks.1.id: duplicate task id 'risk'");
    expect(err({ encoder: {}, tasks: [] })).toMatch(/^tasks: a model needs at least one task/);
    expect(err({ windowLength: 8 })).toMatch(/^encoder: /);
    expect(err({ encoder: {}, bogus: 1 })).toMatch(/bogus/);
    expect(err({ encoder: {}, seed: -1 })).toMatch(/^seed: /);
  });
});
